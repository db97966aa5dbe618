"""`manage.py helpdesk_health`: the liveness check exits 0 while due work is younger than --max-age and 1, naming the
oldest due work, once it is older (inside a test transaction on_commit never fires, so every event the services
record stays undispatched, as if its queue message had been lost)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conversations import clock, services
from tests.support.runs import drain


def health(*args: str) -> tuple[int, str]:
    """Run the command; return its exit status and what it printed."""
    out, err = StringIO(), StringIO()
    try:
        call_command("helpdesk_health", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, err.getvalue()
    return 0, out.getvalue()


def test_healthy_when_no_work_is_due(db):
    assert health("--max-age", "60") == (0, "OK: no work is due.\n")


def test_healthy_while_the_oldest_due_work_is_younger_than_the_limit(conversation):
    status, message = health("--max-age", "60")
    assert status == 0
    assert message.startswith("OK: the oldest due work (an undispatched event) has waited 0 s (limit 60 s)")


def test_unhealthy_once_an_undispatched_event_is_older_than_the_limit(conversation):
    with clock.travel(dt.timedelta(minutes=2)):
        status, message = health("--max-age", "60")
    assert status == 1
    assert message.startswith("UNHEALTHY: an undispatched event has been due for 120 s (limit 60 s)")


def test_a_waiting_run_counts_once_its_wait_is_over(contact, make_workflow):
    make_workflow(
        "conversation.created",
        [{"type": "wait", "config": {"minutes": 1}}, {"type": "add_tag", "config": {"tags": ["later"]}}],
    )
    services.conversation_open(contact=contact, channel="email", subject="Printer")
    drain()
    assert health("--max-age", "60") == (0, "OK: no work is due.\n")
    with clock.travel(dt.timedelta(minutes=3)):
        status, message = health("--max-age", "60")
    assert status == 1
    assert message.startswith("UNHEALTHY: a queued or due run has been due for 120 s")


def test_max_age_must_be_positive(db):
    with pytest.raises(CommandError, match="--max-age must be a positive number of seconds"):
        call_command("helpdesk_health", "--max-age", "0")
