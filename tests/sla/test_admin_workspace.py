"""What the SLA app adds to the agent's workspace: badges per target on the conversation page, the SLA column of the
conversation list (coloured when breached or due soon) and the Breached / Due soon views. The policy's targets are
60 min first response, 480 min resolution, warning at 80 %."""

import pytest
from django.urls import reverse

from conversations import services
from sla.sweep import run_sweep

CHANGELIST = reverse("admin:conversations_conversation_changelist")


@pytest.fixture
def agent_web(client, agent):
    client.force_login(agent)
    return client


def open_conversation(customer, subject: str = "Cannot log in"):
    return services.conversation_open(contact=customer, channel="email", subject=subject)


def subjects_in(response) -> set[str]:
    return {conversation.subject for conversation in response.context["cl"].result_list}


@pytest.fixture
def three_cases(clock, policy, customer):
    """One opened 70 minutes ago (first response breached), one 50 minutes ago (past its 48-minute warning point),
    one just now (running)."""
    late = open_conversation(customer, subject="Late")
    clock.advance(minutes=20)
    open_conversation(customer, subject="Soon")
    clock.advance(minutes=50)
    open_conversation(customer, subject="Fresh")
    return late


def test_conversation_page_shows_a_badge_per_target(agent_web, clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=50)

    page = agent_web.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    content = page.content.decode()
    assert 'class="ws-badge sla-badge ws-due-soon">First response: due in 10m</span>' in content
    assert 'class="ws-badge sla-badge ">Resolution: due in 7h 10m</span>' in content


def test_breached_badge_after_the_sweep(agent_web, clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=61)
    run_sweep()

    page = agent_web.get(reverse("admin:conversations_conversation_change", args=[conversation.pk]))

    assert "ws-breached" in page.content.decode() and "First response: overdue" not in page.content.decode()


def test_list_sla_column_shows_most_urgent_target(agent_web, three_cases):
    content = agent_web.get(CHANGELIST).content.decode()

    cell = '<span class="sla-cell {}">{}</span><br><span class="ws-who">First response</span>'
    assert cell.format("ws-breached", "overdue 10m") in content
    assert cell.format("ws-due-soon", "due in 10m") in content
    assert cell.format("", "due in 1h 00m") in content


def test_breached_view_lists_overdue_conversations_before_and_after_the_sweep(agent_web, three_cases):
    assert subjects_in(agent_web.get(CHANGELIST, {"view": "breached"})) == {"Late"}
    run_sweep()
    assert subjects_in(agent_web.get(CHANGELIST, {"view": "breached"})) == {"Late"}


def test_due_soon_view_lists_targets_past_their_warning_point(agent_web, three_cases):
    assert subjects_in(agent_web.get(CHANGELIST, {"view": "due_soon"})) == {"Soon"}


def test_a_met_target_is_no_longer_urgent(agent_web, agent, clock, policy, customer):
    conversation = open_conversation(customer, subject="Answered")
    clock.advance(minutes=55)
    services.message_create(conversation=conversation, body="On it", sender_type="agent", author=agent)

    assert subjects_in(agent_web.get(CHANGELIST, {"view": "due_soon"})) == set()
