"""A draining worker commits consecutive runs' segments in one write transaction (workflows/engine/runner.py
`grouped`): fewer BEGIN/COMMIT pairs and hand-overs of SQLite's write lock per run. Each segment is a savepoint inside
the group, so a cancelled run rolls back alone; a database failure rolls the whole open group back and leaves its
runs leased, to be handed back; no template renders while the group holds the lock. Its workers take turns at the
lock (workflows/engine/write_turns.py): a waiting worker blocks on a file lock instead of sleeping in SQLite's busy
handler. A group commits early once another writer waits for the lock (conversations/sqlite_lock.py's waiting board)
and lets it in before the next group opens.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from conversations import services, sqlite_lock
from tests.support.runs import customer_message, segment_statements
from workflows.engine import drain, prerender, runner, write_turns
from workflows.engine.drain import drain_events
from workflows.models import StepRun, WorkflowRun
from workflows.services import run_cancel
from workflows.steps import StepOutcome, StepType, step_types


def open_conversations(contact, count: int) -> list:
    return [services.conversation_open(contact=contact, channel="email", subject=f"Case {n}") for n in range(count)]


def tag_each_by_a_drain(conversations) -> list[str]:
    """A customer message on each conversation, then one drain: every run succeeded and tagged its conversation
    "seen"; the BEGIN statements the drain issued."""
    for conversation in conversations:
        customer_message(conversation)
    with CaptureQueriesContext(connection) as queries:
        drain_events(budget_seconds=5)
    runs = WorkflowRun.objects.filter(event__type="message.created")
    assert sorted(runs.values_list("status", flat=True)) == ["succeeded"] * len(conversations)
    for conversation in conversations:
        assert list(conversation.tags.values_list("name", flat=True)) == ["seen"]
    return [query["sql"] for query in queries.captured_queries if query["sql"].startswith("BEGIN")]


@pytest.mark.django_db(transaction=True)
def test_the_runs_of_a_batch_commit_in_far_fewer_transactions_than_runs(contact, make_workflow, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("counts SQLite's BEGIN statements (PostgreSQL's driver opens its transactions without one)")
    monkeypatch.setattr("conversations.events.enqueue_event", lambda event_id, **kwargs: None)
    monkeypatch.setattr(runner, "GROUP_SECONDS", 60)  # a slow test machine must not cut the group short
    make_workflow(
        "message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}], {"sender_types": ["customer"]}
    )
    conversations = open_conversations(contact, 12)
    begins = tag_each_by_a_drain(conversations)
    # The claim and the dispatch of the messages' batch, then of the batch of events the runs recorded (no runs);
    # the 12 runs' segments in one more. One per run before.
    assert len(begins) == 5


class CancelsTheOtherRun(StepType):
    """Cancels the other workflow's run of the same event (as an agent would, between the two runs)."""

    type = "test_cancels_the_other_run"
    label = "Cancels the other run"
    schema = {"type": "object"}
    has_side_effects = True

    def execute(self, config, ctx):
        other = WorkflowRun.objects.get(event=ctx.event, workflow__name="Second")
        run_cancel(run=other)
        return StepOutcome(output={"cancelled": other.pk})


def test_a_run_cancelled_inside_a_group_rolls_back_alone(conversation, make_workflow):
    trigger = {"sender_types": ["customer"]}
    with step_types.register_temporarily(CancelsTheOtherRun):
        make_workflow(
            "message.created",
            [{"type": CancelsTheOtherRun.type, "config": {}}, {"type": "add_tag", "config": {"tags": ["first"]}}],
            trigger,
            name="First",
        )
        make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["second"]}}], trigger, name="Second")
        customer_message(conversation)
        drain_events(budget_seconds=5)
    first, second = (WorkflowRun.objects.get(workflow__name=name) for name in ("First", "Second"))
    assert first.status == "succeeded", first.error
    assert second.status == "cancelled"
    assert list(conversation.tags.values_list("name", flat=True)) == ["first"]  # the cancelled segment's tag is gone
    assert not StepRun.objects.filter(run=second).exists()
    assert StepRun.objects.filter(run=first).count() == 2


class LosesTheDatabase(StepType):
    """The database fails under this step on one conversation (`boom` in its subject)."""

    type = "test_loses_the_database"
    label = "Loses the database"
    schema = {"type": "object"}
    has_side_effects = True

    def execute(self, config, ctx):
        if "boom" in ctx.conversation.subject:
            raise OperationalError("disk I/O error")
        return StepOutcome(output={})


def test_a_database_failure_rolls_the_open_group_back_and_hands_its_leases_back(contact, make_workflow, monkeypatch):
    monkeypatch.setattr(drain, "_unreleased", set())
    monkeypatch.setattr(runner, "GROUP_SECONDS", 60)  # a loaded test machine must not commit the first runs early
    conversations = open_conversations(contact, 2)
    conversations.append(services.conversation_open(contact=contact, channel="email", subject="boom"))
    with step_types.register_temporarily(LosesTheDatabase):
        make_workflow(
            "message.created",
            [{"type": "add_tag", "config": {"tags": ["seen"]}}, {"type": LosesTheDatabase.type, "config": {}}],
            {"sender_types": ["customer"]},
        )
        for conversation in conversations:
            customer_message(conversation)
        with pytest.raises(OperationalError):
            drain_events(budget_seconds=5)
    runs = list(WorkflowRun.objects.filter(event__type="message.created"))
    assert [run.status for run in runs] == ["running"] * 3  # the two finished before the failure did not commit
    assert not StepRun.objects.filter(run__in=runs).exists()
    for conversation in conversations:
        assert not conversation.tags.exists()
    assert drain._unreleased == {run.pk for run in runs}
    assert drain.release_abandoned_runs() == 3  # handed back for the sweep as soon as the database answers


@pytest.mark.django_db(transaction=True)
def test_no_template_renders_while_a_group_holds_the_write_lock(contact, make_workflow, monkeypatch):
    monkeypatch.setattr("conversations.events.enqueue_event", lambda event_id, **kwargs: None)
    trigger = {"sender_types": ["customer"]}
    make_workflow("message.created", [{"type": "set_priority", "config": {"priority": "high"}}], trigger, name="A")
    make_workflow(
        "message.created",
        [{"type": "set_variable", "config": {"name": "seen", "value": "{{ conversation.priority }}"}}],
        trigger,
        name="B",
    )
    in_transaction = []
    original = prerender.prerender

    def watched(*args, **kwargs):
        in_atomic_block = transaction.get_connection().in_atomic_block
        made = original(*args, **kwargs)
        if made is not None:  # a config with templates, rendered now
            in_transaction.append(in_atomic_block)
        return made

    monkeypatch.setattr(prerender, "prerender", watched)
    for conversation in open_conversations(contact, 3):
        customer_message(conversation)
    drain_events(budget_seconds=5)
    # B was rendered ahead over the priority before A's run changed it: rendered again, outside the group
    assert [run.variables for run in WorkflowRun.objects.filter(workflow__name="B")] == [{"seen": "high"}] * 3
    assert in_transaction and not any(in_transaction)


def sqlite_file(path) -> SimpleNamespace:
    return SimpleNamespace(vendor="sqlite", settings_dict={"NAME": str(path)})


def test_only_a_sqlite_file_has_turns(tmp_path):
    assert write_turns.lock_path(sqlite_file(tmp_path / "db.sqlite3")) == str(tmp_path / "db.sqlite3-drain-turns")
    assert write_turns.lock_path(sqlite_file(":memory:")) is None
    assert write_turns.lock_path(sqlite_file("file:memorydb_default?mode=memory&cache=shared")) is None
    assert write_turns.lock_path(SimpleNamespace(vendor="postgresql", settings_dict={"NAME": "helpdesk"})) is None


def test_a_worker_waits_for_the_turn_and_gets_it_the_moment_it_is_handed_on(tmp_path):
    database = sqlite_file(tmp_path / "db.sqlite3")
    holding, waiting_started = threading.Event(), threading.Event()
    order: list[str] = []

    def other_worker() -> None:
        waiting_started.set()
        with write_turns.turn(database):
            order.append("other has it")

    with write_turns.turn(database):
        holding.set()
        thread = threading.Thread(target=other_worker)
        thread.start()
        assert waiting_started.wait(5)
        thread.join(0.2)  # it cannot get the turn while this one holds it
        assert thread.is_alive() and order == []
        order.append("first hands it on")
    started = time.monotonic()
    thread.join(5)
    assert order == ["first hands it on", "other has it"]
    assert time.monotonic() - started < 1


def test_a_priority_already_set_costs_a_narrow_read_inside_a_segment(conversation, make_workflow, monkeypatch):
    services.conversation_set_priority(conversation=conversation, priority="high")
    make_workflow("message.created", [{"type": "set_priority", "config": {"priority": "high"}}])
    customer_message(conversation)
    statements = segment_statements(monkeypatch)
    drain_events(budget_seconds=5)
    run = WorkflowRun.objects.get(event__type="message.created")
    assert run.status == "succeeded"
    assert not conversation.events.filter(type="conversation.priority_changed").exclude(depth=0).exists()
    reads = [sql for sql in statements if "conversations_conversation" in sql and sql.startswith("SELECT")]
    assert len(reads) == 1 and "conversations_contact" not in reads[0]  # the priority alone, not the row lock's join


@pytest.mark.django_db(transaction=True)
def test_a_drain_reached_from_a_groups_commit_hooks_groups_its_own_runs():
    """Events consumed inline (the demo's history) drain from the commit hooks of the group that recorded them."""
    seen = []

    def drain_from_the_hook() -> None:
        with runner.grouped() as inner:
            seen.append((runner._current_group() is inner, inner.is_open))
            inner.open()
            seen.append(inner.is_open)

    with runner.grouped() as outer:
        outer.open()
        transaction.on_commit(drain_from_the_hook)
        outer.commit()
        assert runner._current_group() is outer  # handed back once the inner drain is done
        outer.open()
        with pytest.raises(transaction.TransactionManagementError), runner.grouped():
            pass  # inside an open group it would commit the outer's writes with its own
    assert seen == [(True, False), True]
    assert runner._current_group() is None


class AnotherWriterWaits(StepType):
    """On the conversation whose subject says so, another writer (an API request) starts waiting for the write lock
    while this run executes: it stamps the database's waiting board, as a waiting BEGIN does."""

    type = "test_another_writer_waits"
    label = "Another writer waits"
    schema = {"type": "object"}

    def execute(self, config, ctx):
        if "waits" in ctx.conversation.subject:
            runner.sqlite_lock.waiting_board(None).stamp()
        return StepOutcome(output={})


@pytest.mark.django_db(transaction=True)
def test_a_group_commits_as_soon_as_another_writer_waits_for_the_lock(contact, make_workflow, monkeypatch, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("counts SQLite's BEGIN statements; the board is SQLite's")
    monkeypatch.setattr("conversations.events.enqueue_event", lambda event_id, **kwargs: None)
    monkeypatch.setattr(runner, "GROUP_SECONDS", 60)  # a slow test machine must not cut the group short
    board = sqlite_lock.WaitingBoard(str(tmp_path / "db.sqlite3-lock-waiting"))
    monkeypatch.setattr(sqlite_lock, "waiting_board", lambda connection: board)  # the test database is in memory
    monkeypatch.setattr(sqlite_lock, "WAITING_WINDOW_NS", 60 * 10**9)  # the waiter keeps waiting from then on
    monkeypatch.setattr(runner, "YIELD_SECONDS", 0.001)
    with step_types.register_temporarily(AnotherWriterWaits):
        make_workflow(
            "message.created",
            [{"type": AnotherWriterWaits.type, "config": {}}, {"type": "add_tag", "config": {"tags": ["seen"]}}],
            {"sender_types": ["customer"]},
        )
        conversations = open_conversations(contact, 6)
        conversations[2].subject = "someone waits"
        conversations[2].save(update_fields=["subject"])
        begins = tag_each_by_a_drain(conversations)
    # The claim and the dispatch of the messages' batch and of the batch of events the runs recorded; the runs'
    # segments: the first three in one group (the writer began waiting during the third), then one group per run
    # while the writer still waits. One group for all six without a waiter (the first test).
    assert len(begins) == 4 + 4


def test_a_group_lets_a_waiting_writer_in_before_it_opens(tmp_path):
    board = sqlite_lock.WaitingBoard(str(tmp_path / "db.sqlite3-lock-waiting"))
    started = time.monotonic()
    runner._let_waiters_in(board)
    assert time.monotonic() - started < runner.YIELD_SECONDS  # nobody waits: no pause
    stamp = board.stamp()
    threading.Timer(0.001, board.clear, [stamp]).start()  # the writer gets the lock 1 ms later
    started = time.monotonic()
    runner._let_waiters_in(board)
    assert not board.someone_waiting()
    board.stamp()  # a writer that never gets the lock: the group opens after YIELD_SECONDS anyway
    started = time.monotonic()
    runner._let_waiters_in(board)
    assert runner.YIELD_SECONDS <= time.monotonic() - started < 1
