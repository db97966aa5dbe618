"""The demo configuration `make run` loads: SLA policies and active gallery workflows, created once."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.conf import Conf

from conversations import services
from conversations.models import Event
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


@pytest.mark.django_db(transaction=True)  # real commits: each event is consumed right after its own
def test_the_demo_history_runs_its_workflows_at_the_moments_of_their_events(monkeypatch):
    """`load_demo_data` after `load_demo_workflows`, as `make run` does: each event is consumed inline right after
    its commit, so a workflow acts when its event happened (days ago), and nothing of the history is left for the
    worker to do later at the wrong time."""
    monkeypatch.setattr(Conf, "SYNC", False)  # as in production: a wake-up only queues a task for a worker
    call_command("load_demo_workflows")
    call_command("load_demo_data", "--demo", stdout=StringIO())

    runs = WorkflowRun.objects.filter(workflow__name="VIP auto-route").select_related("conversation")
    assert runs.count() == 50 and runs.filter(status="succeeded").count() >= 5  # routed the VIPs' conversations
    for run in runs:
        assert abs(run.created_at - run.conversation.created_at) < dt.timedelta(seconds=1)
        assert timezone.now() - run.created_at > dt.timedelta(minutes=5)  # the newest opened 10 minutes ago
    left = Event.objects.filter(dispatched_at__isnull=True).exclude(type="contact.created")
    assert not left.exists()
