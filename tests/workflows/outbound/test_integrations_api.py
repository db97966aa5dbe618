"""`/api/integrations/` (docs/api.md): managers only; secrets are write-only (reads show names and `has_*` flags);
bad input is a 400 naming the field; updates keep secrets that are left out."""

import json

import pytest

from workflows.integrations.services import decrypt_json
from workflows.models import Integration

URL = "/api/integrations/"
BODY = {
    "name": "CRM",
    "base_url": "https://crm.example.com/api/",
    "auth": {"type": "basic", "username": "crm-user", "password": "hunter2-basic"},
    "headers": [{"key": "X-Api-Version", "value": "2"}],
    "secrets": {"crm_token": "tok-named-secret"},
}


@pytest.fixture
def created(manager_client):
    response = manager_client.post(URL, BODY, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_create_returns_shape_without_secret_values(created):
    assert created["name"] == "CRM" and created["base_url"] == BODY["base_url"]
    assert created["auth"] == {"type": "basic", "username": "crm-user", "has_password": True}
    assert created["headers"] == BODY["headers"]
    assert created["secret_names"] == ["crm_token"]
    assert "secrets" not in created
    assert "hunter2-basic" not in json.dumps(created) and "tok-named-secret" not in json.dumps(created)


def test_list_and_detail_never_return_secrets(manager_client, created):
    listing = manager_client.get(URL)
    detail = manager_client.get(f"{URL}{created['id']}/")
    assert listing.json()["count"] == 1 and detail.status_code == 200
    for response in (listing, detail):
        assert "hunter2-basic" not in response.content.decode()
        assert "tok-named-secret" not in response.content.decode()


@pytest.mark.parametrize(
    "auth, shown",
    [
        ({"type": "none"}, {"type": "none"}),
        ({"type": "bearer", "token": "b-secret"}, {"type": "bearer", "has_token": True}),
        (
            {"type": "header", "header": "X-Key", "value": "h-secret"},
            {"type": "header", "header": "X-Key", "has_value": True},
        ),
        (
            {
                "type": "oauth2_client_credentials",
                "client_id": "cid",
                "client_secret": "o-secret",
                "token_url": "https://auth.example.com/token",
                "scope": "a b",
            },
            {
                "type": "oauth2_client_credentials",
                "client_id": "cid",
                "token_url": "https://auth.example.com/token",
                "scope": "a b",
                "has_client_secret": True,
            },
        ),
    ],
)
def test_each_auth_type_reads_back_without_its_secret(manager_client, auth, shown):
    response = manager_client.post(URL, {"name": "X", "auth": auth}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["auth"] == shown


def test_patch_without_secrets_keeps_them(manager_client, created):
    """On the same scheme, host and port (another host needs the secrets again: test_credential_binding)."""
    response = manager_client.patch(
        f"{URL}{created['id']}/", {"base_url": "https://crm.example.com/v2/"}, format="json"
    )
    assert response.status_code == 200, response.content
    integration = Integration.objects.get()
    assert integration.base_url == "https://crm.example.com/v2/"
    assert decrypt_json(integration.auth_secret_encrypted) == {"password": "hunter2-basic"}
    assert decrypt_json(integration.secrets_encrypted) == {"crm_token": "tok-named-secret"}


def test_blank_secret_keeps_value_and_empty_named_secret_removes_it(manager_client, created):
    body = {"auth": {"type": "basic", "username": "other", "password": ""}, "secrets": {"crm_token": "", "new": "n1"}}
    response = manager_client.patch(f"{URL}{created['id']}/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["auth"] == {"type": "basic", "username": "other", "has_password": True}
    assert response.json()["secret_names"] == ["new"]
    assert decrypt_json(Integration.objects.get().auth_secret_encrypted) == {"password": "hunter2-basic"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "A", "auth": {"type": "kerberos"}}, "auth"),
        ({"name": "A", "auth": {"type": "basic", "username": "u"}}, "auth"),
        ({"name": "A", "auth": {"type": "oauth2_client_credentials", "client_id": "c", "client_secret": "s"}}, "auth"),
        (
            {
                "name": "A",
                "auth": {
                    "type": "oauth2_client_credentials",
                    "client_id": "c",
                    "client_secret": "s",
                    "token_url": "ftp://x",
                },
            },
            "auth",
        ),
        ({"name": "A", "base_url": "gopher://x"}, "base_url"),
        ({"name": "A", "headers": {"X": "y"}}, "headers"),
        ({"name": "A", "headers": [{"key": "", "value": "y"}]}, "headers"),
        ({"name": "A", "secrets": {"not an identifier": "v"}}, "secrets"),
        ({"name": "A", "secrets": ["v"]}, "secrets"),
        ({"name": ""}, "name"),
        ({}, "name"),
    ],
)
def test_bad_input_is_400_naming_the_field(manager_client, body, field):
    response = manager_client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Integration.objects.exists()


def test_duplicate_name_is_400(manager_client, created):
    response = manager_client.post(URL, {"name": "CRM"}, format="json")
    assert response.status_code == 400 and "name" in response.json()


def test_agents_get_403_and_anonymous_401(agent_client, anon_client, created):
    assert agent_client.get(URL).status_code == 403
    assert agent_client.post(URL, BODY, format="json").status_code == 403
    assert agent_client.get(f"{URL}{created['id']}/").status_code == 403
    assert anon_client.get(URL).status_code == 401


def test_unknown_id_is_404(manager_client):
    assert manager_client.get(f"{URL}999/").status_code == 404


def test_delete_refused_while_a_custom_action_uses_it(manager_client, created):
    action = manager_client.post(
        "/api/custom-actions/", {"integration": created["id"], "name": "lookup", "path": "/lookup"}, format="json"
    )
    assert action.status_code == 201, action.content
    response = manager_client.delete(f"{URL}{created['id']}/")
    assert response.status_code == 400 and "integration" in response.json()
    manager_client.delete(f"/api/custom-actions/{action.json()['id']}/")
    assert manager_client.delete(f"{URL}{created['id']}/").status_code == 204
