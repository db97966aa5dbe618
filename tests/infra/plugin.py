"""pytest plugin (loaded by tests/conftest.py): service fixtures and the rule for tests whose service is missing.

A test that needs PostgreSQL, Redis, chromium or another outside program asks for it through `require_service`
or a fixture below. When the service is missing the test is skipped on a developer machine, but it fails when
`REQUIRE_SERVICES=1` (CI), so a CI image without Redis cannot turn the Redis tests green by skipping them.

Tests marked `postgres` need PostgreSQL semantics (row locks between connections, real concurrency): they are
skipped while the suite runs on SQLite and run in the PostgreSQL pass (`python -m tests.infra.pgrun ...`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.infra.servers import PostgresCluster, ServiceUnavailable, start_postgres, start_redis


def services_required() -> bool:
    """True when missing services are errors (REQUIRE_SERVICES=1 in CI), not reasons to skip."""
    return os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}


def require_service(name: str, available: bool, reason: str = "") -> None:
    """Skip the calling test when `name` is not available, or fail it when REQUIRE_SERVICES=1."""
    if available:
        return
    message = f"{name} is not available" + (f": {reason}" if reason else "")
    if services_required():
        pytest.fail(f"{message} (REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


def _throwaway(name: str, start) -> Iterator[str]:
    """Start a service (skip or fail per `require_service` when it cannot), yield its URL, stop it afterwards."""
    for server in _throwaway_server(name, start):
        yield server.url


def _throwaway_server(name: str, start) -> Iterator:
    """Start a service (skip or fail per `require_service` when it cannot), yield it, stop it afterwards."""
    try:
        server = start()
    except ServiceUnavailable as exc:
        require_service(name, False, str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a throwaway Redis server on a free loopback port, for the whole session (one per xdist worker)."""
    yield from _throwaway("Redis", start_redis)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a throwaway PostgreSQL database of its own (not Django's test database), for raw-connection tests."""
    yield from _throwaway("PostgreSQL", start_postgres)


@pytest.fixture
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster of this test's own, which the test may halt and resume (a database restart)."""
    yield from _throwaway_server("PostgreSQL", start_postgres)


@pytest.fixture
def private_redis_url() -> Iterator[str]:
    """URL of a Redis server of this test's own: an empty broker that no other test's messages reach."""
    yield from _throwaway("Redis", start_redis)


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server (aiosmtpd) on a free loopback port that Django's SMTP backend sends to; `.received` holds
    the mails it accepted."""
    from tests.infra.smtp import SmtpServer

    server = SmtpServer().start()
    for name, value in server.django_settings().items():
        setattr(settings, name, value)
    try:
        yield server
    finally:
        server.stop()


def database_vendor() -> str:
    """The vendor of Django's default database in this run: "sqlite" or "postgresql"."""
    from django.db import connection

    return connection.vendor


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip `postgres`-marked tests in the SQLite pass; the PostgreSQL pass runs them."""
    if item.get_closest_marker("postgres") and database_vendor() != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass (python -m tests.infra.pgrun)")


@pytest.fixture(scope="session")
def dovecot_server():
    """A throwaway dovecot IMAP server on a free loopback port (tests/infra/dovecot.py), one per session."""
    from tests.infra.dovecot import start_dovecot

    yield from _throwaway_server("dovecot", start_dovecot)
