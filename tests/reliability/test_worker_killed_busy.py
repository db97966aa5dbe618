"""Scenario: a worker SIGKILLed while busy, in the middle of an outbound HTTP step, under `manage.py
helpdesk_supervisor` on PostgreSQL with the Redis broker (which loses the task the worker was running).

The remote API is a real HTTP server on 127.0.0.1 that honours `Idempotency-Key`: the first request with a key takes
effect, a repeat gets the same answer and changes nothing. It takes effect on the first request and then holds the
answer, so the worker is killed after the remote side acted but before it heard back: the worst moment for a
doubled effect. Checked: work posted after the kill is done at once (the cluster respawns the worker, nobody acts),
the killed run is finished by the sweep well before its lease expires (the supervisor's sweep sees the lease's holder
is dead and hands the lease back), and every run took effect exactly once.
Figures printed: seconds from the kill until the later work was done and until the killed run finished (bounded by
the run lease), runs finished, requests, replays and doubled effects at the receiver.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.workflows.procs import connected_to

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")),
        reason="process tests bring their own databases: they run once, in the SQLite pass",
    ),
]

STALL_SECONDS = 8
RUN_LEASE_SECONDS = 150  # the production default: the killed run must not wait for it
RESUMED_WITHIN = 30  # seconds from the kill until the killed run finished: a sweep (1 s) after the worker is reaped
LATER_MESSAGES = 3


class IdempotentReceiver:
    """A remote API honouring Idempotency-Key. The first request it gets is answered only once `release` is set."""

    def __init__(self) -> None:
        self.effects: dict[str, dict] = {}  # one per key: what a repeat must not do again
        self.keys_seen: list[str] = []
        self.first_arrived, self.release = threading.Event(), threading.Event()
        self.lock = threading.Lock()

    def handle(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key", "")
        with self.lock:
            self.keys_seen.append(key)
            first_request = len(self.keys_seen) == 1
            self.effects.setdefault(key, request.get_json())
        if first_request:
            self.first_arrived.set()
            self.release.wait(timeout=60)  # the effect is done; the worker waits for the answer
        return Response(json.dumps({"order": key}), content_type="application/json")

    @property
    def replays(self) -> int:
        return len(self.keys_seen) - len(set(self.keys_seen))


@pytest.fixture
def receiver() -> Iterator[tuple[HTTPServer, IdempotentReceiver]]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    api = IdempotentReceiver()
    server.expect_request("/orders", method="POST").respond_with_handler(api.handle)
    server.start()
    yield server, api
    api.release.set()
    server.stop()


def workflow_definition(url: str) -> dict:
    return {
        "name": "Create an order for every customer message",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {
                "type": "http_request",
                "config": {
                    "url": url,
                    "method": "POST",
                    "values": [{"key": "conversation", "value": "{{ conversation.id }}"}],
                },
            }
        ],
    }


def test_worker_killed_while_busy_every_run_finishes_once(tier_env, driver, start_tier, receiver):
    server, api = receiver
    env = {
        **tier_env,
        "HELPDESK_WORKER_STALL_SECONDS": str(STALL_SECONDS),
        "HELPDESK_OUTBOUND_ALLOWLIST": "127.0.0.1",
        "HELPDESK_RUN_LEASE_SECONDS": str(RUN_LEASE_SECONDS),
    }
    workflow = driver.call("create_workflow", workflow_definition(server.url_for("/orders")))["id"]
    tier = start_tier(env, "helpdesk_supervisor")
    cluster = tier.cluster()
    driver.call("customer_messages", 1, "Killed mid-request")
    assert api.first_arrived.wait(timeout=60), f"the outbound step never called the receiver\n{tier.log_tail()}"
    busy = connected_to(server.port, cluster["workers"])
    assert len(busy) == 1, f"expected one worker talking to the receiver, found {busy}"
    os.kill(busy[0], signal.SIGKILL)
    killed_at = time.time()
    api.release.set()

    driver.call("customer_messages", LATER_MESSAGES, "After the kill")
    later = driver.call("wait_for", workflow, ["succeeded"], LATER_MESSAGES, 60)
    assert not later.get("timed_out"), f"no work was done after a busy worker was killed: {later}\n{tier.log_tail()}"
    resumed_at = max(run["finished"] or 0 for run in driver.call("run_times", workflow)["runs"])
    lease = RUN_LEASE_SECONDS
    every = driver.call("wait_for", workflow, ["succeeded"], LATER_MESSAGES + 1, RESUMED_WITHIN + 30)
    assert not every.get("timed_out"), f"the killed run never finished: {every}\n{tier.log_tail()}"
    times = driver.call("run_times", workflow)["runs"]

    runs = len(times)
    assert [run["status"] for run in times] == ["succeeded"] * runs and runs == LATER_MESSAGES + 1
    assert len(api.effects) == runs and "" not in api.effects  # one effect per run: nothing doubled
    assert api.replays == 1  # the killed run asked again, under the same key
    assert times[0]["finished"] - killed_at < RESUMED_WITHIN, "the killed run waited for its lease"
    print(
        f"\nworker killed busy: later work done {resumed_at - killed_at:.1f} s after the kill; the killed run "
        f"finished after {times[0]['finished'] - killed_at:.1f} s (run lease {lease:g} s, sweep 1 s); "
        f"{runs}/{runs} runs finished; receiver: {len(api.keys_seen)} requests, {api.replays} replay, "
        f"{len(api.effects) - runs} doubled effects"
    )
