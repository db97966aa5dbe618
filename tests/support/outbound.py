"""Fake remote systems for integration tests, served by pytest-httpserver on 127.0.0.1 (an OAuth2 token endpoint
that counts its calls, a bearer API, the auvious API of the Talkdesk seed in tests/fixtures/auvious), and the outbound
helpers tests share: a signed `webhook` step and the receiver's check of its signature, a GET through an integration
(`call`, `make`, `oauth`), and an endpoint driven to `disabled` by delivery health (`disable`)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from pathlib import Path

from werkzeug import Request, Response

from conversations import clock, services
from tests.support.runs import drain
from workflows.integrations.services import integration_save, integration_url, send_with_integration
from workflows.models import Endpoint, Integration
from workflows.outbound.client import OutboundRequest

AUVIOUS = Path(__file__).resolve().parents[1] / "fixtures" / "auvious"


def auvious_fixture(name: str) -> dict:
    """One of the seed's JSON documents: input_schema, output_schema or test_input."""
    return json.loads((AUVIOUS / f"{name}.json").read_text())


class TokenEndpoint:
    """OAuth2 client-credentials token endpoint: checks the client's credentials, hands out tok-1, tok-2, ..."""

    def __init__(self, client_id: str, client_secret: str, expires_in: int = 3600, prefix: str = "tok-"):
        self.client_id, self.client_secret, self.expires_in, self.prefix = client_id, client_secret, expires_in, prefix
        self.issued: list[str] = []
        self.requests: list[dict] = []

    def __call__(self, request: Request) -> Response:
        form = request.form.to_dict()
        self.requests.append({"form": form, "authorization": request.headers.get("Authorization", "")})
        sent = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        good_basic = request.headers.get("Authorization") == f"Basic {sent}"
        good_body = form.get("client_id") == self.client_id and form.get("client_secret") == self.client_secret
        if form.get("grant_type") != "client_credentials" or not (good_basic or good_body):
            return Response(json.dumps({"error": "invalid_client"}), status=401, content_type="application/json")
        token = f"{self.prefix}{len(self.issued) + 1}"
        self.issued.append(token)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        return Response(json.dumps(body), content_type="application/json")


class BearerApi:
    """An API that answers `body` to requests bearing one of `accepted` tokens (all issued ones when None), 401
    otherwise; it records the bearer token and JSON body of every request."""

    def __init__(self, tokens: TokenEndpoint, body: dict, accepted: set[str] | None = None):
        self.tokens, self.body, self.accepted = tokens, body, accepted
        self.seen: list[dict] = []

    def __call__(self, request: Request) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.seen.append(
            {
                "token": token,
                "json": request.get_json(silent=True),
                "idempotency_key": request.headers.get("Idempotency-Key"),
            }
        )
        valid = self.accepted if self.accepted is not None else set(self.tokens.issued)
        if token not in valid:
            return Response(json.dumps({"error": "invalid_token"}), status=401, content_type="application/json")
        return Response(json.dumps(self.body), content_type="application/json")


AUVIOUS_ROOM = {"agentUrl": "https://auvious.video/a/1", "recordingUrl": "", "ticketUrl": "https://auvious.video/t/1"}


def serve_auvious(
    httpserver,
    *,
    client_id: str = "talkdesk-connect",
    client_secret: str = "auv-client-secret",
    body: dict | None = None,
) -> tuple[TokenEndpoint, BearerApi]:
    """The auvious endpoints the seed uses: /security/oauth/token and POST /security/facades/room."""
    tokens = TokenEndpoint(client_id, client_secret)
    room = BearerApi(tokens, AUVIOUS_ROOM if body is None else body)
    httpserver.expect_request("/security/oauth/token", method="POST").respond_with_handler(tokens)
    httpserver.expect_request("/security/facades/room", method="POST").respond_with_handler(room)
    return tokens, room


SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def webhook(url, **config):
    return [{"type": "webhook", "config": {"url": url, "secret": SECRET, **config}}]


def receiver_verifies(request, secret: str = SECRET) -> bool:
    """What a receiver does by the Standard Webhooks spec: HMAC-SHA256 over "id.timestamp.body" with the base64
    key after `whsec_`, compared against each space-separated `v1,<base64>` signature."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.get_data()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    offered = [part.split(",", 1)[1] for part in request.headers["webhook-signature"].split() if part.startswith("v1,")]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def call(integration: Integration, path: str = "/ping"):
    """One GET through the integration, reloaded as a step would load it."""
    integration = Integration.objects.get(pk=integration.pk)
    return send_with_integration(integration, OutboundRequest("GET", integration_url(integration, path)))


def make_integration(httpserver, auth, **kwargs) -> Integration:
    """An integration named "Remote" whose base URL is the local fake server."""
    return integration_save(name="Remote", base_url=httpserver.url_for("/"), auth=auth, **kwargs)


def oauth(httpserver, tokens: TokenEndpoint, api: BearerApi) -> Integration:
    httpserver.expect_request("/oauth/token", method="POST").respond_with_handler(tokens)
    httpserver.expect_request("/ping").respond_with_handler(api)
    return make_integration(
        httpserver,
        {
            "type": "oauth2_client_credentials",
            "client_id": "cid",
            "client_secret": "csecret",
            "token_url": httpserver.url_for("/oauth/token"),
            "scope": "rooms:write",
        },
    )


LATER = dt.timedelta(hours=2)


def open_conversations(contact, count: int) -> None:
    for index in range(count):
        services.conversation_open(contact=contact, channel="email", subject=f"Case {index}")
    drain()


def hook_url(httpserver) -> str:
    return httpserver.url_for("/hook") + "?token=query-secret"


def disable(contact, make_workflow, receiver):
    """Three failures within the hour leave it failing; one more two hours later disables it."""
    workflow = make_workflow("conversation.created", webhook(hook_url(receiver)), name="Notify CRM")
    open_conversations(contact, 3)
    assert Endpoint.objects.get().state == "failing"
    with clock.travel(LATER):
        open_conversations(contact, 1)
    return workflow
