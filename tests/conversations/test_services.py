"""The service layer of the conversations domain: every change writes its event, bad input writes nothing.

Each test acts through one function of `conversations.services` and checks what the rest of the product sees: the
rows, and the domain event (type, payload, depth) that workflows and SLA consume. A change refused by validation or
a change that changes nothing records no event, so no workflow fires on it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from conversations import selectors, services
from conversations.models import Contact, Conversation, Event, Message, Survey, Ticket, Transcript


@contextmanager
def new_events() -> Iterator[list[Event]]:
    """Collect the events written inside the block (in the order they were written)."""
    seen = set(Event.objects.values_list("pk", flat=True))
    created: list[Event] = []
    yield created
    created.extend(Event.objects.exclude(pk__in=seen).order_by("occurred_at"))


def only_event(events: list[Event], type_: str) -> Event:
    """The single event of `type_` among `events` (fails when there is none or more than one)."""
    matching = [event for event in events if event.type == type_]
    assert len(matching) == 1, [event.type for event in events]
    return matching[0]


@contextmanager
def refused(field: str) -> Iterator[None]:
    """The block raises a ValidationError naming `field` and writes no event."""
    before = Event.objects.count()
    with pytest.raises(ValidationError) as caught:
        yield
    assert field in caught.value.message_dict
    assert Event.objects.count() == before


# Contacts ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_contact_create_normalises_phone_and_records_contact_created():
    with new_events() as events:
        contact = services.contact_create(name="Grace", phone="+1 (415) 555-0123", attributes={"vip": True})
    contact.refresh_from_db()
    assert contact.phone == "+14155550123"
    event = only_event(events, "contact.created")
    assert (event.contact_id, event.conversation_id, event.payload, event.depth) == (
        contact.pk,
        None,
        {"contact_id": contact.pk},
        0,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["4155550123", "+1 555", "+99 12345", "call me"])
def test_contact_create_with_bad_phone_writes_nothing(phone):
    with refused("phone"):
        services.contact_create(name="Grace", phone=phone)
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_contact_create_refuses_attributes_that_are_not_an_object():
    with refused("attributes"):
        services.contact_create(name="Grace", attributes=["vip"])
    assert not Contact.objects.exists()


def test_contact_update_merges_attributes_and_removes_null_keys(contact):
    with new_events() as events:
        services.contact_update(contact=contact, attributes_patch={"plan": "pro", "vip": None, "region": "EU"}, depth=2)
    contact.refresh_from_db()
    assert contact.attributes == {"plan": "pro", "region": "EU"}
    event = only_event(events, "contact.updated")
    assert sorted(event.payload["attributes"]) == ["plan", "region", "vip"]
    assert event.payload["fields"] == []
    assert event.depth == 2


def test_contact_update_lists_changed_fields(contact):
    with new_events() as events:
        services.contact_update(contact=contact, name="Ada King", phone="+44 20 7946 0958", segment="enterprise")
    contact.refresh_from_db()
    assert (contact.name, contact.phone) == ("Ada King", "+442079460958")
    assert sorted(only_event(events, "contact.updated").payload["fields"]) == ["name", "phone"]


def test_contact_update_that_changes_nothing_records_nothing(contact):
    with new_events() as events:
        services.contact_update(contact=contact, name="Ada Lovelace", attributes_patch={"vip": True, "gone": None})
    assert events == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "not a phone"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"attributes_patch": "vip"}, "attributes"),
    ],
)
def test_contact_update_refuses_bad_input_and_keeps_the_row(contact, kwargs, field):
    with refused(field):
        services.contact_update(contact=contact, **kwargs)
    contact.refresh_from_db()
    assert (contact.phone, contact.email) == ("+14155550123", "ada@example.com")


def test_merge_attributes_reports_only_real_changes():
    merged, changed = services.merge_attributes({"a": 1, "b": 2}, {"a": 1, "b": None, "c": None, "d": 4})
    assert merged == {"a": 1, "d": 4}
    assert sorted(changed) == ["b", "d"]


# Teams and agents --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_team_create_trims_the_name_and_refuses_duplicates():
    team = services.team_create(name="  Billing ")
    assert team.name == "Billing"
    with pytest.raises(ValidationError) as caught:
        services.team_create(name="Billing")
    assert "name" in caught.value.message_dict


@pytest.mark.django_db
def test_team_create_refuses_an_empty_name():
    with pytest.raises(ValidationError):
        services.team_create(name="   ")


def test_team_update_renames_and_refuses_unknown_fields(team):
    services.team_update(team=team, name=" Tier 2 ", email="tier2@example.com")
    team.refresh_from_db()
    assert (team.name, team.email) == ("Tier 2", "tier2@example.com")
    with pytest.raises(ValidationError) as caught:
        services.team_update(team=team, colour="red")
    assert "colour" in caught.value.message_dict


def test_team_with_open_conversations_cannot_be_deleted(team, conversation):
    services.conversation_assign(conversation=conversation, team=team)
    with pytest.raises(ValidationError) as caught:
        services.team_delete(team=team)
    assert "team" in caught.value.message_dict
    services.conversation_change_status(conversation=conversation, status="closed")
    services.team_delete(team=team)
    conversation.refresh_from_db()
    assert conversation.team is None


def test_agent_mark_assigned_stamps_the_agent(agent):
    services.agent_mark_assigned(agent=agent)
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.last_assigned_at is not None


def test_resolve_team_by_id_or_name(team):
    assert selectors.resolve_team(team.pk) == team
    assert selectors.resolve_team(str(team.pk)) == team
    assert selectors.resolve_team("support") == team
    with pytest.raises(ValidationError):
        selectors.resolve_team("Nobody")


def test_resolve_agent_by_id_username_or_email(agent):
    assert selectors.resolve_agent(agent.pk) == agent
    assert selectors.resolve_agent("agent") == agent
    assert selectors.resolve_agent("AGENT@example.com") == agent
    with pytest.raises(ValidationError):
        selectors.resolve_agent("nobody")


# Conversations -----------------------------------------------------------------------------------------------


def test_conversation_open_starts_new_and_records_conversation_created(contact, team):
    with new_events() as events:
        conversation = services.conversation_open(
            contact=contact, channel="whatsapp", subject="Refund", priority="high", team=team, depth=2
        )
    conversation.refresh_from_db()
    assert (conversation.status, conversation.priority, conversation.team) == ("new", "high", team)
    event = only_event(events, "conversation.created")
    assert event.conversation_id == conversation.pk and event.contact_id == contact.pk
    assert event.payload == {"status": "new", "priority": "high", "channel": "whatsapp", "segment": "enterprise"}
    assert event.depth == 2


@pytest.mark.parametrize(("kwargs", "field"), [({"channel": "pigeon"}, "channel"), ({"priority": "asap"}, "priority")])
def test_conversation_open_refuses_bad_choices(contact, kwargs, field):
    with refused(field):
        services.conversation_open(contact=contact, **{"channel": "email", **kwargs})
    assert not Conversation.objects.exists()


def test_change_status_records_from_and_to(conversation, agent):
    with new_events() as events:
        services.conversation_change_status(conversation=conversation, status="pending", actor=agent, depth=1)
    event = only_event(events, "conversation.status_changed")
    assert event.payload == {"from": "new", "to": "pending", "actor_id": agent.pk}
    assert event.depth == 1
    conversation.refresh_from_db()
    assert conversation.status == "pending"


def test_resolving_stamps_resolved_at_and_reopening_clears_it(conversation):
    services.conversation_change_status(conversation=conversation, status="resolved")
    conversation.refresh_from_db()
    assert conversation.resolved_at is not None
    services.conversation_change_status(conversation=conversation, status="open")
    conversation.refresh_from_db()
    assert conversation.resolved_at is None


def test_change_status_to_the_same_status_records_nothing(conversation):
    with new_events() as events:
        services.conversation_change_status(conversation=conversation, status="new")
    assert events == []


def test_change_status_refuses_an_unknown_status(conversation):
    with refused("status"):
        services.conversation_change_status(conversation=conversation, status="done")
    conversation.refresh_from_db()
    assert conversation.status == "new"


def test_assign_records_before_and_after(conversation, agent, team):
    with new_events() as events:
        services.conversation_assign(conversation=conversation, assignee="agent", team="Support", depth=2)
    event = only_event(events, "conversation.assigned")
    assert event.payload == {
        "before": {"assignee_id": None, "team_id": None},
        "assignee_id": agent.pk,
        "team_id": team.pk,
        "actor_id": None,
    }
    assert event.depth == 2
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (agent, team)


def test_assign_none_clears_and_same_assignment_records_nothing(conversation, agent):
    services.conversation_assign(conversation=conversation, assignee=agent)
    with new_events() as events:
        services.conversation_assign(conversation=conversation, assignee=agent)
    assert events == []
    services.conversation_assign(conversation=conversation, assignee=None)
    conversation.refresh_from_db()
    assert conversation.assignee is None


def test_assign_to_an_unknown_agent_changes_nothing(conversation, team):
    with refused("agent"):
        services.conversation_assign(conversation=conversation, assignee="ghost", team=team)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (None, None)


def test_set_priority_records_from_and_to(conversation):
    with new_events() as events:
        services.conversation_set_priority(conversation=conversation, priority="urgent", depth=2)
    event = only_event(events, "conversation.priority_changed")
    assert (event.payload, event.depth) == ({"from": "normal", "to": "urgent"}, 2)


def test_set_priority_unchanged_or_unknown_records_nothing(conversation):
    with new_events() as events:
        services.conversation_set_priority(conversation=conversation, priority="normal")
    assert events == []
    with refused("priority"):
        services.conversation_set_priority(conversation=conversation, priority="critical")


def test_raise_priority_raises_but_never_lowers(conversation):
    with new_events() as events:
        services.conversation_raise_priority(conversation=conversation, priority="high", depth=2)
        services.conversation_raise_priority(conversation=conversation, priority="low")
        services.conversation_raise_priority(conversation=conversation, priority="high")
    event = only_event(events, "conversation.priority_changed")
    assert (event.payload, event.depth) == ({"from": "normal", "to": "high"}, 2)
    conversation.refresh_from_db()
    assert conversation.priority == "high"
    with refused("priority"):
        services.conversation_raise_priority(conversation=conversation, priority="p0")


# Tags --------------------------------------------------------------------------------------------------------


def tag_names(conversation: Conversation) -> list[str]:
    return sorted(conversation.tags.values_list("name", flat=True))


def test_add_tags_records_only_the_tags_really_added(conversation):
    services.conversation_add_tags(conversation=conversation, tags=["billing"])
    with new_events() as events:
        services.conversation_add_tags(conversation=conversation, tags=["billing", " vip ", "vip"], depth=2)
    event = only_event(events, "conversation.tags_changed")
    assert (event.payload, event.depth) == ({"added": ["vip"], "removed": []}, 2)
    assert tag_names(conversation) == ["billing", "vip"]


def test_adding_tags_already_there_records_nothing(conversation):
    services.conversation_add_tags(conversation=conversation, tags=["billing"])
    with new_events() as events:
        services.conversation_add_tags(conversation=conversation, tags=["billing"])
    assert events == []


@pytest.mark.parametrize("tags", [[""], ["   "], [42], [None], ["x" * 101]])
def test_bad_tags_are_refused(conversation, tags):
    with refused("tags"):
        services.conversation_add_tags(conversation=conversation, tags=tags)
    assert tag_names(conversation) == []


def test_remove_tags_records_the_tags_removed(conversation):
    services.conversation_add_tags(conversation=conversation, tags=["billing", "vip"])
    with new_events() as events:
        services.conversation_remove_tags(conversation=conversation, tags=["vip", "never-there"], depth=1)
    event = only_event(events, "conversation.tags_changed")
    assert (event.payload, event.depth) == ({"added": [], "removed": ["vip"]}, 1)
    assert tag_names(conversation) == ["billing"]


def test_removing_absent_tags_records_nothing(conversation):
    with new_events() as events:
        services.conversation_remove_tags(conversation=conversation, tags=["vip"])
    assert events == []


def test_set_tags_makes_the_set_exact(conversation):
    services.conversation_add_tags(conversation=conversation, tags=["billing", "vip"])
    with new_events() as events:
        services.conversation_set_tags(conversation=conversation, tags=["vip", "refund"])
    assert tag_names(conversation) == ["refund", "vip"]
    assert sorted((tuple(e.payload["added"]), tuple(e.payload["removed"])) for e in events) == [
        ((), ("billing",)),
        (("refund",), ()),
    ]


def test_set_tags_to_the_current_set_records_nothing(conversation):
    services.conversation_add_tags(conversation=conversation, tags=["billing"])
    with new_events() as events:
        services.conversation_set_tags(conversation=conversation, tags=["billing"])
    assert events == []


# Dispositions ------------------------------------------------------------------------------------------------


def test_final_disposition_closes_the_conversation(conversation, agent):
    with new_events() as events:
        services.conversation_set_disposition(
            conversation=conversation, disposition="problem_solved", actor=agent, depth=2
        )
    disposition = only_event(events, "conversation.disposition_set")
    assert disposition.payload == {"disposition": "problem_solved", "final": True, "actor_id": agent.pk}
    status = only_event(events, "conversation.status_changed")
    assert (status.payload["from"], status.payload["to"], status.depth) == ("new", "closed", 2)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.disposition) == ("closed", "problem_solved")
    assert conversation.resolved_at is not None


def test_non_final_disposition_keeps_the_conversation_open(conversation):
    with new_events() as events:
        services.conversation_set_disposition(conversation=conversation, disposition="needs_approval")
    assert only_event(events, "conversation.disposition_set").payload["final"] is False
    assert [e.type for e in events] == ["conversation.disposition_set"]
    conversation.refresh_from_db()
    assert conversation.status == "new"


def test_setting_the_same_disposition_again_records_nothing(conversation):
    services.conversation_set_disposition(conversation=conversation, disposition="needs_approval")
    with new_events() as events:
        services.conversation_set_disposition(conversation=conversation, disposition="needs_approval")
    assert events == []


def test_final_disposition_again_on_a_reopened_conversation_closes_it_again(conversation):
    services.conversation_set_disposition(conversation=conversation, disposition="spam")
    services.conversation_change_status(conversation=conversation, status="open")
    services.conversation_set_disposition(conversation=conversation, disposition="spam")
    conversation.refresh_from_db()
    assert conversation.status == "closed"


def test_unknown_disposition_is_refused(conversation):
    with refused("disposition"):
        services.conversation_set_disposition(conversation=conversation, disposition="solved-ish")
    conversation.refresh_from_db()
    assert (conversation.disposition, conversation.status) == ("", "new")


# Messages ----------------------------------------------------------------------------------------------------


def test_customer_message_records_message_created(conversation):
    with new_events() as events:
        message = services.message_create(
            conversation=conversation, body="  Where is my order?  ", sender_type="customer", depth=2
        )
    assert message.body == "Where is my order?"
    event = only_event(events, "message.created")
    assert event.depth == 2
    assert event.payload["message_id"] == message.pk
    assert (event.payload["sender_type"], event.payload["internal"], event.payload["channel"]) == (
        "customer",
        False,
        "live_chat",
    )
    assert event.payload["sentiment_before"] is None
    assert event.payload["sentiment"] == event.payload["sentiment_after"] == message.sentiment
    conversation.refresh_from_db()
    assert conversation.last_customer_message_at is not None
    assert conversation.first_response_at is None


@pytest.mark.parametrize("status", ["resolved", "pending"])
def test_customer_message_reopens_a_waiting_conversation(conversation, status):
    services.conversation_change_status(conversation=conversation, status=status)
    with new_events() as events:
        services.message_create(conversation=conversation, body="It broke again", sender_type="customer")
    change = only_event(events, "conversation.status_changed")
    assert (change.payload["from"], change.payload["to"]) == (status, "open")
    conversation.refresh_from_db()
    assert (conversation.status, conversation.resolved_at) == ("open", None)


def test_first_agent_reply_stamps_first_response_and_opens(conversation, agent):
    with new_events() as events:
        services.message_create(conversation=conversation, body="Looking into it", sender_type="agent", author=agent)
    assert only_event(events, "conversation.status_changed").payload["to"] == "open"
    conversation.refresh_from_db()
    first = conversation.first_response_at
    assert first is not None and conversation.status == "open"
    services.message_create(conversation=conversation, body="Fixed", sender_type="agent", author=agent)
    conversation.refresh_from_db()
    assert conversation.first_response_at == first


def test_internal_note_does_not_count_as_a_response(conversation, agent):
    with new_events() as events:
        services.message_create(
            conversation=conversation, body="Customer is a VIP", sender_type="agent", author=agent, internal=True
        )
    assert only_event(events, "message.created").payload["internal"] is True
    assert [e.type for e in events] == ["message.created"]
    conversation.refresh_from_db()
    assert (conversation.first_response_at, conversation.last_agent_message_at, conversation.status) == (
        None,
        None,
        "new",
    )


def test_sentiment_average_follows_the_customer_messages(conversation):
    bodies = [
        "Thank you so much, you are wonderful!",
        "Great, that works perfectly.",
        "This is terrible, I am furious and want a refund now!",
        "Worst service ever, useless and awful.",
    ]
    averages = []
    for body in bodies:
        services.message_create(conversation=conversation, body=body, sender_type="customer")
        conversation.refresh_from_db()
        averages.append(conversation.sentiment)
    scores = list(Message.objects.filter(conversation=conversation).values_list("sentiment", flat=True))
    assert all(0 <= value <= 1 for value in averages + scores)
    assert averages[0] > 0.7 and averages[1] > 0.7
    assert averages[3] < averages[2] < averages[1]
    assert averages[3] == pytest.approx(sum(scores) / len(scores), abs=1e-3)
    assert conversation.customer_message_count == 4


def test_sentiment_crossing_is_visible_in_the_event(conversation):
    services.message_create(conversation=conversation, body="Thanks, lovely!", sender_type="customer")
    with new_events() as events:
        services.message_create(conversation=conversation, body="Awful. Terrible. I hate this.", sender_type="customer")
    payload = only_event(events, "message.created").payload
    assert payload["sentiment_before"] > 0.5 > payload["sentiment"]
    assert payload["sentiment_before"] > payload["sentiment_after"]


def test_agent_messages_do_not_move_the_sentiment(conversation, agent):
    services.message_create(conversation=conversation, body="Thanks, lovely!", sender_type="customer")
    conversation.refresh_from_db()
    before = conversation.sentiment
    message = services.message_create(
        conversation=conversation, body="Awful news, terrible bug", sender_type="agent", author=agent
    )
    conversation.refresh_from_db()
    assert (conversation.sentiment, message.sentiment) == (before, None)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"body": "   "}, "body"),
        ({"body": None}, "body"),
        ({"body": 42}, "body"),
        ({"body": "x" * (services.MAX_BODY_LENGTH + 1)}, "body"),
        ({"sender_type": "robot"}, "sender_type"),
        ({"internal": True}, "internal"),
        ({"buttons": [{"url": "https://example.com"}]}, "buttons"),
        ({"buttons": "Yes"}, "buttons"),
    ],
)
def test_bad_message_is_refused(conversation, kwargs, field):
    with refused(field):
        services.message_create(conversation=conversation, **{"body": "Hi", "sender_type": "customer", **kwargs})
    assert not Message.objects.exists()
    conversation.refresh_from_db()
    assert (conversation.customer_message_count, conversation.sentiment) == (0, None)


def test_message_buttons_are_kept_clean(conversation):
    message = services.message_create(
        conversation=conversation,
        body="Did that help?",
        sender_type="ai",
        buttons=[{"label": "Yes", "url": "https://example.com/yes", "x": 1}, {"label": "No"}],
    )
    message.refresh_from_db()
    assert message.buttons == [{"label": "Yes", "url": "https://example.com/yes"}, {"label": "No"}]


# Recordings, transcripts, tickets, surveys -------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_recording_attach_stores_the_file_and_records_recording_uploaded(conversation, media_root):
    audio = SimpleUploadedFile("call.wav", b"RIFF0000WAVE", content_type="audio/wav")
    with new_events() as events:
        recording = services.recording_attach(conversation=conversation, file=audio, depth=1)
    assert (media_root / recording.file.name).read_bytes() == b"RIFF0000WAVE"
    event = only_event(events, "recording.uploaded")
    assert (event.payload, event.depth) == ({"recording_id": recording.pk, "channel": "live_chat"}, 1)


def test_recording_attach_refuses_what_is_not_audio(conversation, media_root):
    with refused("file"):
        services.recording_attach(
            conversation=conversation, file=SimpleUploadedFile("a.pdf", b"%PDF", content_type="application/pdf")
        )
    assert not conversation.recordings.exists()


def test_transcript_is_kept_and_posted_as_an_internal_note(conversation, media_root):
    recording = services.recording_attach(
        conversation=conversation, file=SimpleUploadedFile("c.wav", b"RIFF", content_type="audio/wav")
    )
    with new_events() as events:
        transcript = services.transcript_create(
            recording=recording, text="my printer is broken", language="en-US", backend="pocketsphinx", depth=1
        )
    assert Transcript.objects.get().text == transcript.text == "my printer is broken"
    event = only_event(events, "message.created")
    assert (event.payload["sender_type"], event.payload["internal"], event.depth) == ("system", True, 1)
    note = Message.objects.get(pk=event.payload["message_id"])
    assert "my printer is broken" in note.body
    conversation.refresh_from_db()
    assert conversation.first_response_at is None


def test_ticket_create_records_ticket_created(conversation):
    with new_events() as events:
        ticket = services.ticket_create(conversation=conversation, title=" Replace printer ", priority="high", depth=2)
    assert (ticket.title, ticket.priority, ticket.status) == ("Replace printer", "high", "open")
    event = only_event(events, "ticket.created")
    assert (event.payload, event.depth) == ({"ticket_id": ticket.pk, "title": "Replace printer"}, 2)


@pytest.mark.parametrize(("kwargs", "field"), [({"title": "  "}, "title"), ({"priority": "p1"}, "priority")])
def test_bad_ticket_is_refused(conversation, kwargs, field):
    with refused(field):
        services.ticket_create(conversation=conversation, **{"title": "Replace printer", **kwargs})
    assert not Ticket.objects.exists()


def test_survey_create_records_survey_sent(conversation):
    with new_events() as events:
        survey = services.survey_create(conversation=conversation, question="How did we do?", via="sms", depth=1)
    assert len(survey.token) >= 32 and survey.contact == conversation.contact
    event = only_event(events, "survey.sent")
    assert (event.payload, event.depth) == ({"survey_id": survey.pk, "via": "sms"}, 1)


@pytest.mark.parametrize(("kwargs", "field"), [({"via": "fax"}, "via"), ({"question": "?" * 501}, "question")])
def test_bad_survey_is_refused(conversation, kwargs, field):
    with refused(field):
        services.survey_create(conversation=conversation, **{"question": "How did we do?", **kwargs})
    assert not Survey.objects.exists()


def test_survey_answer_records_survey_answered(conversation):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    with new_events() as events:
        answered = services.survey_answer(survey=survey, score=5, comment="Fast!")
    survey.refresh_from_db()
    assert (survey.score, survey.comment, survey.answered_at) == (5, "Fast!", answered.answered_at)
    assert only_event(events, "survey.answered").payload == {"survey_id": survey.pk, "score": 5, "comment": "Fast!"}


@pytest.mark.parametrize("score", [0, 6, -1, "5", 4.5, True, None])
def test_survey_score_out_of_range_is_refused(conversation, score):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    with refused("score"):
        services.survey_answer(survey=survey, score=score)
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_survey_answered_twice_is_refused(conversation):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    services.survey_answer(survey=survey, score=4)
    with refused("token"):
        services.survey_answer(survey=survey, score=1)
    survey.refresh_from_db()
    assert survey.score == 4


# The outbox: events leave after commit -----------------------------------------------------------------------


def test_event_is_dispatched_only_after_commit(contact, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        conversation = services.conversation_open(contact=contact, channel="email", subject="Hello")
        event = Event.objects.get(conversation=conversation, type="conversation.created")
        assert event.dispatched_at is None
    event.refresh_from_db()
    assert event.dispatched_at is not None


def test_rolled_back_change_enqueues_nothing(conversation, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.conversation_set_priority(conversation=conversation, priority="urgent")
        raise RuntimeError("the caller's transaction fails after the change")
    assert callbacks == []
    assert not Event.objects.filter(type="conversation.priority_changed").exists()
    conversation.refresh_from_db()
    assert conversation.priority == "normal"


def test_events_of_one_change_are_all_dispatched_after_commit(conversation, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_set_disposition(conversation=conversation, disposition="answer_provided", actor=agent)
        assert not Event.objects.filter(dispatched_at__isnull=False).exists()
    dispatched = set(Event.objects.filter(dispatched_at__isnull=False).values_list("type", flat=True))
    assert {"conversation.disposition_set", "conversation.status_changed"} <= dispatched
    # The woken worker drains every pending event (the fixture's older ones too), leaving nothing behind.
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()


def test_record_events_writes_a_batch_and_dispatches_each_after_commit(
    conversation, open_conversation, django_capture_on_commit_callbacks
):
    from conversations.events import record_events

    other = open_conversation(subject="Second")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with new_events() as events:
            written = record_events(
                [
                    {
                        "type": "sla.breached",
                        "conversation": conversation,
                        "payload": {"metric": "first_response"},
                        "depth": 1,
                    },
                    {"type": "sla.warning", "conversation": other, "payload": {"metric": "resolution"}},
                ]
            )
        assert {event.dispatched_at for event in written} == {None}
    assert sorted((e.type, e.conversation_id, e.contact_id, e.payload, e.depth) for e in events) == [
        ("sla.breached", conversation.pk, conversation.contact_id, {"metric": "first_response"}, 1),
        ("sla.warning", other.pk, other.contact_id, {"metric": "resolution"}, 0),
    ]
    assert len(callbacks) == 1  # one wake-up call for the whole batch
    assert not Event.objects.filter(pk__in=[e.pk for e in written], dispatched_at__isnull=True).exists()
