"""Integration admin: only the chosen auth type's fields are shown (the server validates them), the base URL is
checked against the outbound rules on save, "Test connection" GETs the base URL through the outbound client and says
what happened in words (a network error as a network error), and "Test action" does the same for actions. Fake
remote endpoints are pytest-httpserver servers on 127.0.0.1; nothing else is ever connected to."""

import json
import socket

import pytest

from workflows.integrations.custom_actions import custom_action_save
from workflows.integrations.services import integration_save
from workflows.models import Integration

ADD_URL = "/admin/workflows/integration/add/"


def form(**overrides) -> dict:
    return {
        "name": "CRM",
        "base_url": "https://crm.example.com/api/",
        "auth_type": "none",
        "static_headers": "[]",
        **overrides,
    }


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released): connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_form_says_which_fields_belong_to_each_auth_type(browser):
    page = browser.get(ADD_URL).content.decode()
    assert "workflows/integration_form.js" in page
    attribute = page.split('data-auth-fields="')[1].split('"')[0].replace("&quot;", '"')
    assert json.loads(attribute)["basic"] == ["username", "password"]
    assert json.loads(attribute)["oauth2_client_credentials"] == ["client_id", "token_url", "scope", "client_secret"]


def test_the_server_validates_the_chosen_auth_type_and_ignores_the_others(browser):
    response = browser.post(ADD_URL, form(auth_type="bearer", auth_username="left over"))
    assert response.status_code == 200 and "token" in response.content.decode()
    assert browser.post(ADD_URL, form(auth_type="bearer", auth_token="t-1", auth_username="x")).status_code == 302
    assert Integration.objects.get().auth_public == {}


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000/",
        "http://10.0.0.7/api/",
        "http://169.254.169.254/",
        "http://[::1]:8080/",
        "http://localhost:9000/",
    ],
)
def test_a_base_url_at_an_inward_address_is_refused_on_save(browser, settings, base_url):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    response = browser.post(ADD_URL, form(base_url=base_url))
    assert response.status_code == 200
    assert "Outbound requests may not go there" in response.content.decode()
    assert not Integration.objects.exists()


def test_an_allowlisted_loopback_base_url_is_saved(browser, settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    assert browser.post(ADD_URL, form(base_url="http://127.0.0.1:8000/")).status_code == 302


def test_the_api_refuses_an_inward_base_url_too(manager_client, settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    response = manager_client.post(
        "/api/integrations/",
        {"name": "Inward", "base_url": "http://192.168.1.5/", "auth": {"type": "none"}},
        format="json",
    )
    assert response.status_code == 400 and "base_url" in response.json()


# Test connection --------------------------------------------------------------------------------------------


def press_test_connection(browser, integration) -> str:
    response = browser.post(f"/admin/workflows/integration/{integration.pk}/test-connection/", follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_the_change_page_has_a_test_connection_button(browser, allow_loopback, httpserver):
    integration = integration_save(name="CRM", base_url=httpserver.url_for("/"))
    page = browser.get(f"/admin/workflows/integration/{integration.pk}/change/").content.decode()
    assert 'id="test-connection"' in page


def test_test_connection_reports_the_answer_with_the_auth_sent(browser, allow_loopback, httpserver):
    httpserver.expect_request("/api/", headers={"Authorization": "Bearer t-1"}).respond_with_json({"ok": True})
    integration = integration_save(
        name="CRM", base_url=httpserver.url_for("/api/"), auth={"type": "bearer", "token": "t-1"}
    )
    page = press_test_connection(browser, integration)
    assert f"Test connection: Connected: {httpserver.url_for('/api/')} answered HTTP 200" in page


def test_test_connection_reports_refused_credentials(browser, allow_loopback, httpserver):
    httpserver.expect_request("/").respond_with_data("no", status=401)
    integration = integration_save(name="CRM", base_url=httpserver.url_for("/"))
    assert "refused the credentials: HTTP 401" in press_test_connection(browser, integration)


def test_test_connection_reports_a_network_error_as_one(browser, allow_loopback):
    integration = integration_save(name="Down", base_url=f"http://127.0.0.1:{closed_port()}/")
    page = press_test_connection(browser, integration)
    assert "Test connection: Network error:" in page
    assert "could not be reached (Failed to establish a new connection" in page


def test_test_connection_reports_a_blocked_address(browser, settings, no_sockets):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    integration = integration_save(name="Inward", base_url="http://127.0.0.1:8000/")
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []  # allowed when saved, not any more
    assert "Blocked by the outbound rules" in press_test_connection(browser, integration)


def test_test_connection_is_a_post(browser, allow_loopback, httpserver):
    integration = integration_save(name="CRM", base_url=httpserver.url_for("/"))
    assert browser.get(f"/admin/workflows/integration/{integration.pk}/test-connection/").status_code == 405


# Test action ------------------------------------------------------------------------------------------------


def test_test_action_reports_a_network_error_not_a_schema_failure(browser, allow_loopback):
    integration = integration_save(name="Down", base_url=f"http://127.0.0.1:{closed_port()}/")
    action = custom_action_save(
        integration=integration,
        name="Lookup",
        path="/lookup",
        input_schema={"type": "object"},
        output_schema={"type": "object"},
    )
    page = browser.post(f"/admin/workflows/customaction/{action.pk}/test/", {"input": "{}"}).content.decode()
    assert '<td id="result-network-error">The request got no answer: Failed to establish a new connection' in page
    assert '<td id="result-valid">not checked (no response)</td>' in page
    assert "invalid" not in page


def test_test_action_joins_base_url_and_path_with_one_slash(browser, allow_loopback, httpserver):
    httpserver.expect_request("/api/orders", method="POST").respond_with_json({"id": 1})
    integration = integration_save(name="Shop", base_url=httpserver.url_for("/api/"))
    action = custom_action_save(
        integration=integration,
        name="Order",
        path="/orders",
        input_schema={"type": "object"},
        output_schema={"type": "object"},
    )
    test_page = f"/admin/workflows/customaction/{action.pk}/test/"
    shown = browser.get(test_page).content.decode()
    assert f'<code id="action-url">{httpserver.url_for("/api/orders")}</code>' in shown
    page = browser.post(test_page, {"input": "{}"}).content.decode()
    assert '<td id="result-status">200</td>' in page and '<td id="result-valid">valid</td>' in page
