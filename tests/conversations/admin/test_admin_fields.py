"""Conversation fields in admin (docs/managers.md): managers define fields; agents see and edit values on the
conversation page (the workspace), see them as list columns, and cannot resolve past an empty required field."""

import html

import pytest
from django.urls import reverse

from conversations import services
from conversations.models import ConversationField, Event
from tests.support.forms import change_url, form_data

CHANGELIST = reverse("admin:conversations_conversation_changelist")
FIELD_ADD = reverse("admin:conversations_conversationfield_add")


@pytest.fixture
def agent_web(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def manager_web(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def defined(db):
    services.conversation_field_create(key="order_id", label="Order number", required_on_resolve=True)
    services.conversation_field_create(key="reason", label="Reason", type="select", options=["refund", "billing"])
    services.conversation_field_create(key="items", label="Items", type="number")


def test_a_manager_defines_a_select_field_in_admin(manager_web):
    response = manager_web.post(
        FIELD_ADD,
        {"key": "reason", "label": "Reason", "type": "select", "options": "refund\nbilling, other", "position": 1},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    field = ConversationField.objects.get(key="reason")
    assert (field.type, field.options) == ("select", ["refund", "billing", "other"])


def test_a_select_without_options_is_a_form_error(manager_web):
    response = manager_web.post(FIELD_ADD, {"key": "reason", "label": "Reason", "type": "select", "position": 0})
    assert response.status_code == 200
    assert "options" in response.context["adminform"].form.errors
    assert not ConversationField.objects.exists()


def test_an_agent_cannot_add_definitions(agent_web):
    assert agent_web.get(FIELD_ADD).status_code == 403


def test_the_conversation_page_edits_values_through_the_service(agent_web, defined, conversation, agent):
    page = agent_web.get(change_url(conversation))
    assert "Order number" in page.content.decode()
    response = agent_web.post(
        change_url(conversation),
        form_data(page) | {"field__order_id": "A-5", "field__reason": "refund", "field__items": "3"},
    )
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.fields == {"order_id": "A-5", "reason": "refund", "items": 3}
    [event] = Event.objects.filter(conversation=conversation, type="conversation.fields_changed")
    assert event.payload["actor_id"] == agent.pk
    page = agent_web.get(change_url(conversation))
    assert page.context["adminform"].form["field__order_id"].value() == "A-5"


def test_resolving_with_an_empty_required_field_is_an_error_on_that_field(agent_web, defined, conversation):
    page = agent_web.get(change_url(conversation))
    response = agent_web.post(change_url(conversation), form_data(page) | {"status": "resolved"})
    assert response.status_code == 200
    assert "field__order_id" in response.context["adminform"].form.errors
    conversation.refresh_from_db()
    assert conversation.status == "new"
    response = agent_web.post(
        change_url(conversation), form_data(page) | {"status": "resolved", "field__order_id": "A-1"}
    )
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert (conversation.status, conversation.fields) == ("resolved", {"order_id": "A-1"})


def test_the_workspace_resolve_button_is_refused_naming_the_field(agent_web, defined, conversation):
    url = reverse("admin:conversations_conversation_work", args=[conversation.pk])
    response = agent_web.post(url, {"action": "status", "status": "resolved"}, follow=True)
    conversation.refresh_from_db()
    assert conversation.status != "resolved"
    assert "required before the conversation is resolved" in response.content.decode()


def test_the_list_shows_a_column_per_field(agent_web, defined, conversation):
    services.conversation_set_fields(conversation=conversation, fields={"order_id": "A-77"})
    content = agent_web.get(CHANGELIST).content.decode()
    assert "Order number" in content and "A-77" in content


def test_deleting_a_field_an_active_workflow_uses_is_refused_in_admin(manager_web, defined, manager_client):
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Orders",
            "status": "active",
            "trigger": {"type": "conversation.fields_changed", "config": {"keys": ["order_id"]}},
            "steps": [],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    field = ConversationField.objects.get(key="order_id")
    url = reverse("admin:conversations_conversationfield_delete", args=[field.pk])
    response = manager_web.post(url, {"post": "yes"}, follow=True)
    assert ConversationField.objects.filter(key="order_id").exists()
    assert 'used by workflow "Orders"' in html.unescape(response.content.decode())
    change = reverse("admin:conversations_conversationfield_change", args=[field.pk])
    response = manager_web.post(change, {"label": "Order", "type": "number", "options": "", "position": 0})
    assert response.status_code == 200 and "type" in response.context["adminform"].form.errors


def test_the_workspace_shows_a_fields_panel(agent_web, defined, conversation):
    services.conversation_set_fields(conversation=conversation, fields={"reason": "billing"})
    content = agent_web.get(change_url(conversation)).content.decode()
    panel = content[content.index('class="module ws-fields"') :]
    panel = panel[: panel.index("</div>")]
    assert "<dt>Reason</dt><dd>billing</dd>" in panel and "<dt>Order number *</dt><dd>—</dd>" in panel
