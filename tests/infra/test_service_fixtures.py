"""The test infrastructure itself: throwaway servers really serve, and a missing service skips or fails as told."""

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis

from tests.infra.plugin import require_service
from tests.infra.servers import ServiceUnavailable, start_postgres


@pytest.mark.services
def test_redis_url_points_at_a_working_private_redis(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.set("helpdesk-test", "ok")
    assert client.get("helpdesk-test") == b"ok"
    assert client.config_get("save")["save"] == ""
    assert redis_url.startswith("redis://127.0.0.1:")


@pytest.mark.services
def test_postgres_url_points_at_a_working_fast_cluster(postgres_url):
    with psycopg.connect(postgres_url) as conn:
        settings = dict(
            conn.execute("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'listen_addresses')").fetchall()
        )
    assert settings == {"fsync": "off", "listen_addresses": "127.0.0.1"}
    assert postgres_url.startswith("postgres://postgres@127.0.0.1:")


@pytest.mark.services
def test_stopped_cluster_leaves_nothing_behind():
    try:
        cluster = start_postgres()
    except ServiceUnavailable as exc:
        require_service("PostgreSQL", False, str(exc))
    cluster.stop()
    assert not cluster.root.exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.url, connect_timeout=2)


def test_missing_service_skips_on_a_developer_machine(monkeypatch):
    monkeypatch.delenv("REQUIRE_SERVICES", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Redis is not available"):
        require_service("Redis", False, "not installed")


def test_missing_service_fails_when_services_are_required(monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_SERVICES=1"):
        require_service("Redis", False, "not installed")


def test_available_service_neither_skips_nor_fails(monkeypatch):
    monkeypatch.setenv("REQUIRE_SERVICES", "1")
    assert require_service("Redis", True) is None


@pytest.mark.services
def test_pgrun_hands_the_cluster_to_the_command_and_returns_its_exit_code():
    probe = (
        "import os, sys, psycopg; url = os.environ['DATABASE_URL']; "
        "psycopg.connect(url).execute('SELECT 1'); print(url); sys.exit(3)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.infra.pgrun", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    if "PostgreSQL pass skipped" in result.stderr or "PostgreSQL pass FAILED" in result.stderr:
        require_service("PostgreSQL", False, result.stderr.strip())
    assert result.returncode == 3, result.stderr
    assert result.stdout.startswith("postgres://postgres@127.0.0.1:")
