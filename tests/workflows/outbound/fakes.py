"""Fake remote systems for integration tests, served by pytest-httpserver on 127.0.0.1: an OAuth2 token endpoint
that counts its calls, and the auvious API of the Talkdesk seed (tests/fixtures/auvious)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from werkzeug import Request, Response

AUVIOUS = Path(__file__).resolve().parents[2] / "fixtures" / "auvious"


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
