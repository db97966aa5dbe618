"""The integration form in a real browser: choosing an auth type shows that type's fields only, and "Test
connection" reports a refused connection as a network error. Screenshots per auth type land in
tests/browser/artifacts/integration-<type>.png."""

from __future__ import annotations

import re
import socket

import pytest

from tests.support.browser import log_in
from tests.support.people import make_user
from workflows.integrations.services import integration_save

AUTH_FIELDS = ("username", "password", "token", "header", "value", "client_id", "client_secret", "token_url", "scope")
SHOWN = {
    "none": set(),
    "basic": {"username", "password"},
    "bearer": {"token"},
    "header": {"header", "value"},
    "oauth2_client_credentials": {"client_id", "client_secret", "token_url", "scope"},
}


def visible_auth_fields(page) -> set[str]:
    return {name for name in AUTH_FIELDS if page.locator(f".form-row.field-auth_{name}").is_visible()}


@pytest.mark.django_db(transaction=True)
def test_each_auth_type_shows_its_own_fields(live_server, new_page, shot, roles):
    make_user("manager", "Support managers")
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/workflows/integration/add/")
    for auth_type, fields in SHOWN.items():
        page.select_option("#id_auth_type", auth_type)
        assert visible_auth_fields(page) == fields, auth_type
        page.locator("#id_auth_type").scroll_into_view_if_needed()
        shot(page, f"integration-{auth_type}")


@pytest.mark.django_db(transaction=True)
def test_test_connection_button_reports_a_network_error(live_server, new_page, shot, roles, settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1"]
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    integration = integration_save(
        name="Down CRM", base_url=f"http://127.0.0.1:{port}/api/", auth={"type": "bearer", "token": "t-1"}
    )
    make_user("manager", "Support managers")
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/workflows/integration/{integration.pk}/change/")
    assert visible_auth_fields(page) == {"token"}
    page.click("#test-connection")
    page.wait_for_url(re.compile(rf"/integration/{integration.pk}/change/$"))
    message = page.locator(".messagelist .error").inner_text()
    assert message.startswith("Test connection: Network error:") and "could not be reached" in message
    shot(page, "integration-test-connection")
