"""Run a command (normally pytest) against a throwaway PostgreSQL cluster: `python -m tests.infra.pgrun CMD...`.

The cluster is started on a free loopback port, exported as DATABASE_URL (which the settings read at import, so
pytest-django creates its test databases there, one per xdist worker), and stopped and deleted afterwards. Without
PostgreSQL installed the pass is skipped with a message, or fails when REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.infra.servers import ServiceUnavailable, start_postgres

DEFAULT_COMMAND = [sys.executable, "-m", "pytest"]


def _stop_on_sigterm(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    """Start the cluster, run `argv` (default: pytest) with DATABASE_URL pointing at it, return its exit code."""
    command = argv or DEFAULT_COMMAND
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    required = os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes", "on"}
    try:
        cluster = start_postgres()
    except ServiceUnavailable as exc:
        print(f"pgrun: PostgreSQL pass {'FAILED' if required else 'skipped'}: {exc}", file=sys.stderr)
        return 1 if required else 0
    try:
        print(f"pgrun: throwaway PostgreSQL at {cluster.url}", file=sys.stderr, flush=True)
        return subprocess.call(command, env={**os.environ, "DATABASE_URL": cluster.url})
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
