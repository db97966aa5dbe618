"""Waits across a full restart: runs waiting when every process stops resume and finish once it is back.

PostgreSQL, Redis as the broker, gunicorn and two `qcluster` processes. Each customer message starts a run that
calls a receiver on 127.0.0.1, waits 15 s, calls it again and replies. Once every run is waiting, every qcluster and
the web server are stopped (SIGTERM), and started again; the waits, which fell due while nothing ran or fall due
after the restart, are resumed by the new processes: every run succeeds, each step once, with one reply per
conversation and one effect per call at the receiver. The figures are printed.
"""

from __future__ import annotations

import time

from tests.infra.receiver import IdempotentReceiver
from tests.infra.stack import (
    PROCESS_SCENARIO,
    Stack,
    elapsed,
    machine_load,
    open_conversations,
    post_in_threads,
    post_message,
    status_codes,
)

pytestmark = PROCESS_SCENARIO

MESSAGES = 30
WAIT_MINUTES = 0.25  # 15 s: longer than posting and the first runs take, so the restart finds them all waiting
STEPS = ["http_request", "wait", "http_request", "auto_reply"]


def definition(receiver: IdempotentReceiver) -> dict:
    def call(path: str) -> dict:
        return {
            "type": "http_request",
            "config": {
                "url": receiver.url(path),
                "method": "POST",
                "values": [{"key": "message", "value": "{{ message.id }}"}],
            },
        }

    return {
        "name": "Check back after a while",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            call("/received"),
            {"type": "wait", "config": {"minutes": WAIT_MINUTES}},
            call("/checked"),
            {"type": "auto_reply", "config": {"text": "We checked on it, {{ contact.name }}."}},
        ],
    }


def runs_as_listed(api, workflow: int) -> list[tuple[str, list[tuple[str, str, int]]]]:
    """Each run's status and its steps (type, status, attempts), as the runs API shows them."""
    page = api.get("workflow-runs/", workflow=workflow, page_size=200)
    return [(run["status"], [(s["type"], s["status"], s["attempts"]) for s in run["steps"]]) for run in page["results"]]


def test_waiting_runs_resume_after_every_process_restarts(postgres_cluster, private_redis_url, tmp_path):
    started = time.monotonic()
    stack = Stack.prepare(tmp_path, database_url=postgres_cluster.url, redis_url=private_redis_url, clusters=2)
    with IdempotentReceiver() as receiver, stack:
        api = stack.api()
        workflow = api.created("workflows/", definition(receiver))["id"]
        conversations = open_conversations(api, MESSAGES)
        posted = post_in_threads(
            [post_message(api, conversation, "My parcel never arrived") for conversation in conversations], threads=2
        )
        waiting = stack.call("wait_until_waiting", MESSAGES, 30)
        restarting = time.monotonic()
        stack.restart()
        restarted_in = elapsed(restarting)
        figures = stack.settle(runs=MESSAGES, timeout=90)
        runs = runs_as_listed(api, workflow)
    seen = receiver.figures()
    print(
        f"\n[waits across restart] 2 qcluster + gunicorn stopped with {waiting['runs']} runs waiting "
        f"{WAIT_MINUTES * 60:.0f} s, all back in {restarted_in} s: runs {figures['runs']}, replies "
        f"{figures['replies']}; receiver: {seen.effects} effects from {seen.requests} requests, {seen.repeats} "
        f"repeated keys; settled {figures['seconds']} s after the restart; total {elapsed(started)} s; {machine_load()}"
    )
    assert status_codes(posted) == [201] * MESSAGES
    assert waiting["runs"] == {"waiting": MESSAGES}, f"{waiting}\n{stack.logs()}"
    assert not figures["timed_out"], f"{figures}\n{stack.logs()}"
    assert runs == [("succeeded", [(step, "succeeded", 1) for step in STEPS])] * MESSAGES
    assert figures["replies"] == MESSAGES and figures["doubled_runs"] == 0
    assert receiver.effects_by_path() == {"/received": MESSAGES, "/checked": MESSAGES}
    assert (seen.repeats, seen.without_key) == (0, 0)
