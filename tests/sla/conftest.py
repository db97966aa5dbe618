"""SLA fixtures: a controllable clock (Django's `timezone.now`), calendars and policies made through the services."""

import pytest

from conversations import services
from tests.support.sla import make_policy


@pytest.fixture
def policy(db):
    return make_policy()


@pytest.fixture
def customer(db):
    return services.contact_create(name="Grace Hopper", email="grace@example.com", segment="smb")
