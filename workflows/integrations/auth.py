"""How an integration authenticates (docs/managers.md): auth types as a table of header builders, and OAuth2 client
credentials with a token cached (encrypted) until shortly before it expires."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from conversations import clock, extras
from workflows.integrations.crypto import decrypt_json, encrypt_json
from workflows.models import AuthType, Integration
from workflows.outbound.client import OutboundError
from workflows.outbound.ssrf import BlockedDestination, check_url, guard_session, guarded_connections

TOKEN_EXPIRY_MARGIN = dt.timedelta(seconds=30)


def basic_credential(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def _fetch_oauth_token(integration: Integration) -> dict:
    try:  # authlib comes with the [oauth2] extra
        OAuth2Session = extras.require("oauth2", "authlib.integrations.requests_client").OAuth2Session
    except ImproperlyConfigured as exc:
        raise OutboundError(str(exc), transient=False) from exc
    public, secret = integration.auth_public, decrypt_json(integration.auth_secret_encrypted, {})
    session = guard_session(
        OAuth2Session(public["client_id"], secret["client_secret"], scope=public.get("scope") or None)
    )
    try:
        check_url(public["token_url"])
        # Same guard as every outbound call: checked at connect time, and no redirects (a token endpoint has none).
        with guarded_connections():
            token = session.fetch_token(
                public["token_url"], grant_type="client_credentials", timeout=15, allow_redirects=False
            )
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
    if (
        not force_refresh
        and integration.oauth_token_encrypted
        and expires_at
        and expires_at - TOKEN_EXPIRY_MARGIN > clock.now()
    ):
        return decrypt_json(integration.oauth_token_encrypted)["access_token"]
    return _fetch_oauth_token(integration)["access_token"]


# The headers each auth type adds: (integration, public fields, secret fields, force_refresh) -> headers.
AUTH_HEADERS: dict[str, Callable[[Integration, dict, dict, bool], dict[str, str]]] = {
    AuthType.NONE: lambda integration, public, secret, force: {},
    AuthType.BASIC: lambda integration, public, secret, force: {
        "Authorization": "Basic " + basic_credential(public["username"], secret["password"])
    },
    AuthType.BEARER: lambda integration, public, secret, force: {"Authorization": f"Bearer {secret['token']}"},
    AuthType.HEADER: lambda integration, public, secret, force: {public["header"]: secret["value"]},
    AuthType.OAUTH2_CLIENT_CREDENTIALS: lambda integration, public, secret, force: {
        "Authorization": f"Bearer {oauth_access_token(integration, force_refresh=force)}"
    },
}


def auth_headers(integration: Integration, *, force_refresh: bool = False) -> dict[str, str]:
    """The headers the integration's auth adds to a request."""
    secret = decrypt_json(integration.auth_secret_encrypted, {})
    build = AUTH_HEADERS.get(integration.auth_type, AUTH_HEADERS[AuthType.NONE])
    return build(integration, integration.auth_public, secret, force_refresh)
