"""`conversation.sentiment_crossed` (docs/reference/triggers.md): fires when the conversation's average sentiment
crosses the threshold in the configured direction — once, and again only after it has crossed back."""

import pytest

from conversations import services
from conversations.models import Event
from tests.support.runs import drain
from tests.workflows.runs_api import runs_through_api, step_summary
from workflows.models import WorkflowRun

ANGRY = "This is terrible, I am furious and the product is useless"  # VADER maps it to about 0.07
HAPPY = "Thank you so much, wonderful help, I love it!"  # about 0.97

TAG_STEP = [{"type": "add_tag", "config": {"tags": ["sentiment"]}}]


def say(conversation, body: str, sender_type: str = "customer") -> int:
    """Post a message, drain the engine, return the number of crossing events so far."""
    services.message_create(conversation=conversation, body=body, sender_type=sender_type)
    drain()
    return Event.objects.filter(type="conversation.sentiment_crossed").count()


def runs(workflow) -> int:
    return WorkflowRun.objects.filter(workflow=workflow).count()


def test_falling_below_fires_once_and_again_only_after_crossing_back(make_workflow, conversation):
    workflow = make_workflow("conversation.sentiment_crossed", TAG_STEP, {"operator": "<", "threshold": 0.4})
    say(conversation, ANGRY)  # average 0.07: below from the start
    assert runs(workflow) == 1
    say(conversation, ANGRY)  # still below
    assert runs(workflow) == 1
    say(conversation, HAPPY)  # 0.37, still below
    say(conversation, HAPPY)  # 0.52: back above (the wrong direction for "<")
    say(conversation, ANGRY)  # 0.43, above
    assert runs(workflow) == 1
    say(conversation, ANGRY)  # 0.37: below again
    assert runs(workflow) == 2
    assert set(WorkflowRun.objects.filter(workflow=workflow).values_list("status", flat=True)) == {"succeeded"}


def test_rising_above_fires_on_the_crossing_only(make_workflow, conversation):
    workflow = make_workflow("conversation.sentiment_crossed", TAG_STEP, {"operator": ">", "threshold": 0.6})
    say(conversation, ANGRY)
    say(conversation, HAPPY)  # 0.52
    assert runs(workflow) == 0
    say(conversation, HAPPY)  # 0.67: crossed up
    assert runs(workflow) == 1
    say(conversation, HAPPY)
    assert runs(workflow) == 1
    assert list(conversation.tags.values_list("name", flat=True)) == ["sentiment"]


def test_each_workflow_fires_on_its_own_threshold(make_workflow, conversation):
    low = make_workflow("conversation.sentiment_crossed", TAG_STEP, {"operator": "<", "threshold": 0.2}, name="low")
    mid = make_workflow("conversation.sentiment_crossed", TAG_STEP, {"operator": "<", "threshold": 0.5}, name="mid")
    say(conversation, HAPPY)
    say(conversation, ANGRY)  # 0.52: neither
    assert (runs(low), runs(mid)) == (0, 0)
    say(conversation, ANGRY)  # 0.37: crosses 0.5 only
    assert (runs(low), runs(mid)) == (0, 1)


def test_the_run_sees_the_crossing_and_the_message(make_workflow, conversation):
    workflow = make_workflow(
        "conversation.sentiment_crossed",
        [
            {"type": "set_variable", "config": {"name": "seen", "value": "{{ event.direction }} {{ message.body }}"}},
        ],
        {"operator": "<", "threshold": 0.4},
    )
    say(conversation, ANGRY)
    run = WorkflowRun.objects.get(workflow=workflow)
    assert run.event.type == "conversation.sentiment_crossed"
    assert run.event.payload["sentiment_after"] < 0.4
    assert run.variables["seen"] == f"down {ANGRY}"


def test_no_crossing_event_is_recorded_when_no_workflow_listens(make_workflow, conversation):
    make_workflow("conversation.sentiment_crossed", TAG_STEP, {"operator": "<", "threshold": 0.4}, status="draft")
    assert say(conversation, ANGRY) == 0
    assert say(conversation, "Sure, I will check", sender_type="agent") == 0


def test_a_crossing_caused_by_a_workflow_keeps_its_depth(make_workflow, conversation):
    crossing = make_workflow("conversation.sentiment_crossed", TAG_STEP, {"operator": "<", "threshold": 0.4})
    services.message_create(conversation=conversation, body=ANGRY, sender_type="customer", depth=2)
    drain()
    assert Event.objects.get(type="conversation.sentiment_crossed").depth == 2
    assert runs(crossing) == 1


@pytest.mark.parametrize(
    "config",
    [
        {"operator": "=", "threshold": 0.5},
        {"operator": "<", "threshold": 1.5},
        {"operator": "<", "threshold": "low"},
        {"below": 0.3},
    ],
)
def test_bad_sentiment_config_is_a_400(manager_client, config):
    response = manager_client.post(
        "/api/workflows/",
        {"name": "Bad", "trigger": {"type": "conversation.sentiment_crossed", "config": config}},
        format="json",
    )
    assert response.status_code == 400
    assert any(key.startswith("trigger.config") for key in response.json()), response.json()


def test_sentiment_workflow_runs_end_to_end_through_the_api(manager_client, agent_client, conversation):
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Unhappy customer",
            "status": "active",
            "trigger": {"type": "conversation.sentiment_crossed", "config": {"operator": "<", "threshold": 0.4}},
            "steps": [{"type": "set_priority", "config": {"priority": "urgent"}}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    url = f"/api/conversations/{conversation.pk}/messages/"
    for body in [ANGRY, ANGRY]:
        assert agent_client.post(url, {"body": body, "sender_type": "customer"}, format="json").status_code == 201
        drain()
    [run] = runs_through_api(manager_client, response.json()["id"])
    assert (run["status"], run["conversation"]) == ("succeeded", conversation.pk)
    assert step_summary(run) == [(0, "set_priority", "succeeded")]
    assert agent_client.get(f"/api/conversations/{conversation.pk}/").json()["priority"] == "urgent"
