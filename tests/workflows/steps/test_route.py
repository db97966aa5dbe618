"""The `route` step: specific, round robin and least busy, honouring availability and capacity."""

import datetime as dt
import threading

import pytest
from django.db import transaction

from conversations import clock, services
from conversations.models import AgentProfile, Conversation, Event
from tests.support.concurrency import run_in_threads, wait_until_another_session_waits_for_a_lock
from tests.support.runs import definition_errors, drain, dry_run_context, events_after, only_run, step_output
from workflows.engine.drain import dispatch_and_run
from workflows.steps import step_types


def route(**config):
    return [{"type": "route", "config": config}]


def open_conversation(contact, subject="Help"):
    return services.conversation_open(contact=contact, channel="live_chat", subject=subject)


def test_specific_assigns_the_named_agent_and_team_with_a_depth_one_event(
    conversation, team, make_agent, make_workflow
):
    bea = make_agent("bea", team)
    workflow = make_workflow("conversation.created", route(team="Support", agent="bea", strategy="specific"))
    drain()
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (bea, team)
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [assigned] = events_after(run, "conversation.assigned")
    assert assigned.depth == run.event.depth + 1 == 1
    assert AgentProfile.objects.get(user=bea).last_assigned_at is not None


def test_specific_agent_by_email_or_id_works_too(conversation, team, make_agent, make_workflow):
    bea = make_agent("bea", team)
    make_workflow("conversation.created", route(agent=bea.email, strategy="specific"))
    drain()
    conversation.refresh_from_db()
    assert conversation.assignee == bea


def test_specific_unavailable_agent_gets_nothing_and_the_team_gets_the_conversation(
    conversation, team, make_agent, make_workflow
):
    make_agent("bea", team, status="away")
    workflow = make_workflow("conversation.created", route(team=team.pk, agent="bea", strategy="specific"))
    drain()
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (None, team)
    assert only_run(workflow).status == "succeeded"
    assert "bea is away: waits in the team's queue" in step_output(workflow)["reason"]


def test_specific_without_agent_assigns_the_team_only(conversation, team, make_workflow):
    make_workflow("conversation.created", route(team="support", strategy="specific"))
    drain()
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (None, team)


def test_unknown_team_fails_the_run_naming_it(conversation, make_workflow):
    nowhere = services.team_create(name="Nowhere")
    workflow = make_workflow("conversation.created", route(team="Nowhere", strategy="least_busy"))
    nowhere.delete()  # deleted after the workflow was saved
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert 'No team "Nowhere"' in run.error


def test_round_robin_rotates_over_three_agents(contact, team, make_agent, make_workflow):
    agents = [make_agent(name, team) for name in ("ann", "bob", "cyd")]
    make_workflow("conversation.created", route(team="Support", strategy="round_robin"))
    assigned = []
    for minute in range(6):
        with clock.travel(dt.timedelta(minutes=minute)):
            conversation = open_conversation(contact, f"Question {minute}")
            drain()
        conversation.refresh_from_db()
        assigned.append(conversation.assignee)
    assert assigned == agents + agents


def test_round_robin_starts_with_the_agent_who_waited_longest(conversation, team, make_agent, make_workflow):
    now = clock.now()
    make_agent("ann", team, last_assigned_at=now - dt.timedelta(minutes=5))
    cyd = make_agent("cyd", team, last_assigned_at=now - dt.timedelta(hours=3))
    make_workflow("conversation.created", route(team="Support", strategy="round_robin"))
    drain()
    conversation.refresh_from_db()
    assert conversation.assignee == cyd


def test_round_robin_skips_unavailable_and_full_agents(contact, team, make_agent, make_workflow):
    make_agent("away", team, status="away")
    full = make_agent("full", team, capacity=1)
    services.conversation_assign(conversation=open_conversation(contact, "Busy"), assignee=full)
    free = make_agent("free", team, last_assigned_at=clock.now())
    drain()
    make_workflow("conversation.created", route(team="Support", strategy="round_robin"))
    conversation = open_conversation(contact)
    drain()
    conversation.refresh_from_db()
    assert conversation.assignee == free


def test_least_busy_picks_the_agent_with_fewest_open_conversations(contact, team, make_agent, make_workflow):
    ann, bob, cyd = (make_agent(name, team) for name in ("ann", "bob", "cyd"))
    for agent, count in ((ann, 3), (cyd, 2)):
        for _ in range(count):
            services.conversation_assign(conversation=open_conversation(contact), assignee=agent)
    for _ in range(4):  # closed conversations are not load
        closed = services.conversation_assign(conversation=open_conversation(contact), assignee=bob)
        services.conversation_change_status(conversation=closed, status="closed")
    services.conversation_assign(conversation=open_conversation(contact), assignee=bob)
    drain()  # the set-up conversations are history: only the next one is routed
    make_workflow("conversation.created", route(team="Support", strategy="least_busy"))
    conversation = open_conversation(contact, "New one")
    drain()
    conversation.refresh_from_db()
    assert conversation.assignee == bob


def test_least_busy_breaks_ties_by_the_longest_wait(conversation, team, make_agent, make_workflow):
    now = clock.now()
    make_agent("ann", team, last_assigned_at=now - dt.timedelta(minutes=1))
    bob = make_agent("bob", team, last_assigned_at=now - dt.timedelta(minutes=30))
    make_workflow("conversation.created", route(team="Support", strategy="least_busy"))
    drain()
    conversation.refresh_from_db()
    assert conversation.assignee == bob


def test_nobody_eligible_leaves_the_conversation_waiting_in_the_team_queue_and_says_so(
    contact, team, make_agent, make_workflow
):
    make_agent("away", team, status="away")
    full = make_agent("full", team, capacity=1)
    services.conversation_assign(conversation=open_conversation(contact, "Busy"), assignee=full)
    drain()
    workflow = make_workflow("conversation.created", route(team="Support", strategy="least_busy"))
    conversation = open_conversation(contact)
    drain()
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.team) == (None, team)
    run = only_run(workflow)
    assert run.status == "succeeded"
    output = step_output(workflow)
    assert output["agent"] is None
    assert "no agent of the team is available below capacity: waits in the team's queue" in output["reason"]
    assert conversation.queued_since is not None  # it waits in the team's queue, not unseen
    assert {c["agent"]: c["load"] for c in output["candidates"]} == {"away": 0, "full": 1}


def test_a_conversation_already_held_by_an_eligible_member_stays_with_them(contact, team, make_agent, make_workflow):
    ann = make_agent("ann", team, last_assigned_at=clock.now())
    make_agent("bob", team)
    conversation = services.conversation_assign(conversation=open_conversation(contact), assignee=ann)
    drain()
    make_workflow("message.created", route(team="Support", strategy="round_robin"))
    services.message_create(conversation=conversation, body="Any news?", sender_type="customer")
    drain()
    conversation.refresh_from_db()
    assert conversation.assignee == ann


def test_capacity_counts_open_conversations_only_up_to_the_limit(contact, team, make_agent, make_workflow):
    solo = make_agent("solo", team, capacity=2)
    make_workflow("conversation.created", route(team="Support", strategy="least_busy"))
    conversations = [open_conversation(contact, f"Q{i}") for i in range(3)]
    drain()
    assignees = [Conversation.objects.get(pk=c.pk).assignee for c in conversations]
    assert assignees == [solo, solo, None]


def test_describe_names_the_would_be_assignee_without_writing(conversation, team, make_agent):
    make_agent("ann", team, last_assigned_at=clock.now())
    make_agent("bob", team)
    config = {"team": "Support", "strategy": "round_robin"}
    description = step_types.get("route").describe(config, dry_run_context(conversation))
    assert description["agent"] == "bob"
    conversation.refresh_from_db()
    assert conversation.assignee is None and conversation.team is None
    assert not AgentProfile.objects.filter(user__username="bob", last_assigned_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("config", "key", "words"),
    [
        ({"team": "Support"}, "steps[0].config.strategy", "required"),
        ({"team": "Support", "strategy": "random"}, "steps[0].config.strategy", "random"),
        ({"strategy": "round_robin"}, "steps[0].config.team", "name the team"),
        ({"strategy": "least_busy"}, "steps[0].config.team", "name the team"),
        ({"team": "Support", "agent": "bea", "strategy": "least_busy"}, "steps[0].config.agent", "use specific"),
        ({"strategy": "specific"}, "steps[0].config.agent", "needs an agent, a team or both"),
        ({"team": "", "strategy": "specific"}, "steps[0].config.team", ""),
        ({"team": "Support", "strategy": "specific", "queue": 1}, "steps[0].config", "queue"),
    ],
)
def test_invalid_route_configs_are_rejected_naming_step_and_key(config, key, words):
    errors = definition_errors({"type": "route", "config": config})
    assert key in errors, errors
    assert words in " ".join(errors[key])


def test_valid_route_configs_pass(team, agent):
    assert definition_errors({"type": "route", "config": {"team": "Support", "strategy": "least_busy"}}) == {}
    assert definition_errors({"type": "route", "config": {"agent": agent.pk, "strategy": "specific"}}) == {}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_routing_at_once_do_not_overshoot_capacity(contact, team, make_agent, make_workflow):
    """The second run waits for the first one's lock on the agent, then counts its assignment (PostgreSQL)."""

    solo = make_agent("solo", team, capacity=1)
    first, second = open_conversation(contact, "First"), open_conversation(contact, "Second")
    # Committed events are dispatched at once (sync queue, no workflow yet); undo that, as a lost message would
    # (never dispatched, so never claimed either: workflows/engine/claims.py).
    event_of = {c.pk: c.events.get(type="conversation.created").pk for c in (first, second)}
    Event.objects.filter(pk__in=event_of.values()).update(dispatched_at=None, claimed_until=None)
    make_workflow("conversation.created", route(team="Support", strategy="least_busy"))
    first_routed = threading.Event()

    def first_run() -> None:
        with transaction.atomic():  # hold the first run's locks until the second run is waiting for them
            dispatch_and_run(event_of[first.pk])
            first_routed.set()
            wait_until_another_session_waits_for_a_lock()

    def second_run() -> None:
        assert first_routed.wait(timeout=10)
        dispatch_and_run(event_of[second.pk])

    run_in_threads(first_run, second_run)
    assignees = [Conversation.objects.get(pk=c.pk).assignee for c in (first, second)]
    assert assignees == [solo, None]
    assert Conversation.objects.get(pk=second.pk).team == team
