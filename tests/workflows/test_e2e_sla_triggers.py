"""The `sla.warning` and `sla.breached` triggers end to end through the public API: a manager creates an SLA policy
and the workflows over the API, conversations are opened and answered over the API, the SLA sweep and the engine's
sweep run as their tasks would, and the runs are read from `/api/workflow-runs/`. `threshold_minutes` fires once a
breach is at least that late and still unanswered — not at the breach itself.
"""

import datetime as dt

import pytest
from django.utils import timezone

from sla.sweep import run_sweep
from tests.support.runs import drain
from workflows.engine.sweep import sweep_once

START = dt.datetime(2026, 6, 8, 9, 0, tzinfo=dt.UTC)
POLICY = {
    "name": "Default",
    "position": 1,
    "match": {},
    "business_hours": None,
    "targets": {"first_response": 60, "next_response": 30, "resolution": 480},
    "pause_on": ["pending", "on_hold"],
    "warning_percent": 80,
}


class FrozenTime:
    """What `timezone.now()` returns (so message timestamps move with the clock too); moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def at(self, minutes: float) -> None:
        self.now = START + dt.timedelta(minutes=minutes)


@pytest.fixture
def time_at(monkeypatch) -> FrozenTime:
    frozen = FrozenTime()
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen


@pytest.fixture
def setup(manager_client, time_at):
    response = manager_client.post("/api/sla-policies/", POLICY, format="json")
    assert response.status_code == 201, response.json()

    def workflow(trigger_type: str, config: dict, tag: str) -> int:
        body = {
            "name": tag,
            "status": "active",
            "trigger": {"type": trigger_type, "config": config},
            "steps": [{"type": "add_tag", "config": {"tags": [tag]}}],
        }
        created = manager_client.post("/api/workflows/", body, format="json")
        assert created.status_code == 201, created.json()
        return created.json()["id"]

    return workflow


def open_conversation(client, contact) -> int:
    response = client.post(
        "/api/conversations/", {"contact": contact.pk, "channel": "email", "subject": "Login"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def runs(client, workflow: int) -> list[dict]:
    return client.get("/api/workflow-runs/", {"workflow": workflow}).json()["results"]


def sweeps(time_at: FrozenTime, minutes: float) -> None:
    """Both sweeps at `minutes` after the start, then the work they caused."""
    time_at.at(minutes)
    run_sweep()
    drain()
    sweep_once()
    drain()


def test_warning_and_breach_start_their_workflows_once(manager_client, agent_client, contact, setup, time_at):
    warning = setup("sla.warning", {"metrics": ["first_response"]}, "sla-warning")
    breach = setup("sla.breached", {"metrics": ["first_response"]}, "sla-breached")
    resolution = setup("sla.breached", {"metrics": ["resolution"]}, "resolution-breached")
    conversation = open_conversation(agent_client, contact)
    drain()
    sweeps(time_at, 47)
    assert runs(manager_client, warning) == []
    sweeps(time_at, 49)  # 80 % of 60 minutes
    [run] = runs(manager_client, warning)
    assert (run["status"], run["conversation"], run["event_type"]) == ("succeeded", conversation, "sla.warning")
    assert runs(manager_client, breach) == []
    sweeps(time_at, 61)
    sweeps(time_at, 75)
    [run] = runs(manager_client, breach)
    assert (run["status"], run["event_type"]) == ("succeeded", "sla.breached")
    assert runs(manager_client, resolution) == [] and len(runs(manager_client, warning)) == 1
    tags = agent_client.get(f"/api/conversations/{conversation}/").json()["tags"]
    assert sorted(tags) == ["sla-breached", "sla-warning"]


def test_threshold_minutes_fires_once_the_breach_is_that_late(manager_client, agent_client, contact, setup, time_at):
    late = setup("sla.breached", {"metrics": ["first_response"], "threshold_minutes": 30}, "30-min-late")
    waiting = open_conversation(agent_client, contact)
    answered = open_conversation(agent_client, contact)
    drain()
    sweeps(time_at, 61)  # both breach now: not late enough yet
    assert runs(manager_client, late) == []
    time_at.at(70)
    reply = agent_client.post(
        f"/api/conversations/{answered}/messages/", {"body": "On it", "sender_type": "agent"}, format="json"
    )
    assert reply.status_code == 201
    drain()
    sweeps(time_at, 85)
    assert runs(manager_client, late) == []  # 25 minutes late
    sweeps(time_at, 91)
    [run] = runs(manager_client, late)  # the unanswered one only
    assert (run["status"], run["conversation"], run["event_type"]) == ("succeeded", waiting, "sla.breached")
    sweeps(time_at, 120)
    assert len(runs(manager_client, late)) == 1  # once per breach
    assert agent_client.get(f"/api/conversations/{answered}/").json()["tags"] == []
