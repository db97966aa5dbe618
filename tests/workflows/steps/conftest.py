"""Fixtures for step-type tests: agents in teams, running a one-workflow scenario, and dry-run contexts."""

import pytest

from conversations.roles import AGENTS_GROUP
from tests.support.people import make_user


@pytest.fixture
def make_agent(roles):
    """An agent (user + profile) in the given teams, with capacity, status, skills and last assignment."""

    def make(username, *teams, capacity=10, status="online", skills=(), last_assigned_at=None):
        user = make_user(
            username,
            AGENTS_GROUP,
            capacity=capacity,
            status=status,
            skills=list(skills),
            last_assigned_at=last_assigned_at,
        )
        user.agent_profile.teams.add(*teams)
        return user

    return make
