"""Macros in admin: managers manage them (an external step type is a form error), agents apply one with a button
on the conversation page, and the change is made as the agent, at once."""

import pytest
from django.urls import reverse

from conversations.models import Event
from workflows.engine import macros
from workflows.models import Macro

ADD = reverse("admin:workflows_macro_add")
STEPS = [{"type": "add_tag", "config": {"tags": ["vip"]}}, {"type": "set_priority", "config": {"priority": "urgent"}}]


def conversation_page(conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


# The editor's step cards post each value under its path in the macro, as the workflow editor does.
CARDS = {
    "steps[0].type": "add_tag",
    "steps[0].config.tags": "vip",
    "steps[1].type": "set_priority",
    "steps[1].config.priority": "urgent",
}


def test_manager_adds_macro_in_admin(manager_browser, manager):
    response = manager_browser.post(ADD, {"name": "VIP", "active": "on", **CARDS})

    assert response.status_code == 302
    macro = Macro.objects.get()
    assert (macro.name, macro.created_by, [s["type"] for s in macro.steps]) == (
        "VIP",
        manager,
        ["add_tag", "set_priority"],
    )


def test_external_step_is_a_form_error_naming_the_step(manager_browser):
    cards = {"steps[0].type": "webhook", "steps[0].config.url": "https://hooks.example.com/x"}

    response = manager_browser.post(ADD, {"name": "Hook", "active": "on", **cards})

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

    response = agent_browser.post(
        reverse("admin:workflows_macro_apply", args=[conversation.pk]), {"macro": macro.pk}, follow=True
    )

    assert "Applied the macro &quot;VIP&quot;." in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.priority == "urgent" and list(conversation.tags.values_list("name", flat=True)) == ["vip"]
    assert Event.objects.filter(type="conversation.priority_changed", depth=0).exists()


@pytest.mark.parametrize("chosen", ["", "abc", "99999999999999999999999", "424242"])
def test_bad_macro_choice_is_an_error_message(agent_browser, conversation, chosen):
    response = agent_browser.post(
        reverse("admin:workflows_macro_apply", args=[conversation.pk]), {"macro": chosen}, follow=True
    )

    assert response.status_code == 200 and "Macro not applied: Choose a macro." in response.content.decode()


def test_editor_offers_internal_step_types_as_cards(manager_browser):
    page = manager_browser.get(ADD).content.decode()

    assert 'data-step-template="add_tag"' in page and 'data-step-template="auto_reply"' in page
    assert 'data-step-template="webhook"' not in page and 'data-step-template="http_request"' not in page
    assert 'name="steps"' not in page  # no JSON box: the steps are cards


def test_saved_macro_opens_as_cards_with_its_values(manager_browser):
    macro = macros.macro_create(name="VIP", steps=STEPS, inputs=[{"key": "order", "label": "Order", "type": "text"}])

    page = manager_browser.get(reverse("admin:workflows_macro_change", args=[macro.pk])).content.decode()

    assert 'name="steps[0].type" data-leaf=".type" value="add_tag"' in page
    assert 'value="urgent" selected' in page
    assert 'data-leaf=".key" value="order"' in page and "inputs.order" in page


def test_inputs_rows_are_saved_and_used_in_steps(manager_browser):
    cards = {
        "steps[0].type": "auto_reply",
        "steps[0].config.text": "Order {{ inputs.order }} checked",
        "inputs[0].key": "order",
        "inputs[0].label": "Order number",
        "inputs[0].type": "number",
        "inputs[1].key": "",
        "inputs[1].label": "",
        "inputs[1].type": "text",
    }

    response = manager_browser.post(ADD, {"name": "Check order", "active": "on", **cards})

    assert response.status_code == 302
    macro = Macro.objects.get()
    assert macro.inputs == [{"key": "order", "label": "Order number", "type": "number"}]
    assert macro.steps[0]["config"]["text"] == "Order {{ inputs.order }} checked"


def test_bad_input_row_is_an_error_on_its_row_and_nothing_saved(manager_browser):
    cards = {
        "steps[0].type": "add_tag",
        "steps[0].config.tags": "vip",
        "inputs[0].key": "not a key",
        "inputs[0].label": "Order",
        "inputs[0].type": "text",
    }

    response = manager_browser.post(ADD, {"name": "Bad", "active": "on", **cards})

    page = response.content.decode()
    assert response.status_code == 200 and "A key is a name of letters, digits and _, used once." in page
    assert 'data-leaf=".key" value="not a key"' in page  # what the manager typed is shown back
    assert not Macro.objects.exists()
