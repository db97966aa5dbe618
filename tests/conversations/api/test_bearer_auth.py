"""`Authorization: Bearer <key>` works beside `Token <key>` (what OpenAPI client generators send by default)."""

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


def test_bearer_token_reads_conversations(agent, conversation):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=agent)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    response = client.get("/api/conversations/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_wrong_bearer_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.get("/api/conversations/").status_code == 401


def test_the_schema_declares_http_bearer(manager):
    client = APIClient()
    client.force_authenticate(manager)
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "The API token: `Authorization: Bearer <key>`.",
    }
    assert schema["info"]["version"] == __import__("conversations").__version__
