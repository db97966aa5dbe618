"""Macros in admin: managers manage them (an external step type is a form error), agents apply one with a button
on the conversation page, and the change is made as the agent, at once."""
import json

import pytest
from django.urls import reverse

from conversations.models import Event
from workflows.engine import macros
from workflows.models import Macro

ADD = reverse("admin:workflows_macro_add")
STEPS = [{"type": "add_tag", "config": {"tags": ["vip"]}}, {"type": "set_priority", "config": {"priority": "urgent"}}]


def conversation_page(conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def test_manager_adds_macro_in_admin(manager_browser, manager):
    response = manager_browser.post(ADD, {"name": "VIP", "active": "on", "steps": json.dumps(STEPS)})

    assert response.status_code == 302
    macro = Macro.objects.get()
    assert (macro.name, macro.created_by, [s["type"] for s in macro.steps]) == ("VIP", manager,
                                                                                  ["add_tag", "set_priority"])


def test_external_step_is_a_form_error_naming_the_step(manager_browser):
    steps = [{"type": "webhook", "config": {"url": "https://hooks.example.com/x"}}]

    response = manager_browser.post(ADD, {"name": "Hook", "active": "on", "steps": json.dumps(steps)})

    assert response.status_code == 200
    assert "steps[0].type" in response.content.decode() and "not an internal step type" in response.content.decode()
    assert not Macro.objects.exists()


def test_agents_cannot_open_macro_admin(agent_browser):
    assert agent_browser.get(reverse("admin:workflows_macro_changelist")).status_code == 403


def test_conversation_page_offers_active_macros_only(agent_browser, conversation):
    macros.macro_create(name="VIP", steps=STEPS)
    macros.macro_create(name="Old one", steps=STEPS, active=False)

    page = agent_browser.get(conversation_page(conversation)).content.decode()

    assert ">VIP</button>" in page and "Old one" not in page


def test_agent_applies_macro_with_one_click(agent_browser, agent, conversation):
    macro = macros.macro_create(name="VIP", steps=STEPS)

    response = agent_browser.post(reverse("admin:workflows_macro_apply", args=[conversation.pk]),
                                  {"macro": macro.pk}, follow=True)

    assert "Applied the macro &quot;VIP&quot;." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.priority == "urgent" and list(conversation.tags.values_list("name", flat=True)) == ["vip"]
    assert Event.objects.filter(type="conversation.priority_changed", depth=0).exists()


@pytest.mark.parametrize("chosen", ["", "abc", "99999999999999999999999", "424242"])
def test_bad_macro_choice_is_an_error_message(agent_browser, conversation, chosen):
    response = agent_browser.post(reverse("admin:workflows_macro_apply", args=[conversation.pk]),
                                  {"macro": chosen}, follow=True)

    assert response.status_code == 200 and "Macro not applied: Choose a macro." in response.content.decode()
