"""Memory conditions: a contact's `attributes` (VIP, plan, previous issue…) in condition steps, the `contact.updated`
trigger with its `attributes` filter, and the contacts API that sets them (PATCH merges, null removes)."""

import pytest

from conversations import services
from tests.support.runs import drain
from workflows.models import WorkflowRun


def condition(*leaves, on_false="stop"):
    return {"type": "condition", "config": {"all": list(leaves)}, "on_false": on_false}


def leaf(field, op, value=None):
    return {"field": field, "op": op, **({"value": value} if value is not None else {})}


TAG = {"type": "add_tag", "config": {"tags": ["remembered"]}}


def run_on_new_message(make_workflow, contact, steps) -> str:
    """Open a conversation for `contact`, post a customer message and return the run's status."""
    workflow = make_workflow("message.created", steps, {"sender_types": ["customer"]})
    conversation = services.conversation_open(contact=contact, channel="live_chat", subject="Hello")
    services.message_create(conversation=conversation, body="Hi there", sender_type="customer")
    drain()
    return WorkflowRun.objects.get(workflow=workflow).status


@pytest.fixture
def regular(db):
    return services.contact_create(name="Bob", email="bob@example.com", attributes={"plan": "free"})


@pytest.mark.parametrize(
    "test_leaf",
    [
        leaf("contact.attributes.vip", "eq", True),
        leaf("contact.attributes.plan", "in", ["enterprise", "business"]),
        leaf("contact.attributes.plan", "is_set"),
        leaf("contact.attributes.previous_issue", "is_not_set"),
    ],
)
def test_memory_condition_passes_for_the_contact_it_describes(make_workflow, contact, test_leaf):
    assert run_on_new_message(make_workflow, contact, [condition(test_leaf), TAG]) == "succeeded"


@pytest.mark.parametrize(
    "test_leaf",
    [
        leaf("contact.attributes.vip", "eq", True),
        leaf("contact.attributes.plan", "in", ["enterprise", "business"]),
        leaf("contact.attributes.vip", "is_set"),
    ],
)
def test_memory_condition_stops_for_another_contact(make_workflow, regular, test_leaf):
    assert run_on_new_message(make_workflow, regular, [condition(test_leaf), TAG]) == "stopped"


def test_memory_read_in_a_template(make_workflow, contact):
    workflow = make_workflow(
        "message.created",
        [{"type": "auto_reply", "config": {"text": "Your {{ contact.attributes.plan }} plan is noted."}}],
        {"sender_types": ["customer"]},
    )
    conversation = services.conversation_open(contact=contact, channel="live_chat")
    services.message_create(conversation=conversation, body="Hi", sender_type="customer")
    drain()
    assert WorkflowRun.objects.get(workflow=workflow).status == "succeeded"
    assert conversation.messages.last().body == "Your enterprise plan is noted."


def test_contact_updated_fires_only_for_the_listed_attributes(make_workflow, agent_client, regular):
    workflow = make_workflow(
        "contact.updated", [condition(leaf("contact.attributes.vip", "eq", True))], {"attributes": ["vip"]}
    )
    url = f"/api/contacts/{regular.pk}/"
    assert agent_client.patch(url, {"attributes": {"nickname": "B"}}, format="json").status_code == 200
    drain()
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()
    assert agent_client.patch(url, {"attributes": {"vip": True}}, format="json").status_code == 200
    drain()
    assert list(WorkflowRun.objects.filter(workflow=workflow).values_list("status", flat=True)) == ["succeeded"]


def test_removing_an_attribute_through_the_api_fires_and_the_memory_is_gone(make_workflow, agent_client, contact):
    workflow = make_workflow(
        "contact.updated", [condition(leaf("contact.attributes.vip", "is_not_set"))], {"attributes": ["vip"]}
    )
    response = agent_client.patch(f"/api/contacts/{contact.pk}/", {"attributes": {"vip": None}}, format="json")
    assert response.status_code == 200
    assert response.json()["attributes"] == {"plan": "enterprise"}
    drain()
    assert WorkflowRun.objects.get(workflow=workflow).status == "succeeded"


def test_memory_set_by_the_api_is_seen_by_the_next_conversation_workflow(make_workflow, agent_client, regular):
    workflow = make_workflow(
        "conversation.created", [condition(leaf("contact.attributes.previous_issue", "eq", "billing")), TAG]
    )
    agent_client.patch(f"/api/contacts/{regular.pk}/", {"attributes": {"previous_issue": "billing"}}, format="json")
    conversation = services.conversation_open(contact=regular, channel="email", subject="Again")
    drain()
    assert WorkflowRun.objects.get(workflow=workflow).status == "succeeded"
    assert list(conversation.tags.values_list("name", flat=True)) == ["remembered"]


# Memory in the trigger's own filter: no run at all for other contacts ------------------------------------------

VIP_ONLY = {"all": [leaf("contact.attributes.vip", "eq", True)]}


def test_trigger_conditions_on_memory_start_runs_only_for_matching_contacts(make_workflow, contact, regular):
    workflow = make_workflow("message.created", [TAG], {"sender_types": ["customer"], "conditions": VIP_ONLY})
    for customer in (contact, regular):
        conversation = services.conversation_open(contact=customer, channel="email", subject="Hello")
        services.message_create(conversation=conversation, body="Hi there", sender_type="customer")
    drain()
    [run] = WorkflowRun.objects.filter(workflow=workflow)
    assert run.conversation.contact_id == contact.pk
    assert run.status == "succeeded"


def test_trigger_conditions_combine_any_and_all_over_memory_and_conversation(make_workflow, contact, regular):
    config = {
        "conditions": {
            "all": [
                {
                    "any": [
                        leaf("contact.attributes.plan", "eq", "enterprise"),
                        leaf("contact.attributes.vip", "eq", True),
                    ]
                },
                leaf("conversation.channel", "eq", "whatsapp"),
            ]
        }
    }
    workflow = make_workflow("conversation.created", [TAG], config)
    services.conversation_open(contact=contact, channel="email")  # enterprise, wrong channel
    services.conversation_open(contact=regular, channel="whatsapp")  # right channel, free plan
    wanted = services.conversation_open(contact=contact, channel="whatsapp")
    drain()
    assert list(WorkflowRun.objects.filter(workflow=workflow).values_list("conversation_id", flat=True)) == [wanted.pk]


def test_contact_updated_with_attributes_filter_and_memory_condition(make_workflow, regular):
    # Fires when `plan` changes *to* enterprise: the attributes filter picks the key, the condition its new value.
    workflow = make_workflow(
        "contact.updated",
        [],
        {"attributes": ["plan"], "conditions": {"all": [leaf("contact.attributes.plan", "eq", "enterprise")]}},
    )
    services.contact_update(contact=regular, attributes_patch={"plan": "business"})
    services.contact_update(contact=regular, attributes_patch={"vip": True})
    drain()
    assert not WorkflowRun.objects.filter(workflow=workflow).exists()
    services.contact_update(contact=regular, attributes_patch={"plan": "enterprise"})
    drain()
    assert WorkflowRun.objects.get(workflow=workflow).event.payload["attributes"] == ["plan"]


@pytest.mark.parametrize(
    ("conditions", "key"),
    [
        ({"all": [leaf("contact.nickname", "eq", "x")]}, "trigger.config.conditions.all[0].field"),
        ({"all": [leaf("contact.attributes.vip", "bigger", 1)]}, "trigger.config.conditions.all[0].op"),
        ({"all": [leaf("contact.attributes.plan", "in", "enterprise")]}, "trigger.config.conditions.all[0].value"),
        ("vip", "trigger.config.conditions"),
    ],
)
def test_bad_trigger_conditions_are_a_400_naming_the_key(manager_client, conditions, key):
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Bad memory",
            "trigger": {"type": "contact.updated", "config": {"conditions": conditions}},
            "steps": [],
        },
        format="json",
    )
    assert response.status_code == 400
    assert key in response.json(), response.json()


def test_memory_workflow_runs_end_to_end_through_the_api(manager_client, agent_client, regular):
    created = manager_client.post(
        "/api/workflows/",
        {
            "name": "New enterprise customer",
            "status": "active",
            "trigger": {
                "type": "contact.updated",
                "config": {
                    "attributes": ["plan"],
                    "conditions": {"all": [leaf("contact.attributes.plan", "eq", "enterprise")]},
                },
            },
            "steps": [
                condition(leaf("contact.attributes.vip", "is_not_set")),
                {"type": "set_variable", "config": {"name": "plan", "value": "{{ contact.attributes.plan }}"}},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    response = agent_client.patch(f"/api/contacts/{regular.pk}/", {"attributes": {"plan": "enterprise"}}, format="json")
    assert response.status_code == 200
    drain()
    runs = manager_client.get(f"/api/workflow-runs/?workflow={created.json()['id']}").json()
    assert runs["count"] == 1
    run = manager_client.get(f"/api/workflow-runs/{runs['results'][0]['id']}/").json()
    assert run["status"] == "succeeded"
    assert [(step["position"], step["type"], step["status"]) for step in run["steps"]] == [
        (0, "condition", "succeeded"),
        (1, "set_variable", "succeeded"),
    ]
    assert (run["steps"][1]["input"], run["steps"][1]["output"]) == (
        {"name": "plan", "value": "enterprise"},
        {"plan": "enterprise"},
    )
