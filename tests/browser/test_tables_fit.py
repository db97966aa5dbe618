"""At 1440x900 with the admin's navigation sidebar open, every list table fits the page or scrolls inside its own
container: no column (the workflow list's On/Off switch, last run, durations, SLA times) is cut off (issue 14).

Screenshots land in tests/browser/artifacts/tables-*.png.
"""

from __future__ import annotations

import pytest

from conversations import services as conversation_services
from sla.policies import sla_policy_save
from tests.support.browser import MEASURE, fits, log_in
from tests.support.people import make_user
from tests.support.runs import drain
from workflows import services

LISTS = {
    "workflows": "/admin/workflows/workflow/",
    "runs": "/admin/workflows/workflowrun/",
    "conversations": "/admin/conversations/conversation/",
    "sla-targets": "/admin/sla/slatarget/",
}
NO_SIDEBAR: set[str] = set()  # every list, the agents' conversation list included, keeps the sidebar open
# For the table and each ancestor up to <body>: its right edge, the viewport's width, and whether the element is a
# horizontal scroll container (then what lies beyond its box is reachable by scrolling it, not cut off).


def long_workflows() -> None:
    """Workflows with long names and every column filled (runs, a last run, the On/Off switch), one of them with
    runs that didn't match its condition (the widest success-rate cell)."""
    for index in range(3):
        condition = (
            [
                {
                    "type": "condition",
                    "on_false": "stop",
                    "config": {"all": [{"field": "conversation.channel", "op": "eq", "value": "sms"}]},
                }
            ]
            if index == 0
            else []
        )
        services.workflow_create(
            definition={
                "name": f"Route VIP enterprise refund requests to the billing escalation team number {index}",
                "description": "",
                "status": "active",
                "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
                "steps": condition
                + [
                    {"type": "add_tag", "config": {"tags": ["vip"]}},
                    {"type": "set_priority", "config": {"priority": "high"}},
                ],
            }
        )


@pytest.mark.django_db(transaction=True)
def test_list_tables_fit_at_1440_with_the_sidebar_open(live_server, chromium, shot, roles):
    make_user("manager", "Support managers")
    sla_policy_save(
        name="Everyone",
        position=1,
        match={},
        targets={"first_response": 60, "resolution": 480},
        pause_on=["pending"],
        warning_percent=80,
    )
    long_workflows()
    contact = conversation_services.contact_create(
        name="Maximiliane Mustermann-Oberhuber", email="maximiliane.mustermann-oberhuber@example.com"
    )
    for subject in ("My invoice from last month shows a duplicate charge for the premium plan", "Login"):
        conversation = conversation_services.conversation_open(contact=contact, channel="email", subject=subject)
        conversation_services.message_create(conversation=conversation, body="Please help", sender_type="customer")
    drain()
    page = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(page, live_server.url, "manager")
    failures = {}
    for name, url in LISTS.items():
        page.goto(live_server.url + url)
        assert page.locator("#nav-sidebar").is_visible() == (name not in NO_SIDEBAR), name
        measure = page.locator("#result_list").evaluate(MEASURE)
        shot(page, f"tables-{name}")
        if not fits(measure) or measure["pageOverflow"] > 0:
            failures[name] = measure
    assert failures == {}
