"""Fixtures of the worker-tier scenarios: a PostgreSQL database and a Redis database of the test's own, migrated, and
worker tiers started as an operator starts them and never left running."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.workflows.procs import Driver, kill_session, migrate, project_env, session_processes, start_manage

REDIS_DB = 9  # other process tests use their own index of the session's throwaway Redis


def _admin(postgres_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(sql)


def _database_url(postgres_url: str, name: str) -> str:
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def migrated_template(postgres_url) -> Iterator[str]:
    """A migrated database the scenarios copy (CREATE DATABASE ... TEMPLATE: far faster than migrating each)."""
    name = f"tier_template_{uuid.uuid4().hex[:8]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}"')
    migrate(project_env(database_url=_database_url(postgres_url, name)))
    yield name
    _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def tier_env(postgres_url, redis_url, migrated_template) -> Iterator[dict[str, str]]:
    """The production settings on a fresh PostgreSQL database and an emptied Redis broker, swept every second."""
    import redis

    name = f"tier_{uuid.uuid4().hex[:10]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    broker_url = redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(broker_url).flushdb()
    yield project_env(
        database_url=_database_url(postgres_url, name),
        redis_url=broker_url,
        HELPDESK_SWEEP_SECONDS="1",
        HELPDESK_WORKER_STOP_SECONDS="3",
        LOG_LEVEL="INFO",
    )
    _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class WorkerTier:
    """A worker tier started the way an operator would (`runserver_with_worker`, `helpdesk_supervisor`), in a
    session of its own; it knows the sessions of the clusters it reported, so nothing it started can outlive it."""

    def __init__(self, driver: Driver, env: dict[str, str], command: list[str], log: Path) -> None:
        self.driver, self.log = driver, log
        self.process = start_manage(env, *command, log=log)
        self.sessions = {self.process.pid}
        self.sentinels: list[int] = []

    def cluster(self, timeout: float = 60) -> dict:
        """The processes of the next cluster that reports itself (the first one, or the one after a restart)."""
        cluster = self.driver.call("cluster", self.sentinels, timeout)
        self.sentinels.append(cluster["sentinel"])
        self.sessions.add(os.getsid(cluster["sentinel"]))
        return cluster

    def stop(self, timeout: float = 60) -> int:
        """Ctrl-C, as an operator stops it; returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def leftovers(self) -> list[int]:
        return [pid for session in self.sessions for pid in session_processes(session)]

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


@pytest.fixture
def driver(tier_env) -> Iterator[Driver]:
    """The test's hands in the tier's database: one Django process running tests/workflows/procs.py commands."""
    driver = Driver(tier_env)
    yield driver
    driver.close()


@pytest.fixture
def start_tier(tmp_path, driver) -> Iterator:
    """Start worker tiers; at teardown, stop them and kill whatever they left (so a failing test leaks nothing)."""
    tiers: list[WorkerTier] = []

    def start(env: dict[str, str], *command: str) -> WorkerTier:
        """Start `manage.py <command>`; "{log}" in an argument is replaced by the tier's log file."""
        log = tmp_path / f"tier-{len(tiers)}.log"
        tier = WorkerTier(driver, env, [part.replace("{log}", str(log)) for part in command], log)
        tiers.append(tier)
        return tier

    yield start
    for tier in tiers:
        try:
            tier.stop(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        for session in tier.sessions:
            kill_session(session)
