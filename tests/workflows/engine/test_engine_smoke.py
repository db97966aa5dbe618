import datetime as dt

from conversations import clock, services
from tests.support.runs import drain
from workflows.engine.sweep import sweep_once
from workflows.models import WorkflowRun


def test_message_triggers_tag_and_wait_then_resume(conversation, make_workflow):
    workflow = make_workflow(
        "message.created",
        [
            {
                "type": "condition",
                "config": {"all": [{"field": "message.body", "op": "contains", "value": "refund"}]},
                "on_false": "stop",
            },
            {"type": "add_tag", "config": {"tags": ["refund"]}},
            {"type": "wait", "config": {"minutes": 10}},
            {"type": "auto_reply", "config": {"text": "Hi {{ contact.name }}, still there?"}},
        ],
        {"sender_types": ["customer"]},
    )
    services.message_create(conversation=conversation, body="I want a refund", sender_type="customer")
    drain()
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.status == "waiting"
    assert list(conversation.tags.values_list("name", flat=True)) == ["refund"]
    sweep_once()
    run.refresh_from_db()
    assert run.status == "waiting"
    with clock.travel(dt.timedelta(minutes=11)):
        sweep_once()
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert conversation.messages.last().body == "Hi Ada Lovelace, still there?"
    assert [s.status for s in run.steps.all()] == ["succeeded"] * 4
