"""SQLite settings the helpdesk needs to share one file between the web server and the workers.

A host project made by `django-admin startproject` opens SQLite with a 5 s busy timeout, DEFERRED transactions and
the rollback journal: a worker writing runs and a web request writing a message then fail with "database is
locked" (a deferred transaction that read first cannot wait for the write lock). On every new SQLite connection
this hook turns on WAL (readers never block the writer), a 20 s busy timeout and IMMEDIATE transactions (a writer
queues for the lock at BEGIN), unless the project chose its own value for that option in
`DATABASES[...]["OPTIONS"]` (`timeout`, `transaction_mode`, `init_command`). `HELPDESK_SQLITE_TUNING = False`
turns the hook off. Other database engines are left alone.
"""

from __future__ import annotations

from conversations.conf import helpdesk_setting

BUSY_TIMEOUT_MS = 20_000


def tune_sqlite_connection(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: WAL, busy timeout and IMMEDIATE transactions where the project set none."""
    if connection.vendor != "sqlite" or not helpdesk_setting("SQLITE_TUNING"):
        return
    options = connection.settings_dict.get("OPTIONS") or {}
    if "transaction_mode" not in options and connection.transaction_mode is None:
        connection.transaction_mode = "IMMEDIATE"
    raw = connection.connection  # the sqlite3 connection itself: no cursor wrapping, nothing in the query log
    if "timeout" not in options:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if "init_command" not in options and not connection.is_in_memory_db():
        raw.execute("PRAGMA journal_mode = WAL")
        raw.execute("PRAGMA synchronous = NORMAL")
