"""SLA fixtures: a controllable clock (Django's `timezone.now`), calendars and policies made through the services."""

import pytest
from django.utils import timezone

from conversations import services
from tests.support.clock import Clock
from tests.support.sla import MONDAY_9AM, make_policy


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock(MONDAY_9AM)
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def policy(db):
    return make_policy()


@pytest.fixture
def customer(db):
    return services.contact_create(name="Grace Hopper", email="grace@example.com", segment="smb")
