"""Integrations (docs/managers.md): save them with encrypted secrets, rotate keys, find one by id or name, and send a
request through one (its static headers and auth, refreshing an OAuth2 token once on 401). How auth headers are made
lives in `auth`, reading and masking secrets in `secrets`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from workflows.integrations import binding
from workflows.integrations.auth import auth_headers
from workflows.integrations.crypto import decrypt_json, encrypt_json, rotate
from workflows.models import AuthType, Integration, Step, WorkflowVersion
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse, send
from workflows.outbound.ssrf import BlockedDestination, check_url, literal_resolver

# Which auth fields are secret (stored encrypted, never read back) and which are required, per auth type.
AUTH_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    AuthType.NONE: {"public": (), "secret": ()},
    AuthType.BASIC: {"public": ("username",), "secret": ("password",)},
    AuthType.BEARER: {"public": (), "secret": ("token",)},
    AuthType.HEADER: {"public": ("header",), "secret": ("value",)},
    AuthType.OAUTH2_CLIENT_CREDENTIALS: {"public": ("client_id", "token_url", "scope"), "secret": ("client_secret",)},
}
OPTIONAL_AUTH_FIELDS = {"scope"}


def _clean_auth(auth: Any, current: Integration | None) -> tuple[str, dict, dict]:
    kind = auth.get("type", AuthType.NONE) if isinstance(auth, dict) else None
    if not isinstance(kind, str) or kind not in AUTH_FIELDS:
        raise ValidationError({"auth": f"auth.type is one of: {', '.join(AUTH_FIELDS)}."})
    fields = AUTH_FIELDS[kind]
    keep_secret = current is not None and current.auth_type == kind
    old_secret = decrypt_json(current.auth_secret_encrypted, {}) if keep_secret else {}
    public = {name: str(auth.get(name, "")) for name in fields["public"] if auth.get(name) is not None}
    secret = {
        name: _clean_secret_value(str(auth[name]), f"auth.{name}") if auth.get(name) else old_secret.get(name, "")
        for name in fields["secret"]
    }
    missing = [
        name
        for name in (*fields["public"], *fields["secret"])
        if name not in OPTIONAL_AUTH_FIELDS and not (public.get(name) or secret.get(name))
    ]
    if missing:
        raise ValidationError({"auth": [f"auth.{name} is required for {kind}." for name in missing]})
    if kind == AuthType.OAUTH2_CLIENT_CREDENTIALS:
        _check_url_shape(public["token_url"], "auth")
    return kind, public, secret


def _check_url_shape(url: str, field: str) -> None:
    """An http(s) URL that the outbound rules let requests reach (docs/managers.md): an address that is loopback,
    private, link-local or metadata is refused on save unless its host is allowlisted; names are checked when
    sending."""
    if not url.startswith(("http://", "https://")):
        raise ValidationError({field: _("Use an http(s) URL.")})
    try:
        check_url(url, resolver=literal_resolver)
    except BlockedDestination as exc:
        raise ValidationError(
            {
                field: _(
                    "Outbound requests may not go there: %(reason)s Add the host to "
                    "HELPDESK_OUTBOUND_ALLOWLIST if it is meant to be reachable."
                )
                % {"reason": exc}
            }
        ) from exc


def _clean_headers(headers: Any) -> list[dict[str, str]]:
    if not isinstance(headers, list) or not all(
        isinstance(h, dict) and isinstance(h.get("key"), str) and h["key"].strip() and isinstance(h.get("value"), str)
        for h in headers
    ):
        raise ValidationError({"headers": 'Headers are a list of {"key": "...", "value": "..."}.'})
    return [{"key": h["key"].strip(), "value": h["value"]} for h in headers]


def _clean_secrets(secrets: Any) -> dict[str, str]:
    if not isinstance(secrets, dict) or not all(
        isinstance(k, str) and k.isidentifier() and isinstance(v, str) for k, v in secrets.items()
    ):
        raise ValidationError({"secrets": _('Secrets are {"NAME": "value"} with identifier names.')})
    return {name: _clean_secret_value(value, f"secrets.{name}") for name, value in secrets.items()}


def _clean_secret_value(value: str, field: str) -> str:
    """Secrets travel in headers: surrounding whitespace (a pasted newline) is dropped, control characters refused
    — otherwise the HTTP library would reject the header and quote the secret, escaped, in its error."""
    value = value.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError({field.split(".")[0]: f"{field} contains control characters."})
    return value


def _check_rebinding(
    current: Integration, *, base_url: str, auth: dict, kind: str, public: dict, secrets: dict
) -> bool:
    """Credentials are bound to their host (`binding`): an update that moves the base URL (or an OAuth2 token URL) to
    another scheme, host or port must give the secrets that would follow it again, in the same save — otherwise
    whoever may edit integrations, without knowing the secrets, could send them to a host of their own. Returns
    whether anything moved (the cached OAuth2 token is then dropped)."""
    base_moved = bool(current.base_url or base_url) and binding.origin(current.base_url) != binding.origin(base_url)
    same_oauth = kind == current.auth_type == AuthType.OAUTH2_CLIENT_CREDENTIALS
    token_moved = same_oauth and (
        binding.origin(current.auth_public.get("token_url", "")) != binding.origin(public.get("token_url", ""))
    )
    stored_auth = decrypt_json(current.auth_secret_encrypted, {}) if kind == current.auth_type else {}
    kept_auth = [f"auth.{name}" for name in AUTH_FIELDS[kind]["secret"] if stored_auth.get(name) and not auth.get(name)]
    kept_named = [f"secrets.{name}" for name in current.secret_names or () if name not in secrets]
    errors = {}
    if base_moved and (kept_auth or kept_named):
        errors["base_url"] = (
            f"The secrets of this integration are bound to {binding.origin_text(current.base_url)}"
            if current.base_url
            else "The secrets of this integration were saved without a base URL"
        )
        errors["base_url"] += (
            f": to send them to {binding.origin_text(base_url) if base_url else 'another host'}, "
            f"enter them again in the same save ({', '.join(kept_auth + kept_named)})."
        )
    if token_moved and "auth.client_secret" in kept_auth:
        errors["auth"] = (
            "The client secret is bound to its token URL's host: enter auth.client_secret again to use "
            "another token URL."
        )
    if errors:
        raise ValidationError(errors)
    return base_moved or token_moved


def integration_save(
    *,
    integration: Integration | None = None,
    name: str,
    base_url: str = "",
    auth: dict | None = None,
    headers: list | None = None,
    secrets: dict | None = None,
    commit: bool = True,
) -> Integration:
    """Create or update an integration. Secret values left out of an update are kept; a secret set to "" is removed.
    With commit=False the row is validated and prepared but not saved (the admin form validates this way)."""
    integration = integration or Integration()
    if base_url:
        _check_url_shape(base_url, "base_url")
    kind, public, secret = _clean_auth(auth or {"type": AuthType.NONE}, integration if integration.pk else None)
    moved = integration.pk is not None and _check_rebinding(
        integration, base_url=base_url or "", auth=auth or {}, kind=kind, public=public, secrets=secrets or {}
    )
    stored_secrets = decrypt_json(integration.secrets_encrypted, {}) if integration.pk else {}
    for key, value in _clean_secrets(secrets or {}).items():
        if value:
            stored_secrets[key] = value
        else:
            stored_secrets.pop(key, None)
    integration.name, integration.base_url = (name or "").strip(), base_url or ""
    if moved or kind != integration.auth_type or secret != decrypt_json(integration.auth_secret_encrypted, {}):
        integration.oauth_token_encrypted, integration.oauth_token_expires_at = "", None
    integration.auth_type, integration.auth_public = kind, public
    integration.auth_secret_encrypted = encrypt_json(secret)
    integration.headers = _clean_headers(headers or [])
    integration.secrets_encrypted = encrypt_json(stored_secrets)
    integration.secret_names = sorted(stored_secrets)
    integration.full_clean()
    if commit:
        integration.save()
    return integration


def auth_summary(integration: Integration) -> dict[str, Any]:
    """The auth as the API and admin show it: type, public fields and `has_<field>` flags, never a secret value."""
    fields = AUTH_FIELDS.get(integration.auth_type, AUTH_FIELDS[AuthType.NONE])
    secret = decrypt_json(integration.auth_secret_encrypted, {}) if integration.auth_secret_encrypted else {}
    return {
        "type": integration.auth_type,
        **{name: integration.auth_public.get(name, "") for name in fields["public"]},
        **{f"has_{name}": bool(secret.get(name)) for name in fields["secret"]},
    }


def integration_delete(*, integration: Integration) -> None:
    """Delete an integration unless custom actions still use it (they would lose their endpoint)."""
    used_by = list(integration.custom_actions.values_list("name", flat=True)[:5])
    if used_by:
        raise ValidationError(
            {"integration": _("Used by custom actions: %(names)s. Delete them first.") % {"names": ", ".join(used_by)}}
        )
    integration.delete()


ENCRYPTED_FIELDS = ("auth_secret_encrypted", "secrets_encrypted", "oauth_token_encrypted")


def integrations_rotate_keys() -> int:
    """Re-encrypt every stored secret (integrations' and webhook signing secrets) under the newest
    HELPDESK_ENCRYPTION_KEYS key (after putting a new key first); afterwards the old key can be removed. Returns how
    many integrations were rewritten."""
    count = 0
    with transaction.atomic():
        for integration in Integration.objects.select_for_update().order_by("pk"):
            for name in ENCRYPTED_FIELDS:
                setattr(integration, name, rotate(getattr(integration, name)))
            integration.save(update_fields=list(ENCRYPTED_FIELDS))
            count += 1
        _rotate_step_secrets()
    return count


def _rotate_step_secrets() -> None:
    """Re-encrypt the sealed write-only step values (webhook signing secrets) of every step and saved version."""
    from workflows.engine.definition import rotate_write_only  # definition -> step types -> this module: import late

    for step in Step.objects.select_for_update().order_by("pk"):
        rotated = rotate_write_only({"steps": [{"type": step.type, "config": step.config}]})["steps"][0]["config"]
        if rotated != step.config:
            step.config = rotated
            step.save(update_fields=["config"])
    for version in WorkflowVersion.objects.select_for_update().order_by("pk"):
        rotated = rotate_write_only(version.definition)
        if rotated != version.definition:
            version.definition = rotated
            version.save(update_fields=["definition"])


def resolve_integration(reference: Any) -> Integration:
    """Find an integration by id or name (docs/api.md)."""
    found = None
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        found = Integration.objects.filter(pk=int(reference)).first()
    if found is None and isinstance(reference, str):
        found = Integration.objects.filter(name=reference).first()
    if found is None:
        raise ValidationError({"integration": f'No integration "{reference}".'})
    return found


def integration_url(integration: Integration | None, url_or_path: str) -> str:
    """An absolute URL: a path is joined to the integration's base URL. An absolute URL given with an integration
    must be on the integration's own origin (its credentials are bound to it): else ForeignDestination."""
    if integration is None:
        return url_or_path
    if binding.is_absolute(url_or_path):
        binding.check_bound(integration, url_or_path)
        return url_or_path
    return integration.base_url.rstrip("/") + "/" + url_or_path.lstrip("/")


def send_with_integration(
    integration: Integration | None,
    request: OutboundRequest,
    *,
    key: str | None = None,
    default_base: str = "",
    **kwargs: Any,
) -> OutboundResponse:
    """Send through the integration's static headers and auth; on 401 with OAuth2, refresh the token once and retry.
    The request must go to the integration's own origin (its base URL, else `default_base`): the credentials are
    bound to it, so anything else raises ForeignDestination before any credential is read."""
    if integration is None:
        return send(request, key=key, **kwargs)
    binding.check_bound(integration, request.url, default_base)
    static = {header["key"]: header["value"] for header in integration.headers}
    request.headers = {**static, **request.headers, **auth_headers(integration)}
    try:
        return send(request, key=key, **kwargs)
    except OutboundError as exc:
        unauthorized = exc.response is not None and exc.response.status_code == 401
        if not (unauthorized and integration.auth_type == AuthType.OAUTH2_CLIENT_CREDENTIALS):
            raise
    request.headers.update(auth_headers(integration, force_refresh=True))
    return send(request, key=key, **kwargs)


__all__ = ["BlockedDestination", "OutboundError"]
