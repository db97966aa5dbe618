"""The agent's workspace in admin: the conversation page as a thread with buttons that post at once (reply, note,
assign to me, status), the quick views above the list, search over message text, and the bulk status change that
makes the agent choose."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations import services
from conversations.models import Event, Message

CHANGELIST = reverse("admin:conversations_conversation_changelist")


def change_url(conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def work_url(conversation) -> str:
    return reverse("admin:conversations_conversation_work", args=[conversation.pk])


@pytest.fixture
def agent_web(client, agent):
    client.force_login(agent)
    return client


def subjects_in(response) -> set[str]:
    return {conversation.subject for conversation in response.context["cl"].result_list}


# The conversation page -------------------------------------------------------------------------------------------


def test_page_shows_thread_with_note_apart_and_authors(agent_web, conversation, agent):
    services.message_create(conversation=conversation, body="It is still burning", sender_type="customer")
    services.message_create(
        conversation=conversation, body="Check the fuse first", sender_type="agent", author=agent, internal=True
    )

    page = agent_web.get(change_url(conversation)).content.decode()

    assert 'class="ws-msg ws-customer"' in page and 'class="ws-msg ws-note"' in page
    assert "Ada Lovelace" in page and "Internal note" in page
    assert page.index("It is still burning") < page.index("Check the fuse first")
    assert 'value="reply"' in page and 'value="note"' in page and "Assign to me" in page


def test_reply_button_posts_agent_message_at_once(agent_web, conversation, agent):
    response = agent_web.post(work_url(conversation), {"action": "reply", "body": "We are sending a technician."})

    assert response.status_code == 302 and response["Location"] == change_url(conversation)
    message = Message.objects.get(conversation=conversation)
    assert (message.sender_type, message.author, message.internal) == ("agent", agent, False)
    assert Event.objects.filter(type="message.created", payload__message_id=message.pk).exists()
    conversation.refresh_from_db()
    assert conversation.status == "open" and conversation.first_response_at is not None


def test_note_button_posts_internal_note_without_first_response(agent_web, conversation):
    agent_web.post(work_url(conversation), {"action": "note", "body": "VIP, be gentle"})

    message = Message.objects.get(conversation=conversation)
    assert message.internal is True
    conversation.refresh_from_db()
    assert conversation.first_response_at is None


def test_empty_reply_is_an_error_message_not_a_500(agent_web, conversation):
    response = agent_web.post(work_url(conversation), {"action": "reply", "body": "  "}, follow=True)

    assert "A message needs a body." in response.content.decode()
    assert not Message.objects.exists()


def test_assign_to_me_button_assigns_and_records_actor(agent_web, conversation, agent):
    agent_web.post(work_url(conversation), {"action": "assign_to_me"})

    conversation.refresh_from_db()
    assert conversation.assignee == agent
    event = Event.objects.get(type="conversation.assigned", conversation=conversation)
    assert event.payload["actor_id"] == agent.pk


def test_status_button_changes_status_through_service(agent_web, conversation, agent):
    response = agent_web.post(work_url(conversation), {"action": "status", "status": "pending"}, follow=True)

    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert Event.objects.get(type="conversation.status_changed").payload["actor_id"] == agent.pk
    assert "Status set to Pending." in response.content.decode()


def test_unknown_status_is_an_error_message(agent_web, conversation):
    response = agent_web.post(work_url(conversation), {"action": "status", "status": "bogus"}, follow=True)

    assert "Not done" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "new"


def test_work_view_takes_only_post(agent_web, conversation):
    assert agent_web.get(work_url(conversation)).status_code == 405


# The list ---------------------------------------------------------------------------------------------------------


def test_search_finds_text_only_in_a_message_body(agent_web, conversation, open_conversation):
    open_conversation(subject="Other case")
    services.message_create(conversation=conversation, body="The toner smells of almonds", sender_type="customer")
    services.message_create(conversation=conversation, body="almonds again", sender_type="customer")

    response = agent_web.get(CHANGELIST, {"q": "ALMONDS"})

    assert [c.subject for c in response.context["cl"].result_list] == ["Printer on fire"]


def test_quick_views_mine_and_unassigned(agent_web, agent, conversation, open_conversation):
    mine = open_conversation(subject="Mine")
    services.conversation_assign(conversation=mine, assignee=agent)

    assert subjects_in(agent_web.get(CHANGELIST, {"view": "mine"})) == {"Mine"}
    assert subjects_in(agent_web.get(CHANGELIST, {"view": "unassigned"})) == {"Printer on fire"}


def test_quick_links_are_shown_above_the_list(agent_web, conversation):
    page = agent_web.get(CHANGELIST, {"view": "mine"}).content.decode()

    for label in ("Mine", "Unassigned", "Breached", "Due soon"):
        assert f">{label}</a>" in page
    assert 'href="?view=mine" class="current"' in page


def test_bulk_change_status_has_no_default(agent_web, conversation):
    data = {"action": "change_status", ACTION_CHECKBOX_NAME: [conversation.pk], "index": 0}
    form_page = agent_web.post(CHANGELIST, data)
    assert 'value="" selected' in form_page.content.decode()

    agent_web.post(CHANGELIST, data | {"apply": "Apply", "status": ""})

    conversation.refresh_from_db()
    assert conversation.status == "new"
    assert not Event.objects.filter(type="conversation.status_changed").exists()


def _search_queries(client) -> tuple[int, set[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/conversations/", {"search": "almonds"})
    assert response.status_code == 200
    return len(queries), {row["subject"] for row in response.json()["results"]}


def test_api_search_finds_message_text_with_constant_queries(agent_client, contact):
    def open_with_message(number: int) -> None:
        case = services.conversation_open(contact=contact, channel="email", subject=f"Case {number}")
        services.message_create(conversation=case, body=f"Smells of almonds #{number}", sender_type="customer")
        services.message_create(conversation=case, body="and almonds again", sender_type="customer")

    open_with_message(0)
    services.conversation_open(contact=contact, channel="email", subject="Unrelated")
    few, found = _search_queries(agent_client)
    assert found == {"Case 0"}
    for number in range(1, 8):
        open_with_message(number)
    many, found = _search_queries(agent_client)
    assert len(found) == 8 and many == few
