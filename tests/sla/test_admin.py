"""SLA admin: calendars with a holidays preview, policies validated like the API, targets read-only."""

import pytest

from sla.models import BusinessHours
from tests.support.sla import open_conversation

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
    page = admin_client_logged_in.post(
        "/admin/sla/businesshours/add/",
        {
            "name": "Nowhere",
            "timezone": "Mars/Base",
            "intervals": '[{"weekday": 0, "start": "09:00", "end": "17:00"}]',
            "holidays_country": "",
            "holidays_subdivision": "",
            "extra_holidays": "[]",
        },
    )
    assert page.status_code == 200 and b"Mars/Base is not one of the available choices" in page.content


def test_policy_form_refuses_an_unknown_condition_field(admin_client_logged_in):
    page = admin_client_logged_in.post(
        "/admin/sla/slapolicy/add/",
        {
            "name": "Bad",
            "position": 0,
            "active": "on",
            "match": '{"all": [{"field": "x", "op": "eq", "value": 1}]}',
            "first_response_minutes": 10,
            "warning_percent": 80,
        },
    )
    assert page.status_code == 200 and b"unknown field" in page.content


def test_targets_are_listed_read_only(admin_client_logged_in, clock, policy, customer):
    open_conversation(customer)
    page = admin_client_logged_in.get("/admin/sla/slatarget/")
    assert page.status_code == 200 and b"First response" in page.content and b"1h 00m" in page.content
    assert admin_client_logged_in.get("/admin/sla/slatarget/add/").status_code == 403


def test_agents_cannot_open_the_sla_admin(client, agent):
    client.force_login(agent)
    assert client.get("/admin/sla/slapolicy/").status_code == 403


def test_conversation_page_shows_its_targets_with_time_left_to_an_agent(client, agent, clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=15)
    client.force_login(agent)
    page = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "SLA targets" in content
    assert "First response" in content and "0h 45m" in content  # 60 minutes, 15 used
    assert "Resolution" in content and "7h 45m" in content


def test_calendar_form_picks_country_and_subdivision_and_previews_this_years_holidays(admin_client_logged_in, clock):
    page = admin_client_logged_in.get("/admin/sla/businesshours/add/")
    assert b'<option value="DE">Germany (DE)</option>' in page.content
    response = admin_client_logged_in.post(
        "/admin/sla/businesshours/add/",
        {
            "name": "Munich",
            "timezone": "Europe/Berlin",
            "intervals": '[{"weekday": 0, "start": "09:00", "end": "17:00"}]',
            "holidays_country": "DE",
            "holidays_subdivision": "BY",
            "extra_holidays": '["2026-12-24"]',
        },
    )
    assert response.status_code == 302
    calendar = BusinessHours.objects.get(name="Munich")
    assert (calendar.holidays_country, calendar.holidays_subdivision) == ("DE", "BY")
    change = admin_client_logged_in.get(f"/admin/sla/businesshours/{calendar.pk}/change/").content.decode()
    assert "2026-01-06 (Tuesday): Epiphany" in change  # Bavarian holiday, this (frozen) year
    assert "2026-12-24 (Thursday): Custom closed date" in change


def test_calendar_form_refuses_a_subdivision_of_another_country(admin_client_logged_in):
    page = admin_client_logged_in.post(
        "/admin/sla/businesshours/add/",
        {
            "name": "Mixed",
            "timezone": "Europe/Berlin",
            "intervals": '[{"weekday": 0, "start": "09:00", "end": "17:00"}]',
            "holidays_country": "FR",
            "holidays_subdivision": "BY",
            "extra_holidays": "[]",
        },
    )
    assert page.status_code == 200 and b"is not a subdivision of FR" in page.content
