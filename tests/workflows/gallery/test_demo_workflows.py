"""The demo configuration `make run` loads: SLA policies and active gallery workflows, created once."""

from django.core.management import call_command

from conversations import services
from sla.models import SlaPolicy, SlaTarget
from tests.support.runs import drain
from workflows.models import Workflow, WorkflowRun


def test_demo_configuration_is_idempotent_and_live(db):
    call_command("load_demo_workflows")
    call_command("load_demo_workflows")
    assert set(SlaPolicy.objects.values_list("name", flat=True)) == {"VIP", "Standard"}
    active = Workflow.objects.filter(status="active")
    assert active.count() == 6 == Workflow.objects.count()
    contact = services.contact_create(name="Vera", email="vera@example.com", segment="vip", attributes={"vip": True})
    conversation = services.conversation_open(contact=contact, channel="email", subject="Help")
    assert SlaTarget.objects.filter(conversation=conversation, policy__name="VIP").exists()
    drain()
    run = WorkflowRun.objects.get(workflow__name="VIP auto-route", conversation=conversation)
    assert run.status == "succeeded", run.error
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.team.name) == ("high", "VIP Support")
