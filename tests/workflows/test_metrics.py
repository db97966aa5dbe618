"""Prometheus metrics: the figures read from the database at scrape time, for managers' tokens only."""

from __future__ import annotations

import datetime as dt

from prometheus_client.parser import text_string_to_metric_families

from conversations import clock, services
from tests.support.people import client_for
from tests.support.runs import drain


def scrape(user) -> dict[str, list]:
    response = client_for(user).get("/api/metrics/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.content.decode())}


def value(samples, **labels) -> float:
    return next(sample.value for sample in samples if all(sample.labels.get(k) == v for k, v in labels.items()))


def test_metrics_show_the_lag_and_runs_by_status(manager, contact, make_workflow):
    make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["seen"]}}])
    conversation = services.conversation_open(contact=contact, channel="web", subject="Printer")
    services.message_create(conversation=conversation, body="Help", sender_type="customer")
    with clock.travel(dt.timedelta(seconds=90)):
        before = scrape(manager)
    assert value(before["helpdesk_events_undispatched"]) == 3  # contact created, conversation created, message
    assert value(before["helpdesk_dispatch_lag_seconds"]) >= 90
    drain()
    after = scrape(manager)
    assert value(after["helpdesk_events_undispatched"]) == 0
    assert value(after["helpdesk_runs"], status="succeeded") == 1
    assert value(after["helpdesk_info"], version=__import__("conversations").__version__) == 1


def test_agents_and_anonymous_visitors_get_no_metrics(agent):
    from rest_framework.test import APIClient

    assert client_for(agent).get("/api/metrics/").status_code == 403
    assert APIClient().get("/api/metrics/").status_code == 401
