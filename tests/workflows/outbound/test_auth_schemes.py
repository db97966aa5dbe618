"""Each integration auth scheme against a real local server: the remote sees exactly the credentials it expects.
OAuth2 client credentials (authlib) fetch a token once, reuse it until it expires and refresh it on a 401."""

import base64
import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from conversations import clock
from tests.support.outbound import BearerApi, TokenEndpoint, call, make_integration, oauth
from workflows.integrations.services import integration_save
from workflows.models import Integration
from workflows.outbound.client import OutboundError
from workflows.outbound.ssrf import BlockedDestination

pytestmark = pytest.mark.django_db


def received_headers(httpserver) -> dict:
    return dict(httpserver.log[-1][0].headers)


def test_auth_none_sends_no_authorization(httpserver, allow_loopback):
    httpserver.expect_request("/ping").respond_with_json({"ok": True})
    integration = make_integration(httpserver, {"type": "none"}, headers=[{"key": "X-Api-Version", "value": "2"}])
    assert call(integration).json() == {"ok": True}
    headers = received_headers(httpserver)
    assert "Authorization" not in headers
    assert headers["X-Api-Version"] == "2"


def test_auth_basic_sends_username_and_password(httpserver, allow_loopback):
    expected = "Basic " + base64.b64encode(b"crm-user:pa ss:word").decode()
    httpserver.expect_request("/ping", headers={"Authorization": expected}).respond_with_json({"ok": True})
    integration = make_integration(httpserver, {"type": "basic", "username": "crm-user", "password": "pa ss:word"})
    assert call(integration).status_code == 200


def test_auth_bearer_sends_the_token(httpserver, allow_loopback):
    httpserver.expect_request("/ping", headers={"Authorization": "Bearer t0k3n"}).respond_with_json({"ok": True})
    integration = make_integration(httpserver, {"type": "bearer", "token": "t0k3n"})
    assert call(integration).status_code == 200


def test_auth_header_sends_the_named_header(httpserver, allow_loopback):
    httpserver.expect_request("/ping", headers={"X-Api-Key": "k-123"}).respond_with_json({"ok": True})
    integration = make_integration(httpserver, {"type": "header", "header": "X-Api-Key", "value": "k-123"})
    assert call(integration).status_code == 200
    assert "Authorization" not in received_headers(httpserver)


def test_wrong_credentials_fail_with_the_status(httpserver, allow_loopback):
    httpserver.expect_request("/ping", headers={"Authorization": "Bearer right"}).respond_with_json({"ok": True})
    httpserver.expect_request("/ping").respond_with_data("nope", status=401)
    integration = make_integration(httpserver, {"type": "bearer", "token": "wrong"})
    with pytest.raises(OutboundError) as failure:
        call(integration)
    assert failure.value.response.status_code == 401 and not failure.value.transient


def test_oauth2_fetches_a_token_with_client_credentials(httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "csecret")
    api = BearerApi(tokens, {"ok": True})
    integration = oauth(httpserver, tokens, api)
    assert call(integration).json() == {"ok": True}
    assert tokens.issued == ["tok-1"]
    assert tokens.requests[0]["form"]["grant_type"] == "client_credentials"
    assert tokens.requests[0]["form"]["scope"] == "rooms:write"
    assert api.seen[0]["token"] == "tok-1"


def test_oauth2_token_is_cached_until_expiry(httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "csecret", expires_in=600)
    api = BearerApi(tokens, {"ok": True})
    integration = oauth(httpserver, tokens, api)
    call(integration)
    call(integration)
    assert len(tokens.requests) == 1, "the second call must reuse the cached token"
    assert [seen["token"] for seen in api.seen] == ["tok-1", "tok-1"]
    with clock.travel(dt.timedelta(seconds=601)):
        call(integration)
    assert tokens.issued == ["tok-1", "tok-2"]
    assert api.seen[-1]["token"] == "tok-2"


def test_oauth2_token_is_refreshed_on_401(httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "csecret")
    api = BearerApi(tokens, {"ok": True}, accepted={"tok-2"})  # the remote revoked tok-1 before it expired
    integration = oauth(httpserver, tokens, api)
    assert call(integration).json() == {"ok": True}
    assert tokens.issued == ["tok-1", "tok-2"]
    assert [seen["token"] for seen in api.seen] == ["tok-1", "tok-2"]
    call(integration)
    assert len(tokens.requests) == 2, "the refreshed token is cached in turn"


def test_oauth2_persistent_401_fails_after_one_refresh(httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "csecret")
    api = BearerApi(tokens, {"ok": True}, accepted=set())
    integration = oauth(httpserver, tokens, api)
    with pytest.raises(OutboundError) as failure:
        call(integration)
    assert failure.value.response.status_code == 401
    assert len(tokens.requests) == 2 and len(api.seen) == 2


def test_oauth2_bad_client_secret_is_a_clear_failure(httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "the-real-secret")
    api = BearerApi(tokens, {"ok": True})
    integration = oauth(httpserver, tokens, api)
    with pytest.raises(OutboundError, match="OAuth2 token request failed"):
        call(integration)
    assert api.seen == []


def test_changing_the_client_secret_drops_the_cached_token(httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "csecret")
    api = BearerApi(tokens, {"ok": True})
    integration = oauth(httpserver, tokens, api)
    call(integration)
    tokens.client_secret = "rotated"
    integration_save(
        integration=Integration.objects.get(pk=integration.pk),
        name="Remote",
        base_url=integration.base_url,
        auth={
            "type": "oauth2_client_credentials",
            "client_id": "cid",
            "client_secret": "rotated",
            "token_url": httpserver.url_for("/oauth/token"),
        },
    )
    call(integration)
    assert tokens.issued == ["tok-1", "tok-2"]


def test_token_endpoint_is_guarded_against_ssrf(settings, no_sockets):
    auth = {
        "type": "oauth2_client_credentials",
        "client_id": "c",
        "client_secret": "s",
        "token_url": "http://169.254.169.254/token",
    }
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["api.example.com"]
    with pytest.raises(ValidationError, match="169.254.169.254"):  # refused on save already
        integration_save(name="Inward", base_url="https://api.example.com/", auth=auth)
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["api.example.com", "169.254.169.254"]
    integration = integration_save(name="Inward", base_url="https://api.example.com/", auth=auth)
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["api.example.com"]  # allowed once, not any more: refused when sending
    with pytest.raises(BlockedDestination, match="169.254.169.254"):
        call(integration)
