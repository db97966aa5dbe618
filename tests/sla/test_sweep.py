"""The sweep: due warnings and breaches found by index and emitted exactly once, even by two sweeps at once."""

import datetime as dt
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django_q.models import Schedule

from conversations import services
from conversations.models import Event
from sla.models import SlaTarget
from sla.sweep import next_due_at, run_sweep
from sla.tasks import SCHEDULE_NAME, ensure_sla_schedule, sla_sweep_task
from tests.support.sla import MONDAY_9AM, open_conversation

pytestmark = pytest.mark.django_db


def at(minutes: int) -> dt.datetime:
    return MONDAY_9AM + dt.timedelta(minutes=minutes)


def sla_events(kind: str) -> list[Event]:
    return list(Event.objects.filter(type=kind).order_by("occurred_at"))


def test_warning_fires_once_at_the_warning_point(clock, policy, customer):
    open_conversation(customer)
    assert run_sweep(now=at(47)).warnings == 0
    run_sweep(now=at(48))
    run_sweep(now=at(49))
    [warning] = sla_events("sla.warning")
    assert (warning.payload["metric"], warning.payload["minutes_remaining"]) == ("first_response", 12)


def test_breach_fires_once_with_how_late_it_is(clock, policy, customer):
    conversation = open_conversation(customer)
    run_sweep(now=at(59))
    assert sla_events("sla.breached") == []
    run_sweep(now=at(65))
    run_sweep(now=at(70))
    [breach] = sla_events("sla.breached")
    assert breach.conversation == conversation
    assert {key: breach.payload[key] for key in ("metric", "minutes_late", "policy_id")} == {
        "metric": "first_response",
        "minutes_late": 5,
        "policy_id": policy.pk,
    }
    first = SlaTarget.objects.get(conversation=conversation, metric="first_response")
    assert (first.state, first.breached_at) == ("breached", at(60))


def test_a_paused_clock_is_not_breached(clock, policy, customer):
    conversation = open_conversation(customer)
    services.conversation_change_status(conversation=conversation, status="pending")
    run_sweep(now=at(600))
    assert sla_events("sla.breached") == []


def test_a_met_clock_is_neither_warned_nor_breached(clock, policy, customer):
    conversation = open_conversation(customer)
    services.message_create(conversation=conversation, body="On it", sender_type="agent")
    run_sweep(now=at(61))
    assert [e.payload["metric"] for e in sla_events("sla.warning") + sla_events("sla.breached")] == []


def test_two_sweeps_one_after_the_other_emit_each_event_once(clock, policy, customer):
    for _ in range(3):
        open_conversation(customer)
    first, second = run_sweep(now=at(61)), run_sweep(now=at(61))
    assert (first.breaches, second.breaches) == (3, 0)
    assert len(sla_events("sla.breached")) == 3


def concurrent_sweeps(now: dt.datetime, batch_size: int) -> list:
    """Two sweeps on two connections, released at the same instant by a barrier."""
    results, barrier = [], threading.Barrier(2)

    def sweep() -> None:
        barrier.wait()
        try:
            results.append(run_sweep(now=now, batch_size=batch_size))
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_emit_each_event_once(clock, policy, customer):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent sweeps need a database shared by two connections (run with DATABASE_URL=postgres://)")
    for _ in range(40):
        open_conversation(customer)
    warned = concurrent_sweeps(at(50), batch_size=7)
    breached = concurrent_sweeps(at(61), batch_size=7)
    assert sum(result.warnings for result in warned) == 40
    assert sum(result.breaches for result in breached) == 40
    for kind in ("sla.warning", "sla.breached"):
        target_ids = [event.payload["target_id"] for event in sla_events(kind)]
        assert len(target_ids) == len(set(target_ids)) == 40, kind
    assert SlaTarget.objects.filter(state="breached").count() == 40


def test_sweep_with_nothing_due_costs_the_same_two_queries_however_many_clocks_run(
    clock, policy, customer, django_assert_num_queries
):
    for _ in range(30):
        open_conversation(customer)
    with django_assert_num_queries(2):
        run_sweep(now=at(1))


def test_sweep_reads_due_clocks_through_the_due_at_index():
    if connection.vendor != "sqlite":
        pytest.skip("checks SQLite's query plan")
    due = SlaTarget.objects.filter(state="active", due_at__lte=MONDAY_9AM).order_by().values_list("pk", flat=True)[:500]
    sql, params = due.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert "sla_target_due" in plan


def test_the_sweep_schedule_exists_once_after_migrate():
    assert list(Schedule.objects.filter(name=SCHEDULE_NAME).values_list("func", "schedule_type", "minutes")) == [
        ("sla.tasks.sla_sweep_task", Schedule.MINUTES, 1)
    ]
    assert ensure_sla_schedule() is False
    call_command("ensure_sla_schedule")
    assert Schedule.objects.filter(name=SCHEDULE_NAME).count() == 1


def test_the_schedule_follows_the_sweep_setting(settings):
    settings.HELPDESK_SLA_SWEEP_SECONDS = 300
    assert ensure_sla_schedule() is True
    assert Schedule.objects.get(name=SCHEDULE_NAME).minutes == 5


def test_the_task_sweeps(clock, policy, customer):
    open_conversation(customer)
    clock.advance(minutes=61)
    assert sla_sweep_task() == "0 warnings, 1 breaches"
    assert len(sla_events("sla.breached")) == 1


def test_the_task_sweeps_again_within_the_minute_when_a_clock_falls_due(clock, policy, customer):
    conversation = open_conversation(customer)
    clock.now = at(60) - dt.timedelta(seconds=20)  # the first response is due in 20 seconds
    slept = []
    summary = sla_sweep_task(sleep=lambda seconds: slept.append(seconds) or clock.advance(seconds=seconds))
    assert (summary, slept) == ("1 warnings, 1 breaches", [30])  # default HELPDESK_SLA_SWEEP_SECONDS
    assert SlaTarget.objects.get(conversation=conversation, metric="first_response").state == "breached"


def test_the_task_does_not_linger_when_nothing_falls_due_this_minute(clock, policy, customer):
    open_conversation(customer)
    slept = []
    assert sla_sweep_task(sleep=slept.append) == "0 warnings, 0 breaches"
    assert slept == []


def test_a_sweep_period_of_minutes_is_left_to_the_schedule(clock, policy, customer, settings):
    settings.HELPDESK_SLA_SWEEP_SECONDS = 120
    open_conversation(customer)
    clock.now = at(60) - dt.timedelta(seconds=20)
    slept = []
    assert sla_sweep_task(sleep=slept.append) == "1 warnings, 0 breaches"
    assert slept == []


def test_next_due_at_is_the_earliest_warning_or_due_time_of_a_running_clock(clock, policy, customer):
    assert next_due_at() is None
    conversation = open_conversation(customer)
    assert next_due_at() == at(48)  # first response warns at 80 % of 60 minutes
    services.message_create(conversation=conversation, body="On it", sender_type="agent")
    assert next_due_at() == at(384)  # resolution warns at 80 % of 480 minutes
