"""Routing queues seen from workflows (docs/routing.md): the `reasons` filter of `conversation.assigned`, explain, and the
`set_skills` step."""

from conversations import services
from conversations.models import Event
from conversations.routing.queue import queue_fill
from tests.support.routing import waiting
from tests.support.runs import drain
from workflows.engine.explain import explain_event
from workflows.models import WorkflowRun


def test_the_assigned_trigger_filters_on_reasons(contact, queue_team, make_agent, make_workflow):
    workflow = make_workflow(
        "conversation.assigned",
        [{"type": "add_tag", "config": {"tags": ["from-queue"]}}],
        trigger_config={"reasons": ["queue", "skills_timeout"]},
    )
    ann = make_agent("ann", queue_team)
    by_hand = waiting(contact, queue_team, "by hand")
    services.conversation_assign(conversation=by_hand, assignee=ann)
    queued = waiting(contact, queue_team, "queued")
    queue_fill()
    drain()
    assert list(WorkflowRun.objects.filter(workflow=workflow).values_list("conversation_id", flat=True)) == [queued.pk]
    event = Event.objects.get(conversation=by_hand, type="conversation.assigned")
    [entry] = explain_event(event)["workflows"]
    assert entry["outcome"] == "filtered_out" and "reasons" in entry["reason"], entry


def test_set_skills_step_sets_required_skills(contact, queue_team, make_workflow):
    make_workflow("conversation.created", [{"type": "set_skills", "config": {"skills": ["German", "billing"]}}])
    conversation = waiting(contact, queue_team)
    drain()
    conversation.refresh_from_db()
    assert conversation.required_skills == ["german", "billing"]
