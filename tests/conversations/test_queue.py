"""Team queues (docs/routing.md): who gets what, in which order, and when work goes back to the queue."""

import datetime as dt

from conversations import clock, services
from conversations.models import AgentProfile, Conversation, Event
from conversations.routing.handback import routing_sweep
from conversations.routing.queue import queue_fill, waiting_conversations
from tests.support.routing import waiting
from workflows.engine.sweep import sweep_once


def assignee_of(conversation):
    conversation.refresh_from_db()
    return conversation.assignee


def reasons(conversation) -> list:
    return [
        event.payload.get("reason")
        for event in Event.objects.filter(conversation=conversation, type="conversation.assigned").order_by(
            "occurred_at"
        )
    ]


def test_a_new_agent_starts_offline(roles):
    from django.contrib.auth.models import User

    user = User.objects.create_user(username="newbie")
    assert AgentProfile.objects.create(user=user).status == "offline"


def test_queue_takes_highest_priority_then_oldest(contact, queue_team, make_agent):
    with clock.travel(dt.timedelta(minutes=-30)):
        old_normal = waiting(contact, queue_team, "old normal")
    with clock.travel(dt.timedelta(minutes=-20)):
        old_high = waiting(contact, queue_team, "old high", priority="high")
    new_high = waiting(contact, queue_team, "new high", priority="high")
    new_urgent = waiting(contact, queue_team, "new urgent", priority="urgent")
    assert list(waiting_conversations(queue_team)) == [new_urgent, old_high, new_high, old_normal]
    ann = make_agent("ann", queue_team, capacity=3)
    result = queue_fill()
    assert [pk for pk, _, _ in result.assignments] == [new_urgent.pk, old_high.pk, new_high.pk]
    assert all(assignee_of(c) == ann for c in (new_urgent, old_high, new_high))
    assert assignee_of(old_normal) is None and old_normal.queued_since is not None
    assert reasons(new_urgent) == ["queue"]


def test_capacity_is_never_exceeded_and_away_or_offline_agents_get_nothing(contact, queue_team, make_agent):
    ann = make_agent("ann", queue_team, capacity=2)
    make_agent("bob", queue_team, capacity=5, status="away")
    make_agent("cyd", queue_team, capacity=5, status="offline")
    conversations = [waiting(contact, queue_team, f"c{i}") for i in range(5)]
    queue_fill()
    queue_fill()
    assert [assignee_of(c) for c in conversations].count(ann) == 2
    assert Conversation.objects.filter(assignee__isnull=False).count() == 2
    assert Conversation.objects.filter(assignee=ann, status__in=["new", "open"]).count() == 2


def test_resolving_frees_a_seat_and_the_next_waiting_conversation_follows_at_once(
    contact, queue_team, make_agent, django_capture_on_commit_callbacks
):
    ann = make_agent("ann", queue_team, capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = waiting(contact, queue_team, "first")
        second = waiting(contact, queue_team, "second")
    assert (assignee_of(first), assignee_of(second)) == (ann, None)
    with django_capture_on_commit_callbacks(execute=True):
        services.conversation_change_status(conversation=first, status="resolved", actor=ann)
    assert assignee_of(second) == ann


def test_skills_are_required_until_the_timeout_then_any_online_agent_takes_it(contact, queue_team, make_agent):
    ann = make_agent("ann", queue_team)
    german = waiting(contact, queue_team, "Hallo", skills=["German"])
    assert german.required_skills == ["german"]
    queue_fill()
    assert assignee_of(german) is None
    bea = make_agent("bea", queue_team, skills=["german", "billing"])
    queue_fill()
    assert assignee_of(german) == bea and reasons(german) == ["queue"]

    other = waiting(contact, queue_team, "Bonjour", skills=["french"])
    queue_fill()
    assert assignee_of(other) is None
    with clock.travel(dt.timedelta(minutes=queue_team.skills_timeout_minutes, seconds=1)):
        queue_fill()
    assert assignee_of(other) in (ann, bea) and reasons(other) == ["skills_timeout"]


def test_coming_online_fills_the_queue(contact, queue_team, make_agent, django_capture_on_commit_callbacks):
    ann = make_agent("ann", queue_team, status="away")
    conversation = waiting(contact, queue_team)
    queue_fill()
    assert assignee_of(conversation) is None
    with django_capture_on_commit_callbacks(execute=True):
        services.agent_set_status(profile=ann.agent_profile, status="online")
    assert assignee_of(conversation) == ann


def test_going_offline_hands_back_only_unanswered_conversations(
    contact, queue_team, make_agent, django_capture_on_commit_callbacks
):
    ann = make_agent("ann", queue_team, capacity=3)
    answered, silent = waiting(contact, queue_team, "answered"), waiting(contact, queue_team, "silent")
    queue_fill()
    services.message_create(conversation=answered, body="On it", sender_type="agent", author=ann)
    services.message_create(conversation=silent, body="note", sender_type="agent", author=ann, internal=True)
    services.agent_set_status(profile=ann.agent_profile, status="offline")
    assert assignee_of(answered) == ann
    assert assignee_of(silent) is None and silent.queued_since is not None
    assert reasons(silent) == ["queue", "agent_offline"]
    back = Event.objects.filter(conversation=silent, type="conversation.assigned").latest("occurred_at")
    assert (back.payload["before"]["assignee_id"], back.payload["assignee_id"]) == (ann.pk, None)


def test_no_reply_within_the_team_limit_goes_back_to_the_queue_and_to_someone_else(contact, queue_team, make_agent):
    services.team_update(team=queue_team, reassign_after_minutes=15)
    ann = make_agent("ann", queue_team)
    conversation = waiting(contact, queue_team)
    queue_fill()
    assert assignee_of(conversation) == ann
    with clock.travel(dt.timedelta(minutes=14)):
        assert sweep_once()["routed"] == 0
    bob = make_agent("bob", queue_team)
    with clock.travel(dt.timedelta(minutes=16)):
        sweep_once()
    assert assignee_of(conversation) == bob  # handed back by the sweep and taken by the other agent
    assert reasons(conversation) == ["queue", "no_reply", "queue"]


def test_a_reply_in_time_keeps_the_conversation(contact, queue_team, make_agent):
    services.team_update(team=queue_team, reassign_after_minutes=15)
    ann = make_agent("ann", queue_team)
    conversation = waiting(contact, queue_team)
    queue_fill()
    services.message_create(conversation=conversation, body="Hi!", sender_type="agent", author=ann)
    with clock.travel(dt.timedelta(hours=2)):
        assert routing_sweep() == {"handed_back": 0, "assigned": 0}
    assert assignee_of(conversation) == ann


def test_teams_without_auto_assign_keep_their_queue_unoffered(contact, team, make_agent):
    make_agent("ann", team)
    conversation = waiting(contact, team)
    assert conversation.queued_since is not None
    queue_fill()
    assert assignee_of(conversation) is None


def test_assigning_by_hand_is_always_allowed_and_leaves_the_queue(contact, queue_team, make_agent):
    ann = make_agent("ann", queue_team, capacity=0)
    conversation = waiting(contact, queue_team)
    services.conversation_assign(conversation=conversation, assignee=ann, actor=ann)
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.queued_since) == (ann, None)
    assert reasons(conversation) == [None]
