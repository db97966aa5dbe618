"""Macros v2 over the API (docs/agent_day.md): inputs, bulk apply with each conversation's outcome, personal macros."""

import pytest

from conversations import services
from conversations.models import Message
from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for, make_user
from workflows.models import Macro

MACROS = "/api/macros/"
ORDER_STEPS = [
    {"type": "add_tag", "config": {"tags": ["order-{{ inputs.order }}"]}},
    {"type": "change_status", "config": {"status": "pending"}},
    {
        "type": "auto_reply",
        "config": {"text": "Hi {{ contact.name }}, order {{ inputs.order }} ships on {{ inputs.ship_date }}."},
    },
]
ORDER_INPUTS = [
    {"key": "order", "label": "Order number", "type": "text"},
    {"key": "ship_date", "label": "Ship date", "type": "date"},
]


@pytest.fixture
def order_macro(manager_client) -> dict:
    response = manager_client.post(
        MACROS, {"name": "Order ships", "steps": ORDER_STEPS, "inputs": ORDER_INPUTS}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_macro_reads_back_its_inputs(agent_client, order_macro):
    listed = agent_client.get(MACROS).json()["results"]
    assert listed[0]["inputs"] == ORDER_INPUTS
    assert listed[0]["personal"] is False


def test_bulk_apply_with_inputs_changes_each_conversation(agent_client, contact, order_macro):
    first = services.conversation_open(contact=contact, channel="email", subject="one")
    second = services.conversation_open(contact=contact, channel="email", subject="two")
    response = agent_client.post(
        f"{MACROS}{order_macro['id']}/apply/",
        {"conversations": [first.pk, second.pk], "inputs": {"order": "A-17", "ship_date": "2026-12-09"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "results": [
            {"conversation": first.pk, "ok": True, "error": None},
            {"conversation": second.pk, "ok": True, "error": None},
        ]
    }
    for conversation in (first, second):
        read = agent_client.get(f"/api/conversations/{conversation.pk}/").json()
        assert (read["status"], read["tags"]) == ("pending", ["order-A-17"])
        assert Message.objects.filter(
            conversation=conversation, body="Hi Ada Lovelace, order A-17 ships on 2026-12-09."
        ).exists()


def test_one_failing_conversation_is_listed_and_the_others_commit(agent_client, contact, manager_client):
    macro = manager_client.post(
        MACROS,
        {
            "name": "Solve",
            "steps": [
                {"type": "add_tag", "config": {"tags": ["solved"]}},
                {"type": "change_status", "config": {"status": "resolved"}},
            ],
        },
        format="json",
    ).json()
    good = services.conversation_open(contact=contact, channel="email", subject="good")
    parent = services.conversation_open(contact=contact, channel="email", subject="parent")
    child = services.conversation_open(contact=contact, channel="email", subject="child")
    services.conversation_link(conversation=parent, other=child, kind="child")
    response = agent_client.post(
        f"{MACROS}{macro['id']}/apply/", {"conversations": [good.pk, parent.pk, 999999]}, format="json"
    )
    results = response.json()["results"]
    assert [(r["conversation"], r["ok"]) for r in results] == [(good.pk, True), (parent.pk, False), (999999, False)]
    assert f"#{child.pk}" in results[1]["error"]
    assert results[2]["error"] == "No such conversation."
    assert agent_client.get(f"/api/conversations/{good.pk}/").json()["status"] == "resolved"
    refused = agent_client.get(f"/api/conversations/{parent.pk}/").json()
    assert (refused["status"], refused["tags"]) == ("new", [])  # its own changes rolled back together


def test_missing_or_bad_inputs_refuse_the_whole_call(agent_client, conversation, order_macro):
    url = f"{MACROS}{order_macro['id']}/apply/"
    missing = agent_client.post(url, {"conversations": [conversation.pk], "inputs": {"order": "A-1"}}, format="json")
    assert missing.status_code == 400
    assert "inputs.ship_date" in missing.json()
    bad_date = agent_client.post(
        url, {"conversations": [conversation.pk], "inputs": {"order": "A-1", "ship_date": "soon"}}, format="json"
    )
    assert "inputs.ship_date" in bad_date.json()
    too_many = agent_client.post(url, {"conversations": list(range(1, 102)), "inputs": {}}, format="json")
    assert too_many.status_code == 400
    assert conversation.tags.count() == 0


def test_the_one_conversation_apply_takes_inputs_too(agent_client, conversation, order_macro):
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/apply-macro/",
        {"macro": order_macro["id"], "inputs": {"order": "B-2", "ship_date": "2026-12-10"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["tags"] == ["order-B-2"]


def test_bad_input_definitions_are_400s(manager_client):
    response = manager_client.post(
        MACROS,
        {"name": "x", "steps": ORDER_STEPS, "inputs": [{"key": "order no", "label": "x", "type": "colour"}]},
        format="json",
    )
    assert response.status_code == 400
    assert {"inputs[0].key", "inputs[0].type"} <= set(response.json())


def test_agents_make_personal_macros_only_they_see(agent_client, agent, roles, conversation):
    made = agent_client.post(
        MACROS,
        {"name": "My greeting", "personal": True, "steps": [{"type": "add_tag", "config": {"tags": ["greeted"]}}]},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert (made.json()["personal"], made.json()["owner"]) == (True, "agent")
    other = client_for(make_user("other", AGENTS_GROUP))
    assert other.get(MACROS).json()["count"] == 0
    assert (
        other.post(
            f"{MACROS}{made.json()['id']}/apply/", {"conversations": [conversation.pk]}, format="json"
        ).status_code
        == 404
    )
    assert (
        agent_client.post(
            f"{MACROS}{made.json()['id']}/apply/", {"conversations": [conversation.pk]}, format="json"
        ).json()["results"][0]["ok"]
        is True
    )
    assert agent_client.delete(f"{MACROS}{made.json()['id']}/").status_code == 204
    assert not Macro.objects.exists()


def test_the_demo_ships_macros_with_inputs_that_apply(agent_client, conversation, roles):
    from django.core.management import call_command

    call_command("load_demo_workflows")
    refund = Macro.objects.get(name="Refund issued")
    response = agent_client.post(
        f"{MACROS}{refund.pk}/apply/",
        {"conversations": [conversation.pk], "inputs": {"order": "A-3", "amount": "42"}},
        format="json",
    )
    assert response.json()["results"][0]["ok"] is True
    assert Message.objects.filter(conversation=conversation, body__contains="refunded 42 EUR for order A-3").exists()
    assert Macro.objects.count() >= 5


def test_the_workspace_asks_a_macros_inputs_inline(agent, conversation):
    from django.urls import reverse

    from tests.support.people import browser_for
    from workflows.engine import macros

    macro = macros.macro_create(
        name="Order",
        inputs=[{"key": "order", "label": "Order number", "type": "text"}],
        steps=[{"type": "add_tag", "config": {"tags": ["o-{{ inputs.order }}"]}}],
    )
    browser = browser_for(agent)
    page = browser.get(reverse("admin:conversations_conversation_change", args=[conversation.pk])).content.decode()
    assert 'name="input_order"' in page and "Order number" in page
    browser.post(
        reverse("admin:workflows_macro_apply", args=[conversation.pk]), {"macro": macro.pk, "input_order": "Z-1"}
    )
    assert list(conversation.tags.values_list("name", flat=True)) == ["o-Z-1"]


def test_the_workspace_preview_changes_nothing_and_apply_sends_the_edited_reply(agent, conversation):
    from django.urls import reverse

    from tests.support.people import browser_for
    from workflows.engine import macros

    macro = macros.macro_create(
        name="Order",
        inputs=[{"key": "order", "label": "Order number", "type": "text"}],
        steps=[
            {"type": "add_tag", "config": {"tags": ["o-{{ inputs.order }}"]}},
            {"type": "auto_reply", "config": {"text": "Order {{ inputs.order }} ok."}},
        ],
    )
    browser = browser_for(agent)
    preview = browser.post(
        reverse("admin:workflows_macro_preview", args=[conversation.pk]), {"macro": macro.pk, "input_order": "Q-1"}
    ).json()
    assert preview["reply"] == "Order Q-1 ok."
    assert preview["changes"] and "o-Q-1" in preview["changes"][0]
    assert conversation.tags.count() == 0 and conversation.messages.count() == 0
    missing = browser.post(reverse("admin:workflows_macro_preview", args=[conversation.pk]), {"macro": macro.pk})
    assert missing.status_code == 400 and "Order number is required" in missing.json()["error"]
    browser.post(
        reverse("admin:workflows_macro_apply", args=[conversation.pk]),
        {"macro": macro.pk, "input_order": "Q-1", "reply": "Edited: order Q-1 is fine."},
    )
    assert list(conversation.messages.values_list("body", flat=True)) == ["Edited: order Q-1 is fine."]
    assert list(conversation.tags.values_list("name", flat=True)) == ["o-Q-1"]


def test_api_preview_renders_the_reply_and_changes_nothing(agent_client, conversation, order_macro):
    response = agent_client.post(
        f"{MACROS}{order_macro['id']}/preview/",
        {"conversation": conversation.pk, "inputs": {"order": "C-3", "ship_date": "2026-12-11"}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["reply"] == "Hi Ada Lovelace, order C-3 ships on 2026-12-11."
    assert len(response.json()["changes"]) == 2
    assert conversation.messages.count() == 0 and conversation.tags.count() == 0
