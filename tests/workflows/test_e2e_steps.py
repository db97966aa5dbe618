"""Each internal step type of docs/reference/steps.md end to end through the public API: a manager creates the workflow
with `POST /api/workflows/`, a customer message arrives through `POST /api/conversations/{id}/messages/`, the work is
drained the way the sweep does it, and the outcome is read back through `/api/workflow-runs/` and the conversation
endpoints a client uses. `schedule_event` / `clear_scheduled_event` are end to end in test_api_triggers.py (they
need the `scheduled_event.fired` trigger); outbound steps have their own tests under outbound/.
"""

import datetime as dt

import pytest
from django.core import mail

from conversations import clock
from conversations.roles import AGENTS_GROUP
from tests.support.people import make_user
from tests.support.runs import drain, the_run
from workflows.engine.sweep import sweep_once

URL = "/api/workflows/"


@pytest.fixture
def flow(manager_client):
    """Create an active workflow on customer messages through the API; returns its id."""

    def create(*steps: dict, trigger_config: dict | None = None) -> int:
        body = {
            "name": "E2E",
            "status": "active",
            "steps": list(steps),
            "trigger": {"type": "message.created", "config": trigger_config or {"sender_types": ["customer"]}},
        }
        response = manager_client.post(URL, body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()["id"]

    return create


@pytest.fixture
def customer_says(agent_client, conversation):
    """Post a customer message through the API and drain the work it causes."""

    def say(body: str = "Hello, I need help") -> None:
        response = agent_client.post(
            f"/api/conversations/{conversation.pk}/messages/", {"body": body, "sender_type": "customer"}, format="json"
        )
        assert response.status_code == 201, response.json()
        drain()

    return say


@pytest.fixture
def read(agent_client, conversation):
    """The conversation as the API reads it back."""

    def get() -> dict:
        response = agent_client.get(f"/api/conversations/{conversation.pk}/")
        assert response.status_code == 200
        return response.json()

    return get


def messages(client, conversation, **filters) -> list[dict]:
    response = client.get(f"/api/conversations/{conversation.pk}/messages/", {"page_size": 200})
    assert response.status_code == 200
    return [m for m in response.json()["results"] if all(m[key] == value for key, value in filters.items())]


def test_condition_step_passes_on_a_nested_tree(manager_client, flow, customer_says, read):
    workflow = flow(
        {
            "type": "condition",
            "on_false": "stop",
            "config": {
                "all": [
                    {"field": "contact.attributes.vip", "op": "eq", "value": True},
                    {
                        "any": [
                            {"field": "message.body", "op": "matches", "value": r"order \d+"},
                            {"field": "conversation.channel", "op": "in", "value": ["sms"]},
                        ]
                    },
                ]
            },
        },
        {"type": "add_tag", "config": {"tags": ["vip-order"]}},
    )
    customer_says("Where is order 1234?")
    run = the_run(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert run["steps"][0]["output"]["result"] is True
    assert read()["tags"] == ["vip-order"]


def test_auto_reply_posts_a_rendered_message_with_buttons(
    manager_client, agent_client, conversation, flow, customer_says
):
    workflow = flow(
        {
            "type": "auto_reply",
            "config": {
                "text": "Hi {{ contact.name }}, you wrote: {{ message.body }}",
                "buttons": [{"label": "Track {{ contact.attributes.plan }}", "url": "https://example.com/track"}],
            },
        }
    )
    customer_says("parcel?")
    run = the_run(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert run["steps"][0]["input"]["text"] == "Hi Ada Lovelace, you wrote: parcel?"
    [reply] = messages(agent_client, conversation, sender_type="ai")
    assert reply["body"] == "Hi Ada Lovelace, you wrote: parcel?"
    assert reply["buttons"] == [{"label": "Track enterprise", "url": "https://example.com/track"}]
    assert reply["internal"] is False


def test_route_least_busy_assigns_the_free_available_agent(
    manager_client, conversation, team, flow, customer_says, read, contact, roles
):
    from conversations import services

    busy = make_user("busy", AGENTS_GROUP, capacity=5)
    free = make_user("free", AGENTS_GROUP, capacity=5)
    away = make_user("away", AGENTS_GROUP, capacity=5, status="away")
    for user in (busy, free, away):
        user.agent_profile.teams.add(team)
    other = services.conversation_open(contact=contact, channel="email", subject="Other")
    services.conversation_assign(conversation=other, assignee=busy, team=team)
    workflow = flow({"type": "route", "config": {"team": "Support", "strategy": "least_busy"}})
    customer_says()
    run = the_run(manager_client, workflow)
    assert run["status"] == "succeeded", run["error"]
    assert (read()["team"], read()["assignee"]) == (team.pk, free.pk)  # not the busy one, not the unavailable one
    assert run["steps"][0]["output"]["assigned"] is True


def test_add_tag_then_remove_tag(manager_client, flow, customer_says, read):
    workflow = flow(
        {"type": "add_tag", "config": {"tags": ["new", "{{ contact.segment }}"]}},
        {"type": "remove_tag", "config": {"tags": ["new"]}},
    )
    customer_says()
    run = the_run(manager_client, workflow)
    assert [step["status"] for step in run["steps"]] == ["succeeded", "succeeded"]
    assert run["steps"][0]["input"]["tags"] == ["new", "enterprise"]
    assert read()["tags"] == ["enterprise"]


def test_change_status_and_set_priority(manager_client, flow, customer_says, read):
    workflow = flow(
        {"type": "change_status", "config": {"status": "pending"}},
        {"type": "set_priority", "config": {"priority": "urgent"}},
    )
    customer_says()
    assert the_run(manager_client, workflow)["status"] == "succeeded"
    conversation = read()
    assert (conversation["status"], conversation["priority"]) == ("pending", "urgent")


def test_create_ticket_is_listed_for_the_conversation(manager_client, agent_client, conversation, flow, customer_says):
    workflow = flow(
        {
            "type": "create_ticket",
            "config": {
                "title": "Follow up with {{ contact.name }}",
                "description": "{{ message.body }}",
                "priority": "high",
            },
        }
    )
    customer_says("My printer is still on fire")
    run = the_run(manager_client, workflow)
    response = agent_client.get("/api/tickets/", {"conversation": conversation.pk})
    [ticket] = response.json()["results"]
    assert (ticket["title"], ticket["description"], ticket["priority"]) == (
        "Follow up with Ada Lovelace",
        "My printer is still on fire",
        "high",
    )
    assert run["steps"][0]["output"]["ticket_id"] == ticket["id"]


def test_notify_emails_the_team_members_and_addresses(manager_client, team, flow, customer_says, roles):
    member = make_user("member", AGENTS_GROUP)
    member.agent_profile.teams.add(team)
    workflow = flow(
        {
            "type": "notify",
            "config": {
                "teams": ["Support"],
                "emails": ["lead@example.com"],
                "subject": "VIP {{ contact.name }}",
                "text": "Customer said: {{ message.body }}",
            },
        }
    )
    customer_says("Call me back")
    assert the_run(manager_client, workflow)["status"] == "succeeded"
    [email] = mail.outbox
    assert sorted(email.to) == ["lead@example.com", "member@example.com"]
    assert email.subject == "VIP Ada Lovelace" and "Customer said: Call me back" in email.body


def test_escalate_reassigns_raises_priority_and_notes_the_transcript(
    manager_client, agent_client, conversation, team, flow, customer_says, read, roles
):
    member = make_user("tier2", AGENTS_GROUP)
    member.agent_profile.teams.add(team)
    workflow = flow(
        {
            "type": "escalate",
            "config": {"team": "Support", "note": "Angry VIP: {{ message.body }}", "include_transcript": True},
        }
    )
    customer_says("This is unacceptable")
    run = the_run(manager_client, workflow)
    assert run["status"] == "succeeded", run["error"]
    conversation_data = read()
    assert conversation_data["priority"] == "urgent"
    assert conversation_data["team"] == team.pk
    [note] = messages(agent_client, conversation, internal=True)
    reason, transcript = note["body"].split("Transcript:")
    assert "Angry VIP: This is unacceptable" in reason and "Contact: Ada Lovelace" in reason
    assert "Customer: This is unacceptable" in transcript
    [email] = mail.outbox
    assert email.to == ["tier2@example.com"]


def test_send_email_goes_to_the_contact(manager_client, flow, customer_says):
    workflow = flow(
        {
            "type": "send_email",
            "config": {"subject": "Re: {{ conversation.subject }}", "body": "Dear {{ contact.name }}, we are on it."},
        }
    )
    customer_says()
    assert the_run(manager_client, workflow)["status"] == "succeeded"
    [email] = mail.outbox
    assert (email.to, email.subject, email.body) == (
        ["ada@example.com"],
        "Re: Printer on fire",
        "Dear Ada Lovelace, we are on it.",
    )


def test_send_survey_link_is_answered_once_on_the_public_endpoint(
    manager_client, anon_client, flow, customer_says, settings
):
    workflow = flow({"type": "send_survey", "config": {"via": "email", "question": "Rate us, {{ contact.name }}"}})
    customer_says()
    run = the_run(manager_client, workflow)
    assert run["status"] == "succeeded", run["error"]
    link = run["steps"][0]["output"]["link"]
    [email] = mail.outbox
    assert link in email.body and link.startswith(f"{settings.SITE_URL}/survey/")
    token = link.rstrip("/").rsplit("/", 1)[1]
    answer = f"/api/surveys/{token}/answer/"
    assert anon_client.post(answer, {"score": 9}, format="json").status_code == 400
    assert anon_client.post(answer, {"score": 4, "comment": "Quick"}, format="json").status_code == 200
    assert anon_client.post(answer, {"score": 5}, format="json").status_code == 400  # answered once
    assert anon_client.post("/api/surveys/not-a-token/answer/", {"score": 5}, format="json").status_code == 404
    from conversations.models import Survey

    assert Survey.objects.values_list("score", "comment").get() == (4, "Quick")


def test_set_variable_feeds_later_steps(manager_client, agent_client, conversation, flow, customer_says):
    workflow = flow(
        {"type": "set_variable", "config": {"name": "order", "value": "{{ message.body[-4:] }}"}},
        {"type": "auto_reply", "config": {"text": "Looking up order {{ vars.order }}."}},
    )
    customer_says("Where is order 4711")
    run = the_run(manager_client, workflow)
    assert run["steps"][0]["output"] == {"order": "4711"}
    assert [m["body"] for m in messages(agent_client, conversation, sender_type="ai")] == ["Looking up order 4711."]


def test_wait_resumes_after_the_clock_passes_its_time(manager_client, agent_client, conversation, flow, customer_says):
    workflow = flow(
        {"type": "add_tag", "config": {"tags": ["waiting"]}},
        {"type": "wait", "config": {"hours": 2}},
        {"type": "auto_reply", "config": {"text": "Still need help?"}},
    )
    customer_says()
    run = the_run(manager_client, workflow)
    assert (run["status"], [step["status"] for step in run["steps"]]) == ("waiting", ["succeeded", "waiting"])
    resume_at = dt.datetime.fromisoformat(run["resume_at"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=1, minutes=59) < resume_at - clock.now() <= dt.timedelta(hours=2)
    with clock.travel(dt.timedelta(hours=1, minutes=50)):
        sweep_once()
    assert the_run(manager_client, workflow)["status"] == "waiting"
    assert messages(agent_client, conversation, sender_type="ai") == []
    with clock.travel(dt.timedelta(hours=2, minutes=1)):
        sweep_once()
    run = the_run(manager_client, workflow)
    assert run["status"] == "succeeded"
    assert [(step["type"], step["status"], step["attempts"]) for step in run["steps"]] == [
        ("add_tag", "succeeded", 1),
        ("wait", "succeeded", 1),
        ("auto_reply", "succeeded", 1),
    ]
    assert [m["body"] for m in messages(agent_client, conversation, sender_type="ai")] == ["Still need help?"]


def test_templates_read_plain_data_only(manager_client, agent_client, conversation, flow, customer_says):
    refused = manager_client.post(
        URL,
        {
            "name": "Peek",
            "status": "active",
            "trigger": {"type": "message.created", "config": {}},
            "steps": [{"type": "auto_reply", "config": {"text": "{{ message.__class__.__mro__ }}"}}],
        },
        format="json",
    )
    assert refused.status_code == 400 and "steps[0].config.text" in refused.json()
    workflow = flow(
        {"type": "auto_reply", "config": {"text": "[{{ settings.SECRET_KEY }}{{ secret_key }}] {{ contact.name }}"}},
        {"type": "auto_reply", "config": {"text": "{{ contact.attributes.update({'vip': False}) }}"}},
    )
    customer_says()
    run = the_run(manager_client, workflow)
    assert [m["body"] for m in messages(agent_client, conversation, sender_type="ai")] == ["[] Ada Lovelace"]
    assert run["status"] == "failed" and "unsafe" in run["steps"][1]["error"]
    conversation.contact.refresh_from_db()
    assert conversation.contact.attributes["vip"] is True
