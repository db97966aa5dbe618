"""Export (GDPR Art. 20): everything held about a contact as one streamed JSON document; retention: the sweep
erases conversations closed longer than HELPDESK_RETENTION_DAYS ago, and only those."""

from __future__ import annotations

import datetime as dt
import json

from django.http import StreamingHttpResponse

from conversations import clock, services
from conversations.models import Conversation
from tests.support.people import client_for
from workflows.engine.sweep import sweep_once


def test_export_streams_the_contacts_conversations_without_internal_notes(manager, agent, conversation):
    services.message_create(conversation=conversation, body="My printer is on fire", sender_type="customer")
    services.message_create(conversation=conversation, body="Try water", sender_type="agent", author=agent)
    services.message_create(
        conversation=conversation, body="Customer seems upset", sender_type="agent", author=agent, internal=True
    )
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    services.survey_answer(survey=survey, score=4, comment="Quick answer")

    response = client_for(manager).get(f"/api/contacts/{conversation.contact_id}/export/")

    assert response.status_code == 200 and isinstance(response, StreamingHttpResponse)
    document = json.loads(b"".join(response.streaming_content))
    assert document["contact"]["email"] == "ada@example.com"
    assert document["contact"]["attributes"] == {"vip": True, "plan": "enterprise"}
    [exported] = document["conversations"]
    assert exported["subject"] == "Printer on fire"
    assert [message["body"] for message in exported["messages"]] == ["My printer is on fire", "Try water"]
    assert exported["surveys"][0]["score"] == 4 and exported["surveys"][0]["comment"] == "Quick answer"


def test_agents_may_not_export(agent, contact):
    assert client_for(agent).get(f"/api/contacts/{contact.pk}/export/").status_code == 403


def test_retention_erases_only_conversations_closed_long_enough_ago(settings, contact):
    settings.HELPDESK_RETENTION_DAYS = 30
    old = services.conversation_open(contact=contact, channel="web", subject="Old printer")
    services.message_create(conversation=old, body="Ada's old printer", sender_type="customer")
    services.conversation_change_status(conversation=old, status="closed")
    recent = services.conversation_open(contact=contact, channel="web", subject="New printer")
    services.conversation_change_status(conversation=recent, status="closed")
    still_open = services.conversation_open(contact=contact, channel="web", subject="Open printer")
    Conversation.objects.filter(pk__in=[old.pk, still_open.pk]).update(updated_at=clock.now() - dt.timedelta(days=31))

    assert sweep_once()["erased"] == 1

    old.refresh_from_db()
    assert old.subject == "[erased]" and old.erased_at is not None and old.status == "closed"
    assert old.messages.get().body == "[erased]"
    assert Conversation.objects.get(pk=recent.pk).subject == "New printer"
    assert Conversation.objects.get(pk=still_open.pk).subject == "Open printer"
    assert sweep_once()["erased"] == 0  # erased once


def test_retention_is_off_by_default(contact):
    old = services.conversation_open(contact=contact, channel="web", subject="Old printer")
    services.conversation_change_status(conversation=old, status="closed")
    Conversation.objects.filter(pk=old.pk).update(updated_at=clock.now() - dt.timedelta(days=3650))
    assert sweep_once()["erased"] == 0
    assert Conversation.objects.get(pk=old.pk).subject == "Old printer"
