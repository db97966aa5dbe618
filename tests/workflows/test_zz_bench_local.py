"""Local micro-benchmark (not committed): cost of dispatch_batch for 1000 message events, 20 active workflows."""
import time

import pytest

from conversations import services as cs
from conversations.events import wakeups_suppressed
from conversations.models import Event
from workflows import dispatcher, services

pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_dispatch(conversation):
    for n in range(20):
        services.workflow_create(definition={
            "name": f"wf{n}", "status": "active",
            "trigger": {"type": "message.created",
                        "config": {"sender_types": ["customer"], "content_contains": [f"word{n % 5}"]}},
            "steps": [{"type": "add_tag", "config": {"tags": ["x"]}}]})
    Event.objects.update(dispatched_at="2020-01-01T00:00:00Z")
    with wakeups_suppressed():
      for i in range(1000):
        cs.message_create(conversation=conversation, body=f"hello word{i % 7} order {i}", sender_type="customer")
    ids = list(Event.objects.filter(dispatched_at__isnull=True).order_by("occurred_at").values_list("pk", flat=True))
    start = time.perf_counter()
    for i in range(0, len(ids), 100):
        dispatcher.dispatch_batch(ids[i:i + 100], claim_runs=False)
    elapsed = time.perf_counter() - start
    print(f"\nDISPATCH {len(ids)} events: {elapsed:.3f} s = {len(ids) / elapsed:.0f} events/s")
