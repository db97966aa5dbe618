"""Fixtures used in more than one test directory (registered for all tests by tests/conftest.py). Outbound tests
reach fake remote endpoints (pytest-httpserver on 127.0.0.1), which the SSRF guard refuses unless allowlisted: `allow_loopback`
allowlists exactly the loopback names those servers use."""

import pytest
from django.utils import timezone

from conversations import services as conversation_services
from conversations.roles import AGENTS_GROUP
from sla.policies import business_hours_save
from tests.support.clock import Clock
from tests.support.people import make_user
from tests.support.sla import MONDAY_9AM
from workflows import services


@pytest.fixture
def make_workflow(db):
    def make(trigger_type, steps, trigger_config=None, status="active", name="Test workflow"):
        return services.workflow_create(
            definition={
                "name": name,
                "status": status,
                "trigger": {"type": trigger_type, "config": trigger_config or {}},
                "steps": steps,
            }
        )

    return make


@pytest.fixture
def allow_loopback(settings):
    """Let outbound requests reach the local fake servers (and nothing else new)."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    settings.HELPDESK_RETRY_BASE_SECONDS = 1
    return settings


@pytest.fixture
def no_sockets(monkeypatch):
    """A transport that refuses to open any socket: a request that got past the guard fails the test loudly."""
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("a socket was opened: the SSRF guard let a request through")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return refuse


@pytest.fixture
def office_hours(db):
    """Monday to Friday 09:00-17:00 in Berlin with Bavarian public holidays."""
    return business_hours_save(
        name="Berlin office",
        timezone="Europe/Berlin",
        intervals=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
        holidays_country="DE",
        holidays_subdivision="BY",
        extra_holidays=[],
    )


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """`timezone.now()` frozen at the reference Monday 09:00 UTC, moved by hand (`clock.advance(minutes=5)`)."""
    frozen = Clock(MONDAY_9AM)
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def queue_team(db):
    """A team that offers its queue to free agents (least busy first)."""
    return conversation_services.team_create(name="Queue", auto_assign=True, strategy="least_busy")


@pytest.fixture
def make_agent(roles):
    """Make an agent in the given teams with a capacity, a presence status and skills."""

    def make(username, *teams, capacity=2, status="online", skills=()):
        user = make_user(username, AGENTS_GROUP, capacity=capacity, status=status, skills=list(skills))
        user.agent_profile.teams.add(*teams)
        return user

    return make
