"""Concurrency helpers for tests with several writers: targets run in threads (each on its own connection), and a wait
until another PostgreSQL session is blocked on a lock."""

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from django.db import connection


def run_in_threads(
    *targets: Callable[[], None], timeout: float = 60, around: Callable[[], AbstractContextManager] = nullcontext
) -> None:
    """Run each target in its own thread (own DB connection), inside `around()`, and re-raise the first error any of
    them hit; fail when one is still running after `timeout` seconds."""
    errors: list[BaseException] = []

    def wrapped(target: Callable[[], None]) -> None:
        try:
            with around():
                target()
        except BaseException as exc:  # surfaced in the test thread below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrapped, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]


def wait_until_another_session_waits_for_a_lock(timeout: float = 10.0) -> None:
    """Block until some other connection of this database is waiting for a lock (the second writer)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_locks is live; pg_stat_activity would be a snapshot frozen for the rest of this transaction.
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()")
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the second writer never waited for the first one's lock")
