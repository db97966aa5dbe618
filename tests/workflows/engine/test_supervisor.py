"""The scheduled sweep task under `helpdesk_supervisor`: the supervisor sweeps every HELPDESK_SWEEP_SECONDS itself,
so the task sweeps once and gives its worker back instead of holding it for the rest of the minute."""

from __future__ import annotations

from conversations import services
from tests.support.runs import drain
from workflows.models import WorkflowRun
from workflows.tasks import sweep_task


def test_scheduled_sweep_sweeps_once_under_the_supervisor(settings, contact, make_workflow):
    settings.HELPDESK_SWEEP_SECONDS = 1
    settings.HELPDESK_SWEEP_IN_SUPERVISOR = True
    make_workflow(
        "conversation.created",
        [{"type": "wait", "config": {"minutes": 0.05}}, {"type": "add_tag", "config": {"tags": ["later"]}}],
    )
    services.conversation_open(contact=contact, channel="email", subject="Printer")
    drain()

    done = sweep_task()  # the wait ends 3 s from now: a task sweeping for the minute would sleep and resume it

    assert done["runs"] == 0
    assert WorkflowRun.objects.get().status == "waiting"
