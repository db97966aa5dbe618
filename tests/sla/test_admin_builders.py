"""SLA admin builders instead of raw JSON: the week grid of opening hours, the closed-dates list, the policy's match
condition and pausing statuses. Each saves the same JSON the API writes, refuses bad input with a form error on its
field, and keeps a JSON toggle that saves the typed JSON."""

import json

import pytest

from sla.models import BusinessHours, SlaPolicy

pytestmark = pytest.mark.django_db
ADD_CALENDAR = "/admin/sla/businesshours/add/"
ADD_POLICY = "/admin/sla/slapolicy/add/"


@pytest.fixture
def admin(client, manager):
    client.force_login(manager)
    return client


def calendar_post(**extra) -> dict:
    return {
        "name": "Berlin office",
        "timezone": "Europe/Berlin",
        "holidays_country": "DE",
        "holidays_subdivision": "",
        "intervals__builder": "1",
        "extra_holidays__builder": "1",
        **extra,
    }


WEDNESDAY = {"intervals__open_2": "1", "intervals__start_2": ["09:00"], "intervals__end_2": ["17:00"]}


def form_errors(page, field: str) -> list[str]:
    assert page.status_code == 200, "the form was saved"
    return list(page.context["adminform"].form.errors.get(field, []))


def test_week_grid_saves_several_intervals_a_day_and_skips_closed_days(admin):
    response = admin.post(
        ADD_CALENDAR,
        calendar_post(
            **{
                "intervals__open_0": "1",
                "intervals__start_0": ["09:00", "13:00"],
                "intervals__end_0": ["12:00", "17:30"],
                "intervals__open_4": "1",
                "intervals__start_4": ["22:00"],
                "intervals__end_4": ["06:00"],
                "intervals__start_5": ["10:00"],
                "intervals__end_5": ["14:00"],  # Saturday not ticked open: ignored
            }
        ),
    )
    assert response.status_code == 302
    assert BusinessHours.objects.get().intervals == [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "17:30"},
        {"weekday": 4, "start": "22:00", "end": "06:00"},
    ]


def test_week_grid_refuses_an_interval_without_an_end(admin):
    page = admin.post(
        ADD_CALENDAR,
        calendar_post(**{"intervals__open_1": "1", "intervals__start_1": ["09:00"], "intervals__end_1": [""]}),
    )
    assert form_errors(page, "intervals") == ['Tuesday 09:00 – ?: "end" must be a time "HH:MM" (00:00 to 24:00).']
    assert not BusinessHours.objects.exists()


def test_week_grid_shows_saved_hours_by_day_name(admin, office_hours):
    page = admin.get(f"/admin/sla/businesshours/{office_hours.pk}/change/").content.decode()
    assert 'name="intervals__open_0" value="1" data-day-open aria-label="Monday open" checked' in page
    assert 'name="intervals__open_6" value="1" data-day-open aria-label="Sunday open">' in page
    assert 'name="intervals__start_4" value="09:00"' in page and 'name="intervals__end_4" value="17:00"' in page


def test_json_toggle_saves_the_typed_json_and_refuses_broken_json(admin):
    intervals = [{"weekday": 6, "start": "10:00", "end": "24:00"}]
    response = admin.post(ADD_CALENDAR, calendar_post(**{"intervals__json": "1", "intervals": json.dumps(intervals)}))
    assert response.status_code == 302 and BusinessHours.objects.get().intervals == intervals
    page = admin.post(ADD_CALENDAR, calendar_post(name="Other", **{"intervals__json": "1", "intervals": "[{"}))
    assert "Enter a valid JSON." in form_errors(page, "intervals")


def test_closed_dates_list_saves_dates_and_refuses_a_bad_one(admin):
    response = admin.post(
        ADD_CALENDAR, calendar_post(**WEDNESDAY, **{"extra_holidays__date": ["2026-12-24", "", "2026-12-31"]})
    )
    assert response.status_code == 302
    assert BusinessHours.objects.get().extra_holidays == ["2026-12-24", "2026-12-31"]
    page = admin.post(ADD_CALENDAR, calendar_post(name="Typo", **WEDNESDAY, **{"extra_holidays__date": ["2026-02-30"]}))
    assert form_errors(page, "extra_holidays")


def policy_post(**extra) -> dict:
    return {
        "name": "VIP",
        "position": 0,
        "active": "on",
        "first_response_minutes": 30,
        "warning_percent": 80,
        "match": "{}",
        **extra,
    }


def test_policy_saves_the_builders_match_and_ticked_pausing_statuses(admin):
    match = {
        "all": [
            {"field": "conversation.channel", "op": "in", "value": ["live_chat", "whatsapp"]},
            {"field": "conversation.priority", "op": "eq", "value": "urgent"},
        ]
    }
    response = admin.post(ADD_POLICY, policy_post(match=json.dumps(match), pause_on=["pending", "on_hold"]))
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.match, policy.pause_on) == (match, ["pending", "on_hold"])


def test_policy_refuses_a_pausing_status_that_stops_the_clock(admin):
    page = admin.post(ADD_POLICY, policy_post(pause_on=["resolved"]))
    assert "resolved is not one of the available choices" in " ".join(form_errors(page, "pause_on"))


def test_policy_refuses_a_match_on_an_unknown_op(admin):
    page = admin.post(
        ADD_POLICY, policy_post(match='{"all": [{"field": "conversation.channel", "op": "like", "value": "web"}]}')
    )
    assert 'unknown op "like"' in " ".join(form_errors(page, "match"))


def test_policy_page_offers_labelled_fields_operators_and_statuses(admin, team):
    page = admin.get(ADD_POLICY).content.decode()
    assert "On hold</label>" in page and 'value="on_hold"' in page
    spec = json.loads(page.split('data-spec="')[1].split('"')[0].replace("&quot;", '"'))
    fields = {field["value"]: field for field in spec["fields"]}
    assert ["live_chat", "Live chat"] in fields["conversation.channel"]["choices"]
    assert [team.name, team.name] in fields["conversation.team"]["choices"]
    assert {"value": "not_in", "label": "is none of", "kind": "list"} in spec["operators"]
