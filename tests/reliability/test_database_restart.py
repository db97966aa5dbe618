"""The database restarted mid-load: no event is lost.

PostgreSQL (a cluster of this test's own), Redis as the broker, gunicorn and two `qcluster` processes. Customer
messages are posted over HTTP; each starts a run that calls a receiver on 127.0.0.1 and tags the conversation.
While the workers drain the first batch and a second batch is being posted, PostgreSQL is stopped
(`pg_ctl stop -m fast`, which disconnects every session) and started again 3 s later; a third batch follows.
A post that got an error during the outage is not counted as accepted. A run whose worker lost the database in the
middle of a step stays claimed until its lease expires (150 s; measured: it then finishes on its own), so rather than
wait, the workers are restarted as if ten minutes later (HELPDESK_CLOCK_OFFSET_SECONDS). Afterwards every accepted
message is stored,
every stored message's event is dispatched and its run finished (succeeded), and the receiver applied each run's call
once (a call repeated after the outage carries the same Idempotency-Key). The figures are printed.
"""

from __future__ import annotations

import threading
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

BATCH = 80
OUTAGE_SECONDS = 3
CONVERSATIONS = 8
# A run whose worker lost its database mid-step keeps its lease (150 s) before another worker may take it; the
# workers are restarted this much later (their clock moved on) instead of the test waiting for it.
LATER_SECONDS = 600


def definition(receiver: IdempotentReceiver) -> dict:
    return {
        "name": "Sync every message",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [
            {
                "type": "http_request",
                "config": {
                    "url": receiver.url("/messages"),
                    "method": "POST",
                    "values": [{"key": "message", "value": "{{ message.id }}"}],
                },
            },
            {"type": "add_tag", "config": {"tags": ["synced"]}},
        ],
    }


def batch(api: Api, conversations: list[int], name: str, pause: float = 0.0) -> list:
    """The jobs of one batch of messages; `pause` spreads them out (so posting goes on through the outage)."""

    def job(n: int):
        post = post_message(api, conversations[n % len(conversations)], f"Batch {name}, message {n}")
        return lambda: (time.sleep(pause), post())[1]

    return [job(n) for n in range(BATCH)]


def stored_message_ids(api: Api, conversations: list[int]) -> set[int]:
    """The customer messages the API lists, over all the conversations."""
    ids = set()
    for conversation in conversations:
        page = api.get(f"conversations/{conversation}/messages/", page_size=200)
        ids |= {message["id"] for message in page["results"] if message["sender_type"] == "customer"}
    return ids


def post_through_an_outage(api: Api, conversations: list[int], cluster) -> tuple[list, float]:
    """Batch A, then batch B while PostgreSQL is halted and resumed, then batch C; returns the posts' results and
    how long the database was down."""
    results = post_in_threads(batch(api, conversations, "A"), threads=2)
    during: list = []
    poster = threading.Thread(
        target=lambda: during.extend(post_in_threads(batch(api, conversations, "B", pause=0.1), threads=1))
    )
    poster.start()
    time.sleep(0.5)
    outage = time.monotonic()
    cluster.halt("fast")
    time.sleep(OUTAGE_SECONDS)
    cluster.resume()
    down_for = elapsed(outage)
    poster.join()
    return results + during + post_in_threads(batch(api, conversations, "C"), threads=2), down_for


def test_database_restart_mid_load_loses_no_event(postgres_cluster, private_redis_url, tmp_path):
    started = time.monotonic()
    stack = Stack.prepare(tmp_path, database_url=postgres_cluster.url, redis_url=private_redis_url, clusters=2)
    with IdempotentReceiver() as receiver, stack:
        api = stack.api()
        api.created("workflows/", definition(receiver))
        conversations = open_conversations(api, CONVERSATIONS)
        posting = time.monotonic()
        results, down_for = post_through_an_outage(api, conversations, postgres_cluster)
        posted_in = elapsed(posting)
        accepted = [result.json()["id"] for result in results if status_codes([result]) == [201]]
        in_flight = stack.call("engine_figures")["runs"].get("running", 0)
        stack.restart(web=False, HELPDESK_CLOCK_OFFSET_SECONDS=str(LATER_SECONDS))
        figures = stack.settle(runs=len(accepted), timeout=90)
        stored = stored_message_ids(api, conversations)
    seen = receiver.figures()
    codes = status_codes(results)
    rejected = {code: codes.count(code) for code in set(codes) if code != 201}
    print(
        f"\n[database restart] PostgreSQL down {down_for} s mid-load, Redis broker, 2 qcluster: {len(results)} "
        f"posts in {posted_in} s, {len(accepted)} accepted, rejected {rejected}; {len(stored)} messages stored, "
        f"{figures['events']} events ({figures['undispatched']} undispatched), runs {figures['runs']}; "
        f"{in_flight} runs in flight when the workers were restarted, retried steps {figures['retried_steps']} "
        f"(max attempts {figures['max_attempts']}); receiver: {seen.effects} effects from {seen.requests} "
        f"requests, {seen.repeats} repeated keys; settled {figures['seconds']} s after the workers restarted; "
        f"total {elapsed(started)} s; {machine_load()}"
    )
    assert not figures["timed_out"], f"{figures}\n{stack.logs()}"
    assert rejected, "the outage rejected no post: it did not happen mid-load"
    assert set(accepted) <= stored and len(stored) == figures["customer_messages"]
    assert figures["undispatched"] == 0 and figures["doubled_runs"] == 0
    assert figures["runs"] == {"succeeded": len(stored)}
    assert seen.effects == len(stored) and seen.without_key == 0
