"""The deployment of docs/operations.md "Running at scale", started for one test: a PostgreSQL database of its own,
Redis as the broker, the web app under gunicorn and N `qcluster` processes, plus a small client of the served API.

The processes are the ones tests/workflows/procs.py starts (production settings, loopback only, stopped by their
own PIDs). Outbound steps may reach 127.0.0.1 (HELPDESK_OUTBOUND_ALLOWLIST), where the tests' fake receivers run;
retries back off from 1 s and the sweep looks every second, so a scenario takes seconds rather than minutes.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.workflows.procs import Gunicorn, QCluster, call, migrate, project_env

# The scenario modules start their own PostgreSQL, Redis and processes: they run once, in the SQLite pass of
# `make test` (the PostgreSQL pass would only start the same processes a second time).
PROCESS_SCENARIO = [
    pytest.mark.services,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="process scenarios bring their own PostgreSQL and Redis: they run in the SQLite pass",
    ),
]
SCALE_SETTINGS = {
    "HELPDESK_OUTBOUND_ALLOWLIST": "127.0.0.1",
    "HELPDESK_RETRY_BASE_SECONDS": "1",
    "HELPDESK_SWEEP_SECONDS": "1",
    "HELPDESK_Q_WORKERS": "2",
}


class Api:
    """A token-authenticated client of the served API (one requests session per thread)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url, self.token = base_url, token
        self._local = threading.local()

    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Authorization"] = f"Token {self.token}"
        return session

    def post(self, path: str, body: dict, timeout: float = 30) -> requests.Response:
        return self.session().post(f"{self.base_url}/api/{path}", json=body, timeout=timeout)

    def get(self, path: str, **params: Any) -> dict:
        """GET that must answer 200; returns the JSON."""
        response = self.session().get(f"{self.base_url}/api/{path}", params=params, timeout=30)
        if response.status_code != 200:
            raise AssertionError(f"GET {path}: {response.status_code} {response.text[:500]}")
        return response.json()

    def created(self, path: str, body: dict) -> dict:
        """POST that must answer 201; returns the created object."""
        response = self.post(path, body)
        if response.status_code != 201:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text[:500]}")
        return response.json()


@dataclass
class Stack:
    """gunicorn + `clusters` qcluster processes on one database and broker (the environment `env`)."""

    env: dict[str, str]
    workdir: Path
    token: str
    clusters: int = 2
    web: Gunicorn | None = None
    workers: list[QCluster] = field(default_factory=list)

    @classmethod
    def prepare(cls, workdir: Path, *, database_url: str, redis_url: str, clusters: int = 2, **settings: str) -> Stack:
        """Migrate the database and make a support manager's API token; the processes start with `start()`."""
        env = project_env(database_url=database_url, redis_url=redis_url, **{**SCALE_SETTINGS, **settings})
        migrate(env)
        return cls(env=env, workdir=workdir, token=call(env, "api_token")["token"], clusters=clusters)

    def start(self) -> Stack:
        self.web = Gunicorn(self.env, self.workdir / "gunicorn.log").start()
        self.workers = [QCluster(self.env, self.workdir / f"qcluster-{n}.log").start() for n in range(self.clusters)]
        return self

    def stop(self) -> None:
        """SIGTERM to every qcluster and to gunicorn, each by its own PID; waits until they have exited."""
        for worker in self.workers:
            worker.stop()
        if self.web:
            self.web.stop()

    def restart(self, *, web: bool = True, **settings: str) -> None:
        """Stop the qclusters (and the web server), then start them again; `settings` are added to the environment
        of the workers and of later `call`s (not of a web server left running). The web server comes back on the
        same port, so an `Api` of this stack keeps working."""
        for worker in self.workers:
            worker.stop()
        self.env = {**self.env, **settings}
        if web:
            self.web.stop()
            self.web.env = self.env
            self.web.start()
        self.workers = [QCluster(self.env, worker.log).start() for worker in self.workers]

    def api(self) -> Api:
        """A client of this instance, with the token of the support manager made for it."""
        return Api(self.web.base_url, self.token)

    def call(self, command: str, *args: Any, timeout: float = 180) -> Any:
        """Run one command of tests/workflows/procs.py against this stack's database."""
        return call(self.env, command, *args, timeout=timeout)

    def settle(self, runs: int, timeout: float = 120) -> dict:
        """Wait until every event is dispatched and `runs` runs have finished; return the figures."""
        return self.call("wait_until_settled", runs, timeout, timeout=timeout + 60)

    def logs(self, chars: int = 2000) -> str:
        """The tails of the process logs, for an assertion message."""
        parts = [
            f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}"
            for path in sorted(self.workdir.glob("*.log"))
        ]
        return "\n".join(parts)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def open_conversations(api: Api, count: int) -> list[int]:
    """Contacts and their conversations, created over the API (their events are part of the load)."""
    ids = []
    for n in range(count):
        contact = api.created("contacts/", {"name": f"Customer {n}", "email": f"customer{n}@example.com"})
        ids.append(
            api.created("conversations/", {"contact": contact["id"], "channel": "email", "subject": f"Case {n}"})["id"]
        )
    return ids


def post_message(api: Api, conversation: int, body: str) -> Callable[[], requests.Response]:
    """A job for `post_in_threads`: one customer message posted over the API."""
    return lambda: api.post(f"conversations/{conversation}/messages/", {"body": body, "sender_type": "customer"})


def post_in_threads(jobs: list[Callable[[], Any]], threads: int = 4) -> list[Any]:
    """Run the jobs from `threads` client threads; returns their results in job order (an exception is a result)."""
    results: list[Any] = [None] * len(jobs)

    def client(indexes: range) -> None:
        for index in indexes:
            try:
                results[index] = jobs[index]()
            except Exception as exc:  # the caller counts failed posts
                results[index] = exc

    pool = [threading.Thread(target=client, args=(range(n, len(jobs), threads),)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def status_codes(results: list[Any]) -> list[int | str]:
    """The HTTP status of each posted job, or the name of the error that prevented an answer."""
    return [
        result.status_code if isinstance(result, requests.Response) else type(result).__name__ for result in results
    ]


def machine_load() -> str:
    """The load the figures were measured under (the machine may be shared)."""
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def elapsed(since: float) -> float:
    """Seconds since the monotonic instant `since`, to one decimal (for printed figures)."""
    return round(time.monotonic() - since, 1)
