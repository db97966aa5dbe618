"""Integration admin: secrets are password inputs that never render their value, a blank one keeps the stored
value, named secrets are listed by name, and bad auth settings are form errors (not 500s)."""

import json

import pytest

from workflows.integrations.crypto import decrypt_json
from workflows.integrations.services import integration_save
from workflows.models import Integration

ADD = "/admin/workflows/integration/add/"


def form(**fields) -> dict:
    base = {"name": "CRM", "base_url": "https://crm.example.com/", "auth_type": "none", "static_headers": "[]"}
    return {**base, **fields}


def test_manager_adds_basic_integration_with_a_named_secret(browser):
    response = browser.post(
        ADD,
        form(
            auth_type="basic",
            auth_username="u",
            auth_password="adm-pass-551",
            new_secret_name="crm_token",
            new_secret_value="adm-named-662",
            static_headers=json.dumps([{"key": "X-V", "value": "2"}]),
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    integration = Integration.objects.get()
    assert integration.auth_type == "basic" and integration.auth_public == {"username": "u"}
    assert decrypt_json(integration.auth_secret_encrypted) == {"password": "adm-pass-551"}
    assert decrypt_json(integration.secrets_encrypted) == {"crm_token": "adm-named-662"}
    assert integration.headers == [{"key": "X-V", "value": "2"}]


def test_change_page_masks_secrets_and_lists_names(browser):
    integration = integration_save(
        name="CRM", auth={"type": "bearer", "token": "adm-bearer-773"}, secrets={"crm_token": "adm-named-884"}
    )
    page = browser.get(f"/admin/workflows/integration/{integration.pk}/change/").content.decode()
    assert "adm-bearer-773" not in page and "adm-named-884" not in page
    assert 'type="password" name="auth_token"' in page
    assert 'type="password" name="secret_crm_token"' in page
    assert "crm_token" in page and "Set. Leave blank to keep the current value." in page


def test_blank_secret_inputs_keep_values_and_remove_deletes(browser):
    integration = integration_save(
        name="CRM",
        base_url="https://crm.example.com/",
        auth={"type": "bearer", "token": "adm-bearer-773"},
        secrets={"keep_me": "k-1", "drop_me": "d-1"},
    )
    response = browser.post(
        f"/admin/workflows/integration/{integration.pk}/change/",
        form(auth_type="bearer", auth_token="", secret_keep_me="", secret_drop_me="", remove_secrets=["drop_me"]),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    integration.refresh_from_db()
    assert decrypt_json(integration.auth_secret_encrypted) == {"token": "adm-bearer-773"}
    assert decrypt_json(integration.secrets_encrypted) == {"keep_me": "k-1"}
    assert integration.secret_names == ["keep_me"]


def test_changing_a_secret_in_admin(browser):
    integration = integration_save(name="CRM", secrets={"api": "old"})
    browser.post(f"/admin/workflows/integration/{integration.pk}/change/", form(secret_api="new-value"))
    integration.refresh_from_db()
    assert decrypt_json(integration.secrets_encrypted) == {"api": "new-value"}


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"auth_type": "oauth2_client_credentials", "auth_client_id": "c", "auth_client_secret": "s"},
            "auth.token_url is required",
        ),
        ({"auth_type": "basic", "auth_username": "u"}, "auth.password is required"),
        ({"static_headers": '{"X": 1}'}, "Headers are a list"),
        ({"new_secret_name": "bad name", "new_secret_value": "v"}, "identifier names"),
    ],
)
def test_bad_settings_are_form_errors(browser, fields, message):
    response = browser.post(ADD, form(**fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Integration.objects.exists()


def test_agents_cannot_open_integration_admin(agent_browser):
    client = agent_browser
    assert client.get(ADD).status_code == 403
