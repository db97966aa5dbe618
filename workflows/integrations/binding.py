"""Credentials bound to their integration (issue 25): an integration's auth, static headers and named secrets go only
to its own origin (scheme, host and port), and only a step that names the integration may place them.

- A step that names an integration may call only that integration's origin: its base URL's (for Slack and Twilio,
  the provider's default base when the integration has none). An absolute URL to another origin is refused when the
  workflow is saved (the definition validator, so API, admin and import alike) and again when the request is sent.
- A step that names no integration reads no secret: `{{ secrets.NAME }}` there is refused on save and at render.
- `secrets.NAME` are the named secrets of the step's own integration, no other's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from jinja2 import TemplateError, nodes

from workflows.engine import sandbox
from workflows.outbound.ssrf import BlockedDestination

DEFAULT_PORTS = {"http": 80, "https": 443}
NO_INTEGRATION_SECRETS = (
    "Only a step that names an integration may read secrets, and only that integration's: "
    "add the integration to this step."
)


class ForeignDestination(BlockedDestination):
    """A request naming an integration would carry its credentials to another origin."""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, with the scheme's default port filled in."""
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower().rstrip("."), port or DEFAULT_PORTS.get(parts.scheme)


def origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def is_absolute(url: str) -> bool:
    return url.strip().lower().startswith(("http://", "https://"))


def bound_base(integration: Any, default_base: str = "") -> str:
    """The base URL an integration's credentials are bound to ("" when it has none)."""
    return (getattr(integration, "base_url", "") or default_base or "").strip()


def check_bound(integration: Any, url: str, default_base: str = "") -> None:
    """Raise ForeignDestination unless `url` is on the integration's own origin (checked at send time)."""
    base = bound_base(integration, default_base)
    if not base:
        raise ForeignDestination(
            f'Integration "{integration.name}" has no base URL, so its credentials go nowhere: give it one.'
        )
    parts = urlsplit(url.strip())
    if "\\" in parts.netloc or "@" in parts.netloc or origin(url) != origin(base):
        raise ForeignDestination(
            f'Integration "{integration.name}" may only call {origin_text(base)}, not {origin_text(url)}.'
        )


def url_binding_error(integration: Any, url: str, *, may_be_path: bool = False, default_base: str = "") -> str | None:
    """Save-time check of a step's url with an integration: the origin must be written out (not templated) and be
    the integration's own. A `path` (may_be_path) that starts templated is checked when sent. None when fine."""
    head = url.strip()
    cut = min((head.find(mark) for mark in ("{{", "{%", "{#") if mark in head), default=-1)
    if not is_absolute(head) and (cut != 0 or may_be_path):
        return None  # a path: joined to the base URL (and checked again when sent)
    literal = head if cut < 0 else head[:cut]
    scheme_end = literal.find("://")
    authority_end = literal.find("/", scheme_end + 3) if scheme_end >= 0 else -1
    if scheme_end < 0 or (cut >= 0 and authority_end < 0):
        return (
            "With an integration, the URL's scheme and host are written out (or give a path): a templated host "
            "could carry the integration's credentials elsewhere."
        )
    try:
        check_bound(integration, head, default_base)
    except ForeignDestination as exc:
        return str(exc)
    return None


def secrets_used(value: Any) -> tuple[bool, set[str]]:
    """Whether the templates inside `value` read `secrets`, and the names they read (`secrets.NAME`,
    `secrets["NAME"]`). Unparseable templates read nothing here (their syntax error is reported elsewhere)."""
    used, names = False, set()
    for text in _strings(value):
        if "secrets" not in text:
            continue
        try:
            tree = sandbox.environment().parse(text)
        except (TemplateError, RecursionError):
            continue
        for node in tree.find_all(nodes.Name):
            used = used or node.name == "secrets"
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            if isinstance(node.node, nodes.Name) and node.node.name == "secrets":
                name = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
                if isinstance(name, str):
                    names.add(name)
    return used, names


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    return []


def uses_secrets(config: dict, templated: tuple[str, ...]) -> bool:
    return any(secrets_used(config.get(key))[0] for key in templated)


def secret_errors(
    config: dict, templated: tuple[str, ...], integration: Any, *, names_integration: bool
) -> list[tuple[str, str]]:
    """Save-time check of `secrets.*` in a step's templated keys: refused without an integration; with one, a name
    that is another integration's secret (and not this one's) is refused, naming its owner. (A name no integration
    holds renders empty, as an unknown placeholder does.)"""
    errors = []
    for key in templated:
        used, names = secrets_used(config.get(key))
        if not used:
            continue
        if not names_integration:
            errors.append((key, NO_INTEGRATION_SECRETS))
            continue
        if integration is not None:
            foreign = sorted(names - set(integration.secret_names or ()))
            owners = _owners(foreign, integration) if foreign else {}
            errors += [
                (
                    key,
                    (
                        f'secrets.{name} belongs to integration "{owner}", not to "{integration.name}": a '
                        "step reads only the secrets of the integration it names."
                    ),
                )
                for name, owner in owners.items()
            ]
    return errors


def _owners(names: list[str], integration: Any) -> dict[str, str]:
    """Which other integration holds each of `names` (the first by id), for the ones some integration holds."""
    owners: dict[str, str] = {}
    for other in type(integration).objects.exclude(pk=integration.pk).order_by("pk").only("name", "secret_names"):
        for name in names:
            if name in (other.secret_names or ()):
                owners.setdefault(name, other.name)
    return owners
