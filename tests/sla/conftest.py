"""SLA fixtures: a controllable clock (Django's `timezone.now`), calendars and policies made through the services."""
import datetime as dt

import pytest
from django.utils import timezone

from conversations import services
from sla.policies import business_hours_save, sla_policy_save

MONDAY_9AM = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.timezone.utc)


class Clock:
    """What `timezone.now()` returns in a test; moved by hand, never by sleeping."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    frozen = Clock(MONDAY_9AM)
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def office_hours(db):
    """Monday to Friday 09:00-17:00 in Berlin with Bavarian public holidays."""
    return business_hours_save(
        name="Berlin office", timezone="Europe/Berlin",
        intervals=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
        holidays_country="DE", holidays_subdivision="BY", extra_holidays=[],
    )


def make_policy(name="Default", position=10, match=None, **values):
    values.setdefault("targets", {"first_response": 60, "next_response": 30, "resolution": 480})
    values.setdefault("pause_on", ["pending", "on_hold"])
    values.setdefault("warning_percent", 80)
    return sla_policy_save(name=name, position=position, match=match or {}, **values)


@pytest.fixture
def policy(db):
    return make_policy()


@pytest.fixture
def customer(db):
    return services.contact_create(name="Grace Hopper", email="grace@example.com", segment="smb")


def open_conversation(customer, **values):
    values.setdefault("channel", "email")
    return services.conversation_open(contact=customer, subject="Cannot log in", **values)
