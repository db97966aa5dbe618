"""The trigger types docs/managers.md adds, each starting a workflow end to end: the change is made through the public
API (or the step that makes it), the work is drained as the sweep does it, and the run is read back. Filtered-out
events are explained by `GET /api/events/{id}/explain/` naming the failing key and what it saw."""

import pytest

from conversations import services
from conversations.models import Event
from tests.support.runs import drain

URL = "/api/workflows/"
RUNS = "/api/workflow-runs/"


@pytest.fixture
def flow(manager_client):
    def create(name, trigger_type, config=None, steps=None) -> int:
        body = {
            "name": name,
            "status": "active",
            "trigger": {"type": trigger_type, "config": config or {}},
            "steps": steps or [{"type": "add_tag", "config": {"tags": [name]}}],
        }
        response = manager_client.post(URL, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return create


def runs_of(client, workflow) -> list[dict]:
    return client.get(RUNS, {"workflow": workflow}).json()["results"]


def explain_last(client, conversation, event_type) -> dict[str, dict]:
    event = Event.objects.filter(conversation=conversation, type=event_type).order_by("occurred_at").last()
    response = client.get(f"/api/events/{event.pk}/explain/")
    assert response.status_code == 200, response.json()
    return {entry["name"]: entry for entry in response.json()["workflows"]}


def answer_survey(anon_client, conversation, score, comment=""):
    survey = services.survey_create(conversation=conversation, question="How did we do?")
    response = anon_client.post(
        f"/api/surveys/{survey.token}/answer/", {"score": score, "comment": comment}, format="json"
    )
    assert response.status_code == 200, response.json()
    drain()


def test_survey_answered_starts_on_a_low_score_and_explains_a_high_one(manager_client, anon_client, conversation, flow):
    workflow = flow(
        "bad-rating",
        "survey.answered",
        {"score_max": 2},
        [
            {"type": "add_tag", "config": {"tags": ["bad-rating"]}},
            {"type": "set_variable", "config": {"name": "said", "value": "{{ event.comment }}"}},
        ],
    )
    answer_survey(anon_client, conversation, 1, "too slow")
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert run["steps"][1]["output"] == {"said": "too slow"}
    [answered] = Event.objects.filter(conversation=conversation, type="survey.answered")
    assert (answered.payload["score"], answered.payload["comment"]) == (1, "too slow")
    answer_survey(anon_client, conversation, 5)
    assert len(runs_of(manager_client, workflow)) == 1
    entry = explain_last(manager_client, conversation, "survey.answered")["bad-rating"]
    assert entry["outcome"] == "filtered_out" and entry["key"] == "score_max"
    assert entry["reason"] == "score_max: the score 5 is above 2"


def test_survey_score_min_filters_too(manager_client, anon_client, conversation, flow):
    workflow = flow("happy", "survey.answered", {"score_min": 4})
    answer_survey(anon_client, conversation, 3)
    assert runs_of(manager_client, workflow) == []
    entry = explain_last(manager_client, conversation, "survey.answered")["happy"]
    assert entry["reason"] == "score_min: the score 3 is below 4"
    answer_survey(anon_client, conversation, 4)
    assert len(runs_of(manager_client, workflow)) == 1


def test_a_score_range_that_cannot_match_is_refused(manager_client):
    response = manager_client.post(
        URL,
        {
            "name": "x",
            "status": "active",
            "steps": [],
            "trigger": {"type": "survey.answered", "config": {"score_min": 4, "score_max": 2}},
        },
        format="json",
    )
    assert response.status_code == 400 and "trigger.config.score_min" in str(response.json()), response.json()


def test_priority_changed_starts_on_its_from_to(manager_client, agent_client, conversation, flow):
    workflow = flow("urgent", "conversation.priority_changed", {"from": ["normal"], "to": ["urgent", "high"]})
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"priority": "urgent"}, format="json")
    drain()
    assert [run["status"] for run in runs_of(manager_client, workflow)] == ["succeeded"]
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"priority": "low"}, format="json")
    drain()
    assert len(runs_of(manager_client, workflow)) == 1
    entry = explain_last(manager_client, conversation, "conversation.priority_changed")["urgent"]
    assert entry["outcome"] == "filtered_out" and entry["key"] == "from"
    assert entry["reason"] == 'from: "urgent" is not one of ["normal"]'


def test_tags_changed_starts_when_a_listed_tag_is_added_or_removed(manager_client, agent_client, conversation, flow):
    added = flow(
        "on-vip",
        "conversation.tags_changed",
        {"added": ["vip", "gold"]},
        [{"type": "set_priority", "config": {"priority": "high"}}],
    )
    removed = flow(
        "off-vip",
        "conversation.tags_changed",
        {"removed": ["vip"]},
        [{"type": "set_priority", "config": {"priority": "low"}}],
    )
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"tags": ["billing", "vip"]}, format="json")
    drain()
    assert len(runs_of(manager_client, added)) == 1 and runs_of(manager_client, removed) == []
    assert agent_client.get(f"/api/conversations/{conversation.pk}/").json()["priority"] == "high"
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"tags": ["billing"]}, format="json")
    drain()
    assert len(runs_of(manager_client, added)) == 1 and len(runs_of(manager_client, removed)) == 1
    assert agent_client.get(f"/api/conversations/{conversation.pk}/").json()["priority"] == "low"
    entry = explain_last(manager_client, conversation, "conversation.tags_changed")["on-vip"]
    assert entry["outcome"] == "filtered_out" and entry["key"] == "added"


def test_ticket_created_starts_on_a_create_ticket_step(manager_client, agent_client, conversation, flow):
    flow(
        "make-ticket",
        "message.created",
        {"sender_types": ["customer"]},
        [{"type": "create_ticket", "config": {"title": "Follow up {{ contact.name }}"}}],
    )
    on_ticket = flow(
        "ticketed",
        "ticket.created",
        {"conditions": {"all": [{"field": "event.title", "op": "contains", "value": "Follow up"}]}},
    )
    agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/", {"body": "help", "sender_type": "customer"}, format="json"
    )
    drain()
    [run] = runs_of(manager_client, on_ticket)
    assert run["status"] == "succeeded"
    [ticket_event] = Event.objects.filter(conversation=conversation, type="ticket.created")
    assert ticket_event.depth == 1
    assert "ticketed" in agent_client.get(f"/api/conversations/{conversation.pk}/").json()["tags"]


def test_fields_changed_starts_on_its_keys(manager_client, agent_client, conversation, flow):
    services.conversation_field_create(key="order_id", label="Order number")
    services.conversation_field_create(key="note", label="Note")
    workflow = flow(
        "order-known",
        "conversation.fields_changed",
        {"keys": ["order_id"]},
        [{"type": "auto_reply", "config": {"text": "Thanks, order {{ conversation.fields.order_id }}"}}],
    )
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"fields": {"note": "called"}}, format="json")
    drain()
    assert runs_of(manager_client, workflow) == []
    entry = explain_last(manager_client, conversation, "conversation.fields_changed")["order-known"]
    assert entry["outcome"] == "filtered_out" and entry["reason"] == 'keys: ["note"] is not one of ["order_id"]'
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"fields": {"order_id": "A-9"}}, format="json")
    drain()
    [run] = runs_of(manager_client, workflow)
    assert run["status"] == "succeeded" and run["steps"][0]["input"]["text"] == "Thanks, order A-9"


def test_a_trigger_condition_reads_conversation_fields(manager_client, agent_client, conversation, flow):
    services.conversation_field_create(key="reason", label="Reason", type="select", options=["refund", "billing"])
    workflow = flow(
        "refunds",
        "conversation.fields_changed",
        {"conditions": {"all": [{"field": "conversation.fields.reason", "op": "eq", "value": "refund"}]}},
    )
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"fields": {"reason": "billing"}}, format="json")
    drain()
    entry = explain_last(manager_client, conversation, "conversation.fields_changed")["refunds"]
    assert entry["outcome"] == "filtered_out"
    assert 'conversation.fields.reason eq "refund" (saw "billing")' in entry["reason"]
    agent_client.patch(f"/api/conversations/{conversation.pk}/", {"fields": {"reason": "refund"}}, format="json")
    drain()
    assert len(runs_of(manager_client, workflow)) == 1


def test_a_condition_on_an_undefined_field_is_refused_on_save(manager_client):
    response = manager_client.post(
        URL,
        {
            "name": "x",
            "status": "active",
            "trigger": {"type": "manual"},
            "steps": [
                {
                    "type": "condition",
                    "on_false": "stop",
                    "config": {"all": [{"field": "conversation.fields.nope", "op": "eq", "value": 1}]},
                }
            ],
        },
        format="json",
    )
    assert response.status_code == 400 and "Unknown field" in str(response.json()), response.json()
