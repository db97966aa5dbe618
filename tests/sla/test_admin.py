"""SLA admin: calendars with a holidays preview, policies validated like the API, targets read-only."""
import pytest

from tests.sla.conftest import open_conversation

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_logged_in(client, manager):
    client.force_login(manager)
    return client


def test_holidays_preview_lists_the_years_closed_dates(admin_client_logged_in, office_hours):
    page = admin_client_logged_in.get(f"/admin/sla/businesshours/{office_hours.pk}/holidays/?year=2026")
    assert page.status_code == 200
    assert b"Good Friday" in page.content and b"2026-04-03" in page.content
    assert b"2027" in page.content  # link to the next year


def test_calendar_form_refuses_a_bad_timezone(admin_client_logged_in):
    page = admin_client_logged_in.post("/admin/sla/businesshours/add/", {
        "name": "Nowhere", "timezone": "Mars/Base", "intervals": '[{"weekday": 0, "start": "09:00", "end": "17:00"}]',
        "holidays_country": "", "holidays_subdivision": "", "extra_holidays": "[]"})
    assert page.status_code == 200 and b"IANA timezone" in page.content


def test_policy_form_refuses_an_unknown_condition_field(admin_client_logged_in):
    page = admin_client_logged_in.post("/admin/sla/slapolicy/add/", {
        "name": "Bad", "position": 0, "active": "on", "match": '{"all": [{"field": "x", "op": "eq", "value": 1}]}',
        "first_response_minutes": 10, "pause_on": "[]", "warning_percent": 80})
    assert page.status_code == 200 and b"unknown field" in page.content


def test_targets_are_listed_read_only(admin_client_logged_in, clock, policy, customer):
    open_conversation(customer)
    page = admin_client_logged_in.get("/admin/sla/slatarget/")
    assert page.status_code == 200 and b"First response" in page.content and b"1h 00m" in page.content
    assert admin_client_logged_in.get("/admin/sla/slatarget/add/").status_code == 403


def test_agents_cannot_open_the_sla_admin(client, agent):
    client.force_login(agent)
    assert client.get("/admin/sla/slapolicy/").status_code == 403
