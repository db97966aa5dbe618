"""Scale-out (docs/operations.md "Running at scale"): PostgreSQL, Redis as the broker, gunicorn and two `qcluster`
processes.

1,000 customer messages are posted over HTTP from four client threads. Every message starts a run that calls a
receiver on 127.0.0.1; every fifth also starts a run that waits 3 s, calls the receiver again and replies. Then
every run must have finished exactly once: one run per workflow and event, all succeeded, one reply per reply step,
and the receiver applied one effect per HTTP step, each Idempotency-Key exactly once. The figures are printed.
"""

from __future__ import annotations

import time

from tests.infra.receiver import IdempotentReceiver
from tests.infra.stack import (
    PROCESS_SCENARIO,
    Api,
    Stack,
    elapsed,
    machine_load,
    open_conversations,
    post_in_threads,
    post_message,
    status_codes,
)

pytestmark = PROCESS_SCENARIO

MESSAGES = 1_000
CONVERSATIONS = 50
WAIT_EVERY = 5  # every fifth message asks for a follow-up, which waits first
WAIT_MINUTES = 0.05  # 3 s


def workflow_definitions(receiver: IdempotentReceiver) -> list[dict]:
    """An HTTP call for every customer message; a wait, a second call and a reply for the ones saying "later"."""
    customers = {"sender_types": ["customer"]}
    notify = {
        "type": "http_request",
        "config": {
            "url": receiver.url("/messages"),
            "method": "POST",
            "values": [{"key": "message", "value": "{{ message.id }}"}, {"key": "text", "value": "{{ message.body }}"}],
        },
    }
    follow_up = {
        "type": "http_request",
        "config": {
            "url": receiver.url("/follow-ups"),
            "method": "POST",
            "values": [{"key": "conversation", "value": "{{ conversation.id }}"}],
        },
    }
    return [
        {
            "name": "Every message to the CRM",
            "status": "active",
            "trigger": {"type": "message.created", "config": customers},
            "steps": [notify],
        },
        {
            "name": "Follow up later",
            "status": "active",
            "trigger": {"type": "message.created", "config": {**customers, "content_contains": ["later"]}},
            "steps": [
                {"type": "wait", "config": {"minutes": WAIT_MINUTES}},
                follow_up,
                {"type": "auto_reply", "config": {"text": "We followed up, {{ contact.name }}."}},
            ],
        },
    ]


def message_jobs(api: Api, conversations: list[int]) -> list:
    def body(n: int) -> str:
        return f"Message {n}: my order is late" + (", call me later" if n % WAIT_EVERY == 0 else "")

    return [post_message(api, conversations[n % len(conversations)], body(n)) for n in range(MESSAGES)]


def test_thousand_events_on_two_qclusters_finish_exactly_once(postgres_cluster, private_redis_url, tmp_path):
    started = time.monotonic()
    stack = Stack.prepare(tmp_path, database_url=postgres_cluster.url, redis_url=private_redis_url, clusters=2)
    waits = MESSAGES // WAIT_EVERY
    with IdempotentReceiver() as receiver, stack:
        api = stack.api()
        for definition in workflow_definitions(receiver):
            api.created("workflows/", definition)
        conversations = open_conversations(api, CONVERSATIONS)
        posting = time.monotonic()
        statuses = post_in_threads(message_jobs(api, conversations), threads=4)
        posted_in = elapsed(posting)
        figures = stack.settle(runs=MESSAGES + waits, timeout=150)
        drained_in = elapsed(posting)
    seen = receiver.figures()
    print(
        f"\n[scale-out] PostgreSQL + Redis, gunicorn -w 2, 2 qcluster x 2 workers: {MESSAGES} messages posted in "
        f"{posted_in} s ({MESSAGES / posted_in:.0f}/s); {figures['events']} events, "
        f"{sum(figures['runs'].values())} runs {figures['runs']}, all settled {drained_in} s after the first post "
        f"({sum(figures['runs'].values()) / drained_in:.0f} runs/s); receiver: {seen.effects} effects from "
        f"{seen.requests} requests, {seen.repeats} repeated keys; doubled runs {figures['doubled_runs']}, "
        f"replies {figures['replies']}/{figures['reply_steps']} steps; scheduler ticks {figures['ticks']}; "
        f"total {elapsed(started)} s; {machine_load()}"
    )
    assert status_codes(statuses) == [201] * MESSAGES
    assert not figures["timed_out"], f"{figures}\n{stack.logs()}"
    assert figures["runs"] == {"succeeded": MESSAGES + waits} and figures["doubled_runs"] == 0
    assert figures["customer_messages"] == MESSAGES and figures["undispatched"] == 0
    assert figures["replies"] == figures["reply_steps"] == waits
    assert receiver.effects_by_path() == {"/messages": MESSAGES, "/follow-ups": waits}
    assert (seen.repeats, seen.without_key, seen.outage_answers) == (0, 0, 0)
