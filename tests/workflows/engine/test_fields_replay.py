"""Replay (docs/managers.md) sees conversation fields as the event recorded them: a `conversation.fields_changed`
event is replayed with the values it set, not today's."""

from conversations import services
from tests.support.replay import create_workflow, replay


def test_a_replay_reads_the_field_values_each_event_set(
    manager_client, conversation, django_capture_on_commit_callbacks
):
    services.conversation_field_create(key="reason", label="Reason", type="select", options=["refund", "billing"])
    services.conversation_set_fields(conversation=conversation, fields={"reason": "billing"})
    services.conversation_set_fields(conversation=conversation, fields={"reason": "refund"})  # today's value
    workflow = create_workflow(
        manager_client,
        [{"type": "add_tag", "config": {"tags": ["billing"]}}],
        trigger={
            "type": "conversation.fields_changed",
            "config": {
                "keys": ["reason"],
                "conditions": {"all": [{"field": "conversation.fields.reason", "op": "eq", "value": "billing"}]},
            },
        },
    )
    result = replay(manager_client, django_capture_on_commit_callbacks, workflow)
    assert result["status"] == "done" and result["progress"]["total"] == 2
    assert (result["matched"], result["would_start"]) == (1, 1)
    assert result["by_outcome"]["filtered_out"] == 1
    conversation.refresh_from_db()
    assert conversation.fields == {"reason": "refund"} and list(conversation.tags.all()) == []
