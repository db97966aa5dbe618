"""Replay helpers (docs/managers.md "try on history"): a workflow created over the API, the replay period around now, and
a replay started, finished by the in-process workers and read back."""

import datetime as dt

from conversations import clock
from conversations import services as conversation_services

URL = "/api/workflows/"


REFUND = {"type": "message.created", "config": {"sender_types": ["customer"], "content_contains": ["refund"]}}


TAG = {"type": "add_tag", "config": {"tags": ["refund"]}}


def period(days: int = 1) -> dict:
    """From `days` ago until an hour from now."""
    now = clock.now()
    return {"since": (now - dt.timedelta(days=days)).isoformat(), "until": (now + dt.timedelta(hours=1)).isoformat()}


def create_workflow(client, steps, trigger=REFUND) -> int:
    """An active workflow created over the API (refund messages by default); its id."""
    response = client.post(
        URL, {"name": "Refunds", "status": "active", "trigger": trigger, "steps": steps}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def replay(client, capture, workflow: int, **body) -> dict:
    """Start a replay, let the workers finish it, and read it back."""
    with capture(execute=True):
        started = client.post(f"{URL}{workflow}/replay/", {**period(), **body}, format="json")
    assert started.status_code == 202, started.json()
    assert set(started.json()) == {"id"}
    report = client.get(f"/api/workflow-replays/{started.json()['id']}/")
    assert report.status_code == 200
    return report.json()


def say(conversation, *bodies: str) -> None:
    """Customer messages in the conversation, one per body."""
    for body in bodies:
        conversation_services.message_create(conversation=conversation, body=body, sender_type="customer")
