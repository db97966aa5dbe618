"""SQLite settings the helpdesk needs to share one file between the web server and the workers.

A host project made by `django-admin startproject` opens SQLite with a 5 s busy timeout, DEFERRED transactions and
the rollback journal: a worker writing runs and a web request writing a message then fail with "database is
locked" (a deferred transaction that read first cannot wait for the write lock). On every new SQLite connection
this hook turns on WAL (readers never block the writer), a 20 s busy timeout and IMMEDIATE transactions (a writer
queues for the lock at BEGIN), unless the project chose its own value for that option in
`DATABASES[...]["OPTIONS"]` (`timeout`, `transaction_mode`, `init_command`). `HELPDESK_SQLITE_TUNING = False`
turns the hook off. Other database engines are left alone.

The hook also gives the connection's cursors a per-process cache of placeholder conversions: Django's SQLite cursor
turns every statement's `%s` into `?` with a regular expression on each execution, which costs 40-180 µs for the
statements of one API create (more than SQLite takes to run them); the same SQL text is now converted once.
And BEGIN waits for the write lock in small polling steps (`conversations.sqlite_lock`).
"""

from __future__ import annotations

from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.db.backends.sqlite3.base import SQLiteCursorWrapper

from conversations.conf import helpdesk_setting
from conversations.sqlite_lock import poll_begin

BUSY_TIMEOUT_MS = 20_000
# Distinct statement texts remembered (each a few KB at most); past this the cache starts again (the ORM may build
# texts that vary, e.g. `IN (%s, %s, ...)` of any length).
PLACEHOLDER_CACHE_SIZE = 2048
_converted: dict[str, str] = {}


class CachedPlaceholdersCursor(SQLiteCursorWrapper):
    """Django's SQLite cursor, converting a statement's "format" placeholders (`%s`) once per SQL text."""

    def convert_query(self, query, *, param_names=None):
        if param_names is not None:  # "pyformat" with named parameters: as Django does it
            return super().convert_query(query, param_names=param_names)
        converted = _converted.get(query)
        if converted is None:
            converted = super().convert_query(query)
            if len(_converted) >= PLACEHOLDER_CACHE_SIZE:
                _converted.clear()
            _converted[query] = converted
        return converted


def _create_cursor(connection):
    def create_cursor(name=None):
        return connection.connection.cursor(factory=CachedPlaceholdersCursor)

    return create_cursor


def tune_sqlite_connection(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: WAL, busy timeout and IMMEDIATE transactions where the project set none, and
    cursors that convert each statement's placeholders once (`CachedPlaceholdersCursor`)."""
    if connection.vendor != "sqlite" or not helpdesk_setting("SQLITE_TUNING"):
        return
    options = connection.settings_dict.get("OPTIONS") or {}
    if "transaction_mode" not in options and connection.transaction_mode is None:
        connection.transaction_mode = "IMMEDIATE"
    if type(connection).create_cursor is SQLiteDatabaseWrapper.create_cursor:  # a backend of its own keeps its cursor
        connection.create_cursor = _create_cursor(connection)
    raw = connection.connection  # the sqlite3 connection itself: no cursor wrapping, nothing in the query log
    if "timeout" not in options:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if "init_command" not in options and not connection.is_in_memory_db():
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("PRAGMA synchronous = NORMAL")
    poll_begin(connection)  # BEGIN waits for the write lock in 0.1–1 ms steps, not SQLite's 1–100 ms sleeps
