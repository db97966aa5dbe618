"""HTTP probes: `/api/health/live/` and `/api/health/ready/` answer anonymous probes with the facts of
`helpdesk_health` (a stuck worker tier is 503 on readiness, never on liveness)."""

from __future__ import annotations

import datetime as dt

from rest_framework.test import APIClient

from conversations import clock


def test_liveness_is_200_without_a_token(db):
    response = APIClient().get("/api/health/live/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "OK: serving."}


def test_readiness_is_200_when_no_work_is_due(db):
    response = APIClient().get("/api/health/ready/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "OK: no work is due."}


def test_readiness_is_503_once_due_work_waited_past_the_limit(conversation, settings):
    settings.HELPDESK_HEALTH_MAX_AGE_SECONDS = 60
    with clock.travel(dt.timedelta(minutes=2)):
        ready = APIClient().get("/api/health/ready/")
        live = APIClient().get("/api/health/live/")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unhealthy"
    assert "an undispatched event has been due for 120 s" in ready.json()["message"]
    assert live.status_code == 200


def test_a_bad_token_does_not_stop_a_probe(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token wrong")
    assert client.get("/api/health/live/").status_code == 200
