"""Reference pickers in a real browser: pick a team from the select, or choose "Other…" and type a template; both
save. Screenshots: tests/browser/artifacts/editor-pickers*.png."""

from __future__ import annotations

import pytest

from conversations import services as conversation_services
from tests.support.browser import log_in, save_and_continue
from tests.support.people import make_user
from workflows import services

ROUTE = {"type": "route", "config": {"team": "Billing", "strategy": "least_busy"}}
NOTIFY = {"type": "notify", "config": {"teams": ["Billing"], "text": "New VIP conversation"}}


@pytest.mark.django_db(transaction=True)
def test_pick_a_team_or_type_a_template(live_server, new_page, shot, roles):
    for name in ("Billing", "Retention", "VIP Support"):
        conversation_services.team_create(name=name)
    workflow = services.workflow_create(
        definition={
            "name": "Route VIPs",
            "status": "draft",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": [ROUTE, NOTIFY],
        }
    )
    make_user("manager", "Support managers")
    page = new_page()
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/")

    page.select_option('[data-field="steps[1].config.teams"] select[data-picker-add]', "VIP Support")
    assert page.input_value('textarea[name="steps[1].config.teams"]') == "Billing\nVIP Support"
    page.select_option('select[name="steps[0].config.team"]', "Retention")
    page.locator('[data-field="steps[0].config.team"]').scroll_into_view_if_needed()
    shot(page, "editor-pickers")
    save_and_continue(page)
    saved = services.workflow_definition(workflow)["steps"]
    assert saved[0]["config"]["team"] == "Retention" and saved[1]["config"]["teams"] == ["Billing", "VIP Support"]

    page.select_option('select[name="steps[0].config.team"]', "__other__")
    page.fill('[data-field="steps[0].config.team"] input[data-picker-other]', "{{ contact.attributes.team }}")
    shot(page, "editor-pickers-other")
    save_and_continue(page)
    assert services.workflow_definition(workflow)["steps"][0]["config"]["team"] == "{{ contact.attributes.team }}"
    assert page.locator('select[name="steps[0].config.team"] option:checked').inner_text() == (
        "{{ contact.attributes.team }}"
    )
