"""SLA helpers: the reference Monday morning, policies and conversations made through the services."""

import datetime as dt

from conversations import services
from sla.policies import sla_policy_save

MONDAY_9AM = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)


def make_policy(name="Default", position=10, match=None, **values):
    values.setdefault("targets", {"first_response": 60, "next_response": 30, "resolution": 480})
    values.setdefault("pause_on", ["pending", "on_hold"])
    values.setdefault("warning_percent", 80)
    return sla_policy_save(name=name, position=position, match=match or {}, **values)


def open_conversation(customer, **values):
    values.setdefault("channel", "email")
    return services.conversation_open(contact=customer, subject="Cannot log in", **values)
