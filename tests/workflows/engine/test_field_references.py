"""A conversation field that an active workflow uses (docs/managers.md) cannot be retyped or deleted: the API answers
400 naming the workflow, whether the workflow names it in a condition path, a template, a `set_field` step or the
`keys` of a `conversation.fields_changed` trigger. Drafts and inactive workflows do not hold it."""

import pytest

from conversations import services
from conversations.models import ConversationField

URL = "/api/workflows/"
FIELDS = "/api/conversation-fields/"


@pytest.fixture
def order_id(db):
    return services.conversation_field_create(key="order_id", label="Order number")


def workflow(client, name, trigger, steps, status="active"):
    response = client.post(URL, {"name": name, "status": status, "trigger": trigger, "steps": steps}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


MANUAL = {"type": "manual"}
USES = {
    "condition": (
        MANUAL,
        [
            {
                "type": "condition",
                "on_false": "stop",
                "config": {"all": [{"field": "conversation.fields.order_id", "op": "is_set"}]},
            }
        ],
    ),
    "template": (MANUAL, [{"type": "auto_reply", "config": {"text": "Order {{ conversation.fields.order_id }}"}}]),
    "set_field": (
        MANUAL,
        [{"type": "set_field", "config": {"target": "conversation", "key": "order_id", "value": "A-1"}}],
    ),
    "trigger keys": ({"type": "conversation.fields_changed", "config": {"keys": ["order_id"]}}, []),
}


@pytest.mark.parametrize("use", sorted(USES))
def test_deleting_a_field_an_active_workflow_uses_is_refused_naming_it(manager_client, order_id, use):
    trigger, steps = USES[use]
    workflow(manager_client, "Order flow", trigger, steps)
    response = manager_client.delete(f"{FIELDS}{order_id.pk}/")
    assert response.status_code == 400, response.content
    assert 'workflow "Order flow"' in response.json()["key"][0]
    assert ConversationField.objects.filter(key="order_id").exists()


def test_changing_the_type_of_a_used_field_is_refused_but_its_label_may_change(manager_client, order_id):
    workflow(manager_client, "Order flow", *USES["condition"])
    response = manager_client.patch(f"{FIELDS}{order_id.pk}/", {"type": "number"}, format="json")
    assert response.status_code == 400 and 'workflow "Order flow"' in response.json()["type"][0]
    response = manager_client.patch(f"{FIELDS}{order_id.pk}/", {"label": "Order no."}, format="json")
    assert response.status_code == 200 and response.json()["label"] == "Order no."


def test_a_draft_or_a_workflow_using_another_key_does_not_hold_the_field(manager_client, order_id):
    services.conversation_field_create(key="order_id_2", label="Second order")
    workflow(manager_client, "Draft", *USES["set_field"], status="draft")
    workflow(
        manager_client,
        "Other key",
        MANUAL,
        [{"type": "auto_reply", "config": {"text": "{{ conversation.fields.order_id_2 }}"}}],
    )
    assert manager_client.delete(f"{FIELDS}{order_id.pk}/").status_code == 204
