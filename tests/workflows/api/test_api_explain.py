"""Why did (or didn't) it fire, and workflow order (docs/managers.md), through the public API: a conversation's events
with the runs they started, and `GET /api/events/{id}/explain/` naming, for every workflow of the event's trigger type,
what happened and why — computed from the versions and statuses live when the event was dispatched, not from today's."""

import pytest

from tests.support.runs import drain

URL = "/api/workflows/"


@pytest.fixture
def make(manager_client):
    def create(name, config=None, steps=None, status="active", **extra) -> int:
        body = {
            "name": name,
            "status": status,
            "trigger": {"type": "message.created", "config": config or {}},
            "steps": steps or [{"type": "add_tag", "config": {"tags": [name.lower().replace(" ", "-")]}}],
            **extra,
        }
        response = manager_client.post(URL, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return create


@pytest.fixture
def say(agent_client, conversation):
    def post(body: str) -> None:
        response = agent_client.post(
            f"/api/conversations/{conversation.pk}/messages/", {"body": body, "sender_type": "customer"}, format="json"
        )
        assert response.status_code == 201, response.json()
        drain()

    return post


def latest_message_event(client, conversation) -> dict:
    response = client.get(f"/api/conversations/{conversation.pk}/events/")
    assert response.status_code == 200, response.json()
    return next(event for event in response.json()["results"] if event["type"] == "message.created")


def explained(client, conversation) -> dict[str, dict]:
    event = latest_message_event(client, conversation)
    response = client.get(f"/api/events/{event['id']}/explain/")
    assert response.status_code == 200, response.json()
    assert response.json()["event"]["id"] == event["id"]
    return {entry["name"]: entry for entry in response.json()["workflows"]}


def tags(client, conversation) -> list[str]:
    return sorted(client.get(f"/api/conversations/{conversation.pk}/").json()["tags"])


def test_events_list_newest_first_with_their_runs(manager_client, conversation, make, say):
    workflow = make("Tag all")
    say("first")
    say("second")
    response = manager_client.get(f"/api/conversations/{conversation.pk}/events/")
    results = response.json()["results"]
    messages = [event for event in results if event["type"] == "message.created"]
    assert [event["payload"]["message_id"] for event in messages] == sorted(
        (event["payload"]["message_id"] for event in messages), reverse=True
    )
    runs = manager_client.get("/api/workflow-runs/", {"workflow": workflow}).json()["results"]
    assert sorted(run for event in messages for run in event["runs"]) == sorted(run["id"] for run in runs)
    assert set(results[0]) == {"id", "type", "occurred_at", "depth", "payload", "dispatched_at", "runs"}


def test_explain_started_names_the_run(manager_client, conversation, make, say):
    make("Refunds", {"content_contains": ["refund"]})
    say("I want a refund")
    entry = explained(manager_client, conversation)["Refunds"]
    run = manager_client.get(f"/api/workflow-runs/{entry['run']}/").json()
    assert (entry["outcome"], entry["version"], run["status"]) == ("started", 1, "succeeded")


def test_explain_filtered_out_names_the_key_and_the_value_seen(manager_client, conversation, make, say):
    make("Refunds", {"sender_types": ["customer"], "content_contains": ["refund"]})
    say("where is my parcel")
    entry = explained(manager_client, conversation)["Refunds"]
    assert entry["outcome"] == "filtered_out" and entry["key"] == "content_contains"
    assert entry["reason"] == 'content_contains: none of ["refund"] in "where is my parcel"'


def test_explain_not_active_uses_the_status_at_the_event_time(manager_client, conversation, make, say):
    draft = make("Later", status="draft")
    make("Off", status="inactive")
    say("hello")
    assert manager_client.post(f"{URL}{draft}/activate/").status_code == 200
    entries = explained(manager_client, conversation)
    assert (entries["Later"]["outcome"], entries["Later"]["status"]) == ("not_active", "draft")
    assert (entries["Off"]["outcome"], entries["Off"]["status"]) == ("not_active", "inactive")
    assert entries["Later"]["version"] == 1  # the version live then, not today's (2)


def test_explain_filtered_out_uses_the_filter_at_the_event_time(manager_client, conversation, make, say):
    workflow = make("Refunds", {"content_contains": ["refund"]})
    say("where is my parcel")
    assert (
        manager_client.patch(
            f"{URL}{workflow}/", {"trigger": {"type": "message.created", "config": {}}}, format="json"
        ).status_code
        == 200
    )
    entry = explained(manager_client, conversation)["Refunds"]
    assert (entry["outcome"], entry["version"]) == ("filtered_out", 1)


def test_explain_depth_limit(manager_client, conversation, make, say, settings):
    settings.HELPDESK_MAX_DEPTH = 0
    make("Echo", steps=[{"type": "auto_reply", "config": {"text": "We got it"}}])
    say("hello")
    events = manager_client.get(f"/api/conversations/{conversation.pk}/events/").json()["results"]
    reply = next(event for event in events if event["type"] == "message.created" and event["depth"] == 1)
    [entry] = manager_client.get(f"/api/events/{reply['id']}/explain/").json()["workflows"]
    assert entry["outcome"] == "depth_limit" and "HELPDESK_MAX_DEPTH=0" in entry["reason"]


def test_explain_stopped_by_earlier_names_the_workflow(manager_client, conversation, make, say):
    make("Second", order=2)
    first = make("First", {"content_contains": ["refund"]}, order=1, stop_processing=True)
    say("refund please")
    entries = explained(manager_client, conversation)
    assert entries["First"]["outcome"] == "started"
    assert (entries["Second"]["outcome"], entries["Second"]["stopped_by"]) == ("stopped_by_earlier", first)
    assert '"First"' in entries["Second"]["reason"]


def test_explain_stopped_at_condition_gives_the_step_and_false_checks(manager_client, conversation, make, say):
    make(
        "Free plan only",
        steps=[
            {
                "type": "condition",
                "on_false": "stop",
                "config": {"all": [{"field": "contact.attributes.plan", "op": "eq", "value": "free"}]},
            },
            {"type": "add_tag", "config": {"tags": ["vip"]}},
        ],
    )
    say("hello")
    entry = explained(manager_client, conversation)["Free plan only"]
    assert entry["outcome"] == "stopped_at_condition" and entry["step"]["position"] == 0
    assert [check["field"] for check in entry["step"]["checks"]] == ["contact.attributes.plan"]
    assert 'step 1 (condition): contact.attributes.plan eq "free" (saw "enterprise")' in entry["reason"]


def test_stop_processing_keeps_later_workflows_from_starting(manager_client, conversation, make, say):
    make("Tag late", order=20)
    stopper = make("Refund desk", {"content_contains": ["refund"]}, order=10, stop_processing=True)
    say("refund please")
    assert tags(manager_client, conversation) == ["refund-desk"]
    say("hello")  # the stopper does not match: the later workflow starts
    assert tags(manager_client, conversation) == ["refund-desk", "tag-late"]
    manager_client.patch(f"{URL}{stopper}/", {"order": 30}, format="json")  # now after the other one
    manager_client.patch(f"/api/conversations/{conversation.pk}/", {"tags": []}, format="json")
    say("refund again")
    assert tags(manager_client, conversation) == ["refund-desk", "tag-late"]


def test_order_defaults_to_creation_and_round_trips(manager_client, make):
    first, second = make("A"), make("B")
    one, two = (manager_client.get(f"{URL}{pk}/").json() for pk in (first, second))
    assert one["order"] < two["order"] and one["stop_processing"] is False
    exported = manager_client.get(f"{URL}{second}/export/").json()
    assert (exported["order"], exported["stop_processing"]) == (two["order"], False)
    imported = manager_client.post(f"{URL}import/", {**exported, "stop_processing": True}, format="json").json()
    assert (imported["order"], imported["stop_processing"]) == (two["order"], True)
    put = manager_client.put(
        f"{URL}{first}/", {**{k: one[k] for k in ("name", "trigger", "steps")}}, format="json"
    ).json()
    assert put["order"] == one["order"]  # a PUT without `order` keeps it


@pytest.mark.parametrize(
    "body, key",
    [({"order": "first"}, "order"), ({"order": True}, "order"), ({"stop_processing": "yes"}, "stop_processing")],
)
def test_bad_order_or_stop_processing_is_a_400(manager_client, make, body, key):
    workflow = make("A")
    response = manager_client.patch(f"{URL}{workflow}/", body, format="json")
    assert response.status_code == 400 and key in response.json()


def test_explain_of_unknown_event_is_404(manager_client, conversation):
    assert manager_client.get("/api/events/not-a-uuid/explain/").status_code == 404
    assert manager_client.get("/api/events/00000000-0000-0000-0000-000000000000/explain/").status_code == 404
    assert manager_client.get("/api/conversations/999999/events/").status_code == 404
    assert manager_client.get("/api/conversations/1.5/events/").status_code == 404


def test_agents_cannot_read_explanations(agent_client, conversation):
    assert agent_client.get(f"/api/conversations/{conversation.pk}/events/").status_code == 403


def test_explain_reads_no_query_per_workflow_or_run(
    manager_client, conversation, make, say, django_assert_max_num_queries
):
    for name in ("A", "B"):
        make(name, {"content_contains": ["refund"]})
        make(
            f"{name} stop",
            steps=[
                {
                    "type": "condition",
                    "on_false": "stop",
                    "config": {"all": [{"field": "message.body", "op": "contains", "value": "never"}]},
                }
            ],
        )
    say("hello")
    event = latest_message_event(manager_client, conversation)
    with django_assert_max_num_queries(7):
        entries = manager_client.get(f"/api/events/{event['id']}/explain/").json()["workflows"]
    assert sorted(entry["outcome"] for entry in entries) == ["filtered_out"] * 2 + ["stopped_at_condition"] * 2
