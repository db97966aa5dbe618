"""Builders instead of raw JSON, in a real browser at 1440x900: a manager sets up a business-hours calendar on the
week grid (two intervals on Monday, a Saturday, a closed date), an SLA policy with the condition builder and pausing
tick boxes, and a workflow trigger filter (channels, words, a condition) — and no page of the journey shows raw
JSON (`{"`) unless the JSON toggle is ticked. Screenshots land in tests/browser/artifacts/ (and SHOTS_DIR)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sla.models import BusinessHours, SlaPolicy
from tests.support.browser import log_in
from tests.support.people import make_user
from workflows.models import Workflow

VIEWPORT = {"width": 1440, "height": 900}
SHOTS = Path(os.environ.get("SHOTS_DIR", Path(__file__).resolve().parent / "artifacts"))


@pytest.fixture
def page_1440(chromium):
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    return context.new_page()


def snap(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def assert_no_raw_json(page) -> None:
    text = page.inner_text("#content")
    assert '{"' not in text, text[max(0, text.find('{"') - 200) : text.find('{"') + 200]


def save(page, button: str = "_continue") -> None:
    page.click(f'input[name="{button}"]')
    page.wait_for_load_state()


@pytest.mark.django_db(transaction=True)
def test_manager_sets_up_business_hours_on_the_week_grid(live_server, page_1440, roles):
    make_user("manager", "Support managers")
    page = page_1440
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/sla/businesshours/add/")
    assert_no_raw_json(page)
    page.fill("#id_name", "Berlin office")
    page.select_option("#id_timezone", "Europe/Berlin")
    page.select_option("#id_holidays_country", "DE")

    monday = page.locator('tr[data-day="0"]')
    monday.locator("[data-day-open]").check()  # ticking a day open offers 09:00-17:00
    assert monday.locator("input[data-time]").nth(0).input_value() == "09:00"
    monday.locator("input[data-time]").nth(1).fill("12:00")
    monday.locator("[data-add-interval]").click()
    monday.locator("input[data-time]").nth(2).fill("13:00")
    monday.locator("input[data-time]").nth(3).fill("17:30")
    saturday = page.locator('tr[data-day="5"]')
    saturday.locator("[data-day-open]").check()
    saturday.locator("input[data-time]").nth(0).fill("10:00")
    saturday.locator("input[data-time]").nth(1).fill("14:00")
    page.click(".field-extra_holidays [data-add-row]")
    page.fill('.field-extra_holidays input[type="date"]', "2026-12-24")
    assert_no_raw_json(page)
    snap(page, "nojson-01-week-grid")

    # The JSON toggle shows what the grid will save, for power users; unticking returns to the grid.
    page.check('input[name="intervals__json"]')
    shown = json.loads(page.input_value('textarea[name="intervals"]'))
    assert shown[0] == {"weekday": 0, "start": "09:00", "end": "12:00"} and len(shown) == 3
    snap(page, "nojson-02-week-grid-json")
    page.uncheck('input[name="intervals__json"]')
    assert page.locator(".hd-week-grid").is_visible()

    save(page)
    calendar = BusinessHours.objects.get()
    assert calendar.intervals == [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "17:30"},
        {"weekday": 5, "start": "10:00", "end": "14:00"},
    ]
    assert calendar.extra_holidays == ["2026-12-24"] and calendar.timezone == "Europe/Berlin"
    assert page.locator('tr[data-day="0"] [data-interval]').count() == 2
    assert_no_raw_json(page)
    snap(page, "nojson-03-calendar-saved")

    # An interval left without its end is refused on the field, and nothing changes.
    tuesday = page.locator('tr[data-day="1"]')
    tuesday.locator("[data-day-open]").check()
    tuesday.locator("input[data-time]").nth(1).fill("")
    save(page)
    assert page.locator(".field-intervals .errorlist").is_visible()
    calendar.refresh_from_db()
    assert len(calendar.intervals) == 3
    snap(page, "nojson-04-week-grid-error")


@pytest.mark.django_db(transaction=True)
def test_manager_builds_a_policy_match_and_a_trigger_filter_without_json(live_server, page_1440, roles):
    make_user("manager", "Support managers")
    BusinessHours.objects.create(
        name="Berlin office", timezone="Europe/Berlin", intervals=[{"weekday": 0, "start": "09:00", "end": "17:00"}]
    )
    page = page_1440
    log_in(page, live_server.url, "manager")

    # SLA policy: "channel is one of Live chat, WhatsApp", clocks paused while pending.
    page.goto(f"{live_server.url}/admin/sla/slapolicy/add/")
    page.fill("#id_name", "Chat")
    page.fill("#id_first_response_minutes", "15")
    page.click(".hd-condition [data-cond-add=leaf]")
    leaf = page.locator(".hd-cond-leaf").first
    leaf.locator(".hd-cond-field").select_option("conversation.channel")
    leaf.locator(".hd-cond-op").select_option("in")
    leaf.get_by_label("Live chat").check()
    leaf.get_by_label("WhatsApp").check()
    page.get_by_label("Pending").check()
    assert_no_raw_json(page)
    snap(page, "nojson-05-sla-policy-builder")
    save(page)
    policy = SlaPolicy.objects.get()
    assert policy.match == {"all": [{"field": "conversation.channel", "op": "in", "value": ["live_chat", "whatsapp"]}]}
    assert policy.pause_on == ["pending"]
    assert page.locator(".hd-cond-leaf").count() == 1  # the saved tree renders back in the builder
    assert_no_raw_json(page)

    # Workflow trigger filter: customer messages on live chat with "refund", from a VIP contact.
    page.goto(f"{live_server.url}/admin/workflows/workflow/add/")
    page.fill("#wf-name", "Refunds")
    page.select_option("#wf-trigger-type", "message.created")
    panel = page.locator('fieldset[data-trigger="message.created"]')
    panel.locator('input[value="customer"]').check()
    panel.locator('input[value="live_chat"]').check()
    panel.locator('textarea[name="trigger.config.content_contains"]').fill("refund\nmoney back")
    panel.locator(".wf-add-leaf").click()
    panel.locator(".wf-cond-field").fill("contact.attributes.vip")
    panel.locator(".wf-cond-value").fill("true")
    panel.locator(".wf-add-leaf").click()  # ... written outside business hours: the value offers the calendars
    second = panel.locator(".wf-leaf").nth(1)
    second.locator(".wf-cond-field").fill("event.occurred_at")
    second.locator(".wf-cond-op").select_option("outside_business_hours")
    assert second.locator(".wf-cond-value").get_attribute("list") == "wf-calendars"
    assert page.locator('#wf-calendars option[value="Berlin office"]').count() == 1
    second.locator(".wf-cond-value").fill("Berlin office")
    page.select_option("#wf-add-type", "add_tag")
    page.click(".wf-add-step-btn")
    page.locator('.wf-step [name="steps[0].config.tags"]').fill("refund")
    assert_no_raw_json(page)
    editor_text = page.inner_text("#content")
    assert "§" not in editor_text and "(message.created)" not in editor_text and "add_tag" not in editor_text
    snap(page, "nojson-06-trigger-filter-builder")
    save(page)
    workflow = Workflow.objects.get()
    config = workflow.trigger_config
    assert config == {
        "sender_types": ["customer"],
        "channels": ["live_chat"],
        "content_contains": ["refund", "money back"],
        "conditions": {
            "all": [
                {"field": "contact.attributes.vip", "op": "eq", "value": True},
                {"field": "event.occurred_at", "op": "outside_business_hours", "value": "Berlin office"},
            ]
        },
    }
    assert_no_raw_json(page)
    snap(page, "nojson-07-trigger-filter-saved")
    assert re.search(r"/admin/workflows/workflow/\d+/change/", page.url)
