"""A receiver failing for a while, then recovering: every run still succeeds, and no effect is doubled.

PostgreSQL, Redis as the broker, gunicorn and two `qcluster` processes. Each customer message starts a run that
POSTs to a receiver on 127.0.0.1 and then replies. The receiver answers 503 for its first seconds, then 200. The
engine retries the transient failures with backoff (from 1 s here) through the sweep, so every run ends succeeded,
its HTTP step records more than one attempt where it met the outage (visible in the runs API), the receiver applied
each Idempotency-Key once, and each conversation got its one reply. The figures are printed.
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

MESSAGES = 40
OUTAGE_SECONDS = 4
MAX_ATTEMPTS = 8  # backoff 0.5-1, 1-2, 2-4, 4-8 s ...: the outage is over long before the attempts are


def definition(receiver: IdempotentReceiver) -> dict:
    return {
        "name": "Open an order ticket",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {
                "type": "http_request",
                "config": {
                    "url": receiver.url("/orders"),
                    "method": "POST",
                    "values": [{"key": "message", "value": "{{ message.id }}"}],
                },
            },
            {"type": "auto_reply", "config": {"text": "Your order ticket is open."}},
        ],
    }


def http_step_attempts(api, workflow: int) -> list[tuple[str, str, int]]:
    """(run status, HTTP step status, its attempts) of every run, as the runs API shows them."""
    page = api.get("workflow-runs/", workflow=workflow, page_size=200)
    return [(run["status"], run["steps"][0]["status"], run["steps"][0]["attempts"]) for run in page["results"]]


def test_receiver_outage_is_retried_until_every_run_succeeds_once(postgres_cluster, private_redis_url, tmp_path):
    started = time.monotonic()
    stack = Stack.prepare(
        tmp_path,
        database_url=postgres_cluster.url,
        redis_url=private_redis_url,
        clusters=2,
        HELPDESK_RETRY_MAX_ATTEMPTS=str(MAX_ATTEMPTS),
    )
    with IdempotentReceiver() as receiver, stack:
        api = stack.api()
        workflow = api.created("workflows/", definition(receiver))["id"]
        conversations = open_conversations(api, MESSAGES)
        receiver.outage(OUTAGE_SECONDS)
        posted = post_in_threads(
            [post_message(api, conversation, "Where is my order?") for conversation in conversations], threads=2
        )
        figures = stack.settle(runs=MESSAGES, timeout=90)
        attempts = http_step_attempts(api, workflow)
    seen = receiver.figures()
    retried = [row for row in attempts if row[2] > 1]
    print(
        f"\n[receiver recovers] receiver down {OUTAGE_SECONDS} s from its first request, 2 qcluster: {MESSAGES} "
        f"messages, runs {figures['runs']}, {len(retried)} HTTP steps retried (max attempts "
        f"{figures['max_attempts']}); receiver: {seen.outage_answers} answers 503, {seen.effects} effects from "
        f"{seen.requests} requests, {seen.repeats} repeated keys; replies {figures['replies']}; settled "
        f"{figures['seconds']} s after the last post; total {elapsed(started)} s; {machine_load()}"
    )
    assert status_codes(posted) == [201] * MESSAGES
    assert not figures["timed_out"], f"{figures}\n{stack.logs()}"
    assert figures["runs"] == {"succeeded": MESSAGES} and figures["doubled_runs"] == 0
    assert len(attempts) == MESSAGES and all(row[:2] == ("succeeded", "succeeded") for row in attempts)
    assert retried and seen.outage_answers >= len(retried)
    assert (seen.effects, seen.repeats, seen.without_key) == (MESSAGES, 0, 0)
    assert figures["replies"] == figures["reply_steps"] == MESSAGES
