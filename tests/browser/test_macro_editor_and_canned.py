"""Macros built with the workflow editor's step cards, and canned responses inserted into the reply box, in a real
browser at 1440x900. Screenshots: tests/browser/artifacts/macro-*.png."""

from __future__ import annotations

import pytest

from conversations import services
from conversations.models import Message
from tests.support.browser import log_in, open_page
from tests.support.people import make_user
from workflows.engine import canned
from workflows.models import Macro


@pytest.mark.django_db(transaction=True)
def test_manager_builds_a_macro_with_step_cards_and_an_input(live_server, chromium, shot, roles):
    make_user("manager", "Support managers")
    page = open_page(chromium)
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/workflows/macro/add/")
    page.fill("#id_name", "Refund with order")
    page.get_by_role("button", name="+ Add input").click()
    page.get_by_label("Input key").fill("order")
    page.get_by_label("Input label").fill("Order number")
    page.select_option("#wf-add-type", "add_tag")
    page.get_by_role("button", name="+ Add step").click()
    page.locator('[name="steps[0].config.tags"]').fill("refund")
    page.select_option("#wf-add-type", "auto_reply")
    page.get_by_role("button", name="+ Add step").click()
    page.locator('[name="steps[1].config.text"]').fill("We refunded order {{ inputs.order }}.")
    shot(page, "macro-01-editor-cards")
    page.locator("input[name=_save]").click()
    page.wait_for_url("**/admin/workflows/macro/")

    macro = Macro.objects.get()
    assert macro.inputs == [{"key": "order", "label": "Order number", "type": "text"}]
    assert [(s["type"], s["config"]) for s in macro.steps][0] == ("add_tag", {"tags": ["refund"]})
    assert macro.steps[1]["config"]["text"] == "We refunded order {{ inputs.order }}."


@pytest.mark.django_db(transaction=True)
def test_agent_inserts_a_canned_response_and_sends_it(live_server, chromium, shot, roles):
    make_user("agent", "Agents")
    contact = services.contact_create(name="Ada Lovelace", email="ada@example.com")
    conversation = services.conversation_open(contact=contact, channel="api", subject="Printer on fire")
    canned.canned_response_create(name="Greeting", body="Hi {{ contact.name }}, thanks for writing.")
    page = open_page(chromium)
    log_in(page, live_server.url, "agent")
    page.goto(f"{live_server.url}/admin/conversations/conversation/{conversation.pk}/change/")
    page.get_by_label("Canned response").select_option(label="Greeting")
    page.get_by_role("button", name="Insert").click()
    page.wait_for_function("document.getElementById('ws-body').value.includes('Hi Ada Lovelace')")
    page.locator("#ws-body").press("End")
    page.locator("#ws-body").type(" We are on it.")
    shot(page, "macro-02-canned-inserted")
    assert not Message.objects.filter(conversation=conversation, sender_type="agent").exists()  # nothing sent yet
    page.locator("#ws-body").press("Control+Enter")
    page.locator(".ws-thread li", has_text="We are on it.").wait_for()

    message = Message.objects.get(conversation=conversation, sender_type="agent")
    assert message.body == "Hi Ada Lovelace, thanks for writing. We are on it."
