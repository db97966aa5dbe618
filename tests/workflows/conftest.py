"""Engine test helpers: make workflows through the service layer and drain work the way the sweep does."""
import pytest

from conversations.models import Event
from workflows import services
from workflows.engine.drain import dispatch_and_run


def drain() -> None:
    """Dispatch every undispatched event and run what it starts, until nothing is left (chains of depth+1 too)."""
    for _ in range(20):
        pending = list(Event.objects.filter(dispatched_at__isnull=True).order_by("occurred_at")
                       .values_list("pk", flat=True))
        if not pending:
            return
        for event_id in pending:
            dispatch_and_run(event_id)
    raise AssertionError("events keep coming: a loop the depth limit did not stop")


@pytest.fixture
def make_workflow(db):
    def make(trigger_type, steps, trigger_config=None, status="active", name="Test workflow"):
        return services.workflow_create(definition={
            "name": name, "status": status,
            "trigger": {"type": trigger_type, "config": trigger_config or {}},
            "steps": steps,
        })
    return make
