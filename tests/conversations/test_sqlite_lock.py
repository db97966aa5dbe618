"""BEGIN waits for SQLite's write lock in small polling steps (conversations/sqlite_lock.py): it gets the lock once
another connection frees it, fails with "database is locked" once the connection's busy timeout is spent, and leaves
the busy timeout of the connection's other statements as it was. While it waits it says so on the database's waiting
board, which the workers' run groups read."""

from __future__ import annotations

import sqlite3
import threading
import time
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connections
from django.db.backends.sqlite3.base import DatabaseWrapper

from conversations import sqlite_lock

pytestmark = [
    pytest.mark.skipif(connections["default"].vendor != "sqlite", reason="SQLite connections only"),
    pytest.mark.django_db,
]


def open_wrapper(tmp_path, options: dict | None = None) -> DatabaseWrapper:
    wrapper = DatabaseWrapper(
        {**connections["default"].settings_dict, "NAME": str(tmp_path / "lock.sqlite3"), "OPTIONS": options or {}},
        alias="lock",
    )
    wrapper.ensure_connection()
    return wrapper


def begin(wrapper: DatabaseWrapper) -> None:
    """What `transaction.atomic` does on the outermost block."""
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def finish(wrapper: DatabaseWrapper) -> None:
    wrapper.commit()
    wrapper.set_autocommit(True)


@pytest.fixture
def holder(tmp_path):
    """A plain sqlite3 connection to the same file that holds the write lock until `.release` is set."""
    connection = sqlite3.connect(str(tmp_path / "lock.sqlite3"), isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO item (name) VALUES ('held')")
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


def test_begin_gets_the_lock_once_the_holder_commits(tmp_path, holder):
    wrapper = open_wrapper(tmp_path)
    releaser = threading.Timer(0.05, lambda: holder.execute("COMMIT"))
    try:
        releaser.start()
        begin(wrapper)  # waits for the holder
        wrapper.connection.execute("INSERT INTO item (name) VALUES ('mine')")
        finish(wrapper)
        names = [name for (name,) in wrapper.connection.execute("SELECT name FROM item ORDER BY id")]
        assert names == ["held", "mine"]
        assert wrapper.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 20_000  # restored after BEGIN
    finally:
        releaser.join()
        wrapper.close()


def test_begin_fails_as_locked_once_the_busy_timeout_is_spent(tmp_path, holder):
    wrapper = open_wrapper(tmp_path, {"timeout": 0.2})
    try:
        with pytest.raises(OperationalError, match="locked"):
            begin(wrapper)
        assert wrapper.connection.execute("PRAGMA busy_timeout").fetchone()[0] == 200
        assert not wrapper.connection.in_transaction
    finally:
        wrapper.close()


def test_deferred_transactions_keep_djangos_begin(tmp_path):
    wrapper = open_wrapper(tmp_path, {"transaction_mode": "DEFERRED"})
    try:
        assert "_start_transaction_under_autocommit" not in vars(wrapper)
    finally:
        wrapper.close()


def locked() -> OperationalError:
    error = OperationalError("database is locked")
    error.__cause__ = sqlite3.OperationalError("database is locked")
    return error


def test_the_polling_pauses_start_small_and_stay_under_a_millisecond():
    failures, pauses = [locked()] * 6, []

    def begin() -> None:
        if failures:
            raise failures.pop()

    retries = sqlite_lock.begin_until_free(begin, timeout=5, sleep=pauses.append)
    assert retries == 6
    assert pauses == [0.0001, 0.0002, 0.0004, 0.0008, 0.001, 0.001]


def test_other_errors_are_not_retried():
    calls = []

    def begin() -> None:
        calls.append(1)
        raise OperationalError("disk I/O error")

    with pytest.raises(OperationalError, match="disk"):
        sqlite_lock.begin_until_free(begin, timeout=5, sleep=lambda _: None)
    assert calls == [1]


def test_a_waiting_begin_says_so_on_the_board_until_it_has_the_lock(tmp_path, holder):
    wrapper = open_wrapper(tmp_path)
    board = sqlite_lock.waiting_board(wrapper)
    assert board is not None and board.path == str(tmp_path / "lock.sqlite3-lock-waiting")
    assert not board.someone_waiting()
    began = threading.Event()

    def writer() -> None:
        begin(wrapper)
        began.set()

    thread = threading.Thread(target=writer)
    wrapper.inc_thread_sharing()
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not board.someone_waiting() and time.monotonic() < deadline:
            time.sleep(0.0005)
        assert board.someone_waiting() and not began.is_set()  # it waits, and another process can see it
        holder.execute("COMMIT")
        assert began.wait(5)
        thread.join(5)
        assert not board.someone_waiting()  # it has the lock: the board is clear
        finish(wrapper)
    finally:
        if thread.is_alive():
            holder.execute("COMMIT")
            thread.join(5)
        wrapper.dec_thread_sharing()
        wrapper.close()


def test_the_board_is_shared_between_openers_of_the_same_file_and_old_stamps_count_for_nothing(tmp_path, monkeypatch):
    first = sqlite_lock.WaitingBoard(str(tmp_path / "board"))
    second = sqlite_lock.WaitingBoard(str(tmp_path / "board"))  # as another process would open it
    stamp = first.stamp()
    assert second.someone_waiting()
    second.clear(stamp - 1)  # not its stamp: another waiter stamped since
    assert first.someone_waiting()
    monkeypatch.setattr(sqlite_lock, "WAITING_WINDOW_NS", 0)  # a waiter that stopped re-stamping (it died)
    assert not second.someone_waiting()
    monkeypatch.undo()
    second.clear(stamp)
    assert not first.someone_waiting()


def test_no_board_where_there_is_no_sqlite_file():
    assert sqlite_lock.waiting_board(SimpleNamespace(vendor="sqlite", settings_dict={"NAME": ":memory:"})) is None
    memory = SimpleNamespace(vendor="sqlite", settings_dict={"NAME": "file:memorydb_default?mode=memory&cache=shared"})
    assert sqlite_lock.waiting_board(memory) is None
    assert sqlite_lock.waiting_board(SimpleNamespace(vendor="postgresql", settings_dict={"NAME": "helpdesk"})) is None
