"""Integrations (SPEC §6): saving them with encrypted secrets, applying their auth to outbound requests (incl.
OAuth2 client credentials with a cached token refreshed on expiry or 401), and masking every secret in logs.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import secrets as random_tokens
from typing import Any
from urllib.parse import quote

from authlib.integrations.requests_client import OAuth2Session
from django.core.exceptions import ValidationError
from django.db import transaction

from conversations import clock
from conversations.conf import helpdesk_setting
from workflows.crypto import decrypt_json, encrypt_json, rotate
from workflows.models import AuthType, Integration, Step, WorkflowVersion
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse, send
from workflows.outbound.ssrf import BlockedDestination, check_url, guarded_connections
from workflows.sandbox import SecretRef

MASK = "****"
# Which auth fields are secret (stored encrypted, never read back) and which are required, per auth type.
AUTH_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    AuthType.NONE: {"public": (), "secret": ()},
    AuthType.BASIC: {"public": ("username",), "secret": ("password",)},
    AuthType.BEARER: {"public": (), "secret": ("token",)},
    AuthType.HEADER: {"public": ("header",), "secret": ("value",)},
    AuthType.OAUTH2_CLIENT_CREDENTIALS: {"public": ("client_id", "token_url", "scope"), "secret": ("client_secret",)},
}
OPTIONAL_AUTH_FIELDS = {"scope"}
TOKEN_EXPIRY_MARGIN = dt.timedelta(seconds=30)


def _clean_auth(auth: Any, current: Integration | None) -> tuple[str, dict, dict]:
    kind = auth.get("type", AuthType.NONE) if isinstance(auth, dict) else None
    if not isinstance(kind, str) or kind not in AUTH_FIELDS:
        raise ValidationError({"auth": f"auth.type is one of: {', '.join(AUTH_FIELDS)}."})
    fields = AUTH_FIELDS[kind]
    keep_secret = current is not None and current.auth_type == kind
    old_secret = decrypt_json(current.auth_secret_encrypted, {}) if keep_secret else {}
    public = {name: str(auth.get(name, "")) for name in fields["public"] if auth.get(name) is not None}
    secret = {name: _clean_secret_value(str(auth[name]), f"auth.{name}") if auth.get(name) else old_secret.get(name, "")
              for name in fields["secret"]}
    missing = [name for name in (*fields["public"], *fields["secret"])
               if name not in OPTIONAL_AUTH_FIELDS and not (public.get(name) or secret.get(name))]
    if missing:
        raise ValidationError({"auth": [f"auth.{name} is required for {kind}." for name in missing]})
    if kind == AuthType.OAUTH2_CLIENT_CREDENTIALS:
        _check_url_shape(public["token_url"], "auth")
    return kind, public, secret


def _check_url_shape(url: str, field: str) -> None:
    if not url.startswith(("http://", "https://")):
        raise ValidationError({field: "Use an http(s) URL."})


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
        raise ValidationError({"secrets": 'Secrets are {"NAME": "value"} with identifier names.'})
    return {name: _clean_secret_value(value, f"secrets.{name}") for name, value in secrets.items()}


def _clean_secret_value(value: str, field: str) -> str:
    """Secrets travel in headers: surrounding whitespace (a pasted newline) is dropped, control characters refused
    — otherwise the HTTP library would reject the header and quote the secret, escaped, in its error."""
    value = value.strip()
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError({field.split(".")[0]: f"{field} contains control characters."})
    return value


def integration_save(*, integration: Integration | None = None, name: str, base_url: str = "", auth: dict | None = None,
                     headers: list | None = None, secrets: dict | None = None, commit: bool = True) -> Integration:
    """Create or update an integration. Secret values left out of an update are kept; a secret set to "" is removed.
    With commit=False the row is validated and prepared but not saved (the admin form validates this way)."""
    integration = integration or Integration()
    if base_url:
        _check_url_shape(base_url, "base_url")
    kind, public, secret = _clean_auth(auth or {"type": AuthType.NONE}, integration if integration.pk else None)
    stored_secrets = decrypt_json(integration.secrets_encrypted, {}) if integration.pk else {}
    for key, value in _clean_secrets(secrets or {}).items():
        if value:
            stored_secrets[key] = value
        else:
            stored_secrets.pop(key, None)
    integration.name, integration.base_url = (name or "").strip(), base_url or ""
    if kind != integration.auth_type or secret != decrypt_json(integration.auth_secret_encrypted, {}):
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
    return {"type": integration.auth_type, **{name: integration.auth_public.get(name, "") for name in fields["public"]},
            **{f"has_{name}": bool(secret.get(name)) for name in fields["secret"]}}


def integration_delete(*, integration: Integration) -> None:
    """Delete an integration unless custom actions still use it (they would lose their endpoint)."""
    used_by = list(integration.custom_actions.values_list("name", flat=True)[:5])
    if used_by:
        raise ValidationError({"integration": f"Used by custom actions: {', '.join(used_by)}. Delete them first."})
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
    from workflows.definition import rotate_write_only  # definition -> step types -> this module: import late

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
    """Find an integration by id or name (SPEC §10)."""
    found = None
    if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()):
        found = Integration.objects.filter(pk=int(reference)).first()
    if found is None and isinstance(reference, str):
        found = Integration.objects.filter(name=reference).first()
    if found is None:
        raise ValidationError({"integration": f'No integration "{reference}".'})
    return found


def integration_secrets(integration: Integration) -> dict[str, str]:
    """The named secrets of one integration (for `{{ secrets.NAME }}`)."""
    return decrypt_json(integration.secrets_encrypted, {})


def all_secrets() -> dict[str, str]:
    """Named secrets of every integration, for templates of steps that name no integration."""
    merged: dict[str, str] = {}
    for integration in Integration.objects.order_by("-pk"):
        merged.update(integration_secrets(integration))
    return merged


class SealedSecrets:
    """The named secrets of one render, sealed: a template sees `secrets.NAME` as a SecretRef that renders to an
    opaque token (letters and digits, so it survives JSON, headers and URL encoding) and refuses every filter, so
    nothing a manager can read (a dry run, a step's recorded input) ever holds a secret or a transform of one.
    `unseal` puts the real values in place of whole tokens, only for the request a step sends."""

    def __init__(self, values: dict[str, str]):
        nonce = random_tokens.token_hex(8)
        self.refs = {name: SecretRef(name, f"hdsecret{nonce}n{index}x") for index, name in enumerate(values)}
        self._values = {ref.token: values[name] for name, ref in self.refs.items()}
        self._token = re.compile(f"hdsecret{nonce}n\\d+x")

    def _replace(self, value: Any, replacement) -> Any:
        if isinstance(value, str):
            return self._token.sub(replacement, value) if self._values else value
        if isinstance(value, list):
            return [self._replace(item, replacement) for item in value]
        if isinstance(value, dict):
            return {key: self._replace(item, replacement) for key, item in value.items()}
        return value

    def unseal(self, value: Any) -> Any:
        """`value` (text, or lists and dicts of it) with each whole token replaced by its secret."""
        return self._replace(value, lambda found: self._values.get(found.group(0), MASK))

    def mask(self, value: Any) -> Any:
        """`value` with each token shown as the mask: what run logs and dry runs record."""
        return self._replace(value, MASK)


def sealed_secrets(integration: Integration | None) -> SealedSecrets:
    """The secrets a step's templates may place: every integration's, the step's own integration winning."""
    values = all_secrets()
    if integration is not None:
        values.update(integration_secrets(integration))
    return SealedSecrets(values)


def secret_values() -> set[str]:
    """Every secret string we hold (named secrets, auth secrets, cached tokens) and the encoded forms they travel
    in (the Basic credential, URL-quoted values), for masking."""
    values: set[str] = set()
    for integration in Integration.objects.all():
        values.update(integration_secrets(integration).values())
        auth_secret = decrypt_json(integration.auth_secret_encrypted, {})
        values.update(auth_secret.values())
        if integration.auth_type == AuthType.BASIC and auth_secret.get("password"):
            values.add(_basic_credential(integration.auth_public.get("username", ""), auth_secret["password"]))
        token = decrypt_json(integration.oauth_token_encrypted, {}) or {}
        values.update(v for k, v in token.items() if k in ("access_token", "refresh_token") and isinstance(v, str))
    values.add(helpdesk_setting("SPEECH_CLOUD_API_KEY"))  # the one secret kept in settings rather than an integration
    values = {value for value in values if isinstance(value, str) and len(value) >= 4}
    # The forms a secret is quoted in by URLs, JSON and Python reprs of exceptions.
    encoded = {form(value) for value in values
               for form in (lambda v: quote(v, safe=""), lambda v: json.dumps(v)[1:-1],
                            lambda v: v.encode("unicode_escape").decode("ascii"))}
    return values | encoded


def _basic_credential(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def mask_step_result(rendered: Any, outcome: Any) -> Any:
    """Mask a step's rendered input (returned) and its outcome's output, error and variables (in place)."""
    secrets = secret_values()
    outcome.output, outcome.error = mask(outcome.output, secrets), mask(outcome.error, secrets)
    outcome.variables = mask(outcome.variables, secrets)
    return mask(rendered, secrets)


def mask(value: Any, secrets: set[str]) -> Any:
    """Replace every secret inside a JSON-like value (or text) by ****."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [mask(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: mask(item, secrets) for key, item in value.items()}
    return value


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in warning/error records (message and traceback) of the modules that log step crashes: an
    exception raised inside a step may quote a rendered `{{ secrets.* }}` value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            secrets = secret_values()
        except Exception:  # logging must never fail (e.g. the database is unreachable)
            return True
        record.msg, record.args = mask(record.getMessage(), secrets), None
        if record.exc_info:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info), secrets)
            record.exc_info = None  # handlers that read the live exception would see the secret
        return True


MASKED_LOGGERS = ("workflows.runner", "workflows.dryrun")


def install_log_masking() -> None:
    """Attach SecretMaskingFilter to the step-executing loggers (once; called from WorkflowsConfig.ready)."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, SecretMaskingFilter) for existing in logger.filters):
            logger.addFilter(SecretMaskingFilter())


# Auth ---------------------------------------------------------------------------------------------------------


def _fetch_oauth_token(integration: Integration) -> dict:
    public, secret = integration.auth_public, decrypt_json(integration.auth_secret_encrypted, {})
    check_url(public["token_url"])
    session = OAuth2Session(public["client_id"], secret["client_secret"], scope=public.get("scope") or None)
    try:
        # Same guard as every outbound call: checked at connect time, and no redirects (a token endpoint has none).
        with guarded_connections():
            token = session.fetch_token(public["token_url"], grant_type="client_credentials", timeout=15,
                                        allow_redirects=False)
    except BlockedDestination:
        raise
    except Exception as exc:  # authlib raises several types (OAuthError, requests errors)
        raise OutboundError(f"OAuth2 token request failed: {exc}", transient=True) from exc
    expires_in = float(token.get("expires_in") or 3600)
    with transaction.atomic():
        integration.oauth_token_encrypted = encrypt_json(dict(token))
        integration.oauth_token_expires_at = clock.now() + dt.timedelta(seconds=expires_in)
        integration.save(update_fields=["oauth_token_encrypted", "oauth_token_expires_at"])
    return token


def oauth_access_token(integration: Integration, *, force_refresh: bool = False) -> str:
    """The cached access token while it is valid, else a fresh one from the token endpoint."""
    integration.refresh_from_db(fields=["oauth_token_encrypted", "oauth_token_expires_at"])
    expires_at = integration.oauth_token_expires_at
    if not force_refresh and integration.oauth_token_encrypted and expires_at and \
            expires_at - TOKEN_EXPIRY_MARGIN > clock.now():
        return decrypt_json(integration.oauth_token_encrypted)["access_token"]
    return _fetch_oauth_token(integration)["access_token"]


def auth_headers(integration: Integration, *, force_refresh: bool = False) -> dict[str, str]:
    """The headers the integration's auth adds to a request."""
    secret = decrypt_json(integration.auth_secret_encrypted, {})
    public = integration.auth_public
    if integration.auth_type == AuthType.BASIC:
        return {"Authorization": "Basic " + _basic_credential(public["username"], secret["password"])}
    if integration.auth_type == AuthType.BEARER:
        return {"Authorization": f"Bearer {secret['token']}"}
    if integration.auth_type == AuthType.HEADER:
        return {public["header"]: secret["value"]}
    if integration.auth_type == AuthType.OAUTH2_CLIENT_CREDENTIALS:
        return {"Authorization": f"Bearer {oauth_access_token(integration, force_refresh=force_refresh)}"}
    return {}


def integration_url(integration: Integration | None, url_or_path: str) -> str:
    """An absolute URL: a path is joined to the integration's base URL."""
    if url_or_path.startswith(("http://", "https://")) or integration is None:
        return url_or_path
    return integration.base_url.rstrip("/") + "/" + url_or_path.lstrip("/")


def send_with_integration(integration: Integration | None, request: OutboundRequest, *, key: str | None = None,
                          **kwargs: Any) -> OutboundResponse:
    """Send through the integration's static headers and auth; on 401 with OAuth2, refresh the token once and retry."""
    if integration is None:
        return send(request, key=key, **kwargs)
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
