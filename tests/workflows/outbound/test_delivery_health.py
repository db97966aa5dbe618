"""Delivery health (docs/managers.md) against a real local receiver: an endpoint that keeps failing is disabled (after
both the failure count and the period), its steps then fail fast without contacting it, managers are emailed once and
see a banner in admin, and re-enabling over the API redelivers what failed with the same `webhook-id` and a fresh,
valid signature. A workflow whose runs keep failing raises the same kind of alert."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from werkzeug import Response

from conversations import clock
from tests.support.outbound import LATER, SECRET, disable, hook_url, open_conversations, receiver_verifies, webhook
from workflows.engine.sweep import resume_due_runs
from workflows.integrations.delivery import destination, endpoint_for_attempt
from workflows.models import Endpoint, WorkflowRun

pytestmark = pytest.mark.usefixtures("allow_loopback")

ENDPOINTS = "/api/endpoints/"


def test_an_endpoint_failing_long_enough_is_disabled_and_its_steps_fail_fast(
    thresholds, contact, manager, make_workflow, down_receiver, manager_client
):
    workflow = disable(contact, make_workflow, down_receiver)
    [endpoint] = manager_client.get(ENDPOINTS).json()["results"]
    assert endpoint["state"] == "disabled" and endpoint["kind"] == "webhook"
    assert (endpoint["attempts"], endpoint["failures"], endpoint["consecutive_failures"]) == (4, 4, 4)
    assert endpoint["url"] == down_receiver.url_for("/hook")  # no query string
    assert "HTTP 503: down for maintenance" in endpoint["last_error"]
    assert endpoint["last_failure_at"] and endpoint["last_success_at"] is None
    contacted = len(down_receiver.log)
    with clock.travel(LATER):
        open_conversations(contact, 2)
    assert len(down_receiver.log) == contacted  # not contacted again
    latest = WorkflowRun.objects.filter(workflow=workflow).order_by("-id").first()
    assert latest.status == "failed"
    assert f"endpoint {endpoint['url']} disabled since " in latest.error
    assert "after 4 failures; re-enable it in admin › Endpoints" in latest.error
    assert len(mail.outbox) == 1  # once, not per fast failure
    assert mail.outbox[0].to == [manager.email] and endpoint["url"] in mail.outbox[0].subject


def test_failures_within_the_period_do_not_disable(thresholds, contact, make_workflow, down_receiver):
    make_workflow("conversation.created", webhook(hook_url(down_receiver)))
    open_conversations(contact, 6)
    endpoint = Endpoint.objects.get()
    assert (endpoint.state, endpoint.consecutive_failures) == ("failing", 6)
    assert len(down_receiver.log) == 6 and mail.outbox == []


def test_a_success_ends_the_failing_streak(thresholds, contact, make_workflow, httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_response(Response("down", status=503))
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    make_workflow("conversation.created", webhook(httpserver.url_for("/hook")))
    open_conversations(contact, 2)
    endpoint = Endpoint.objects.get()
    assert (endpoint.state, endpoint.attempts, endpoint.failures, endpoint.consecutive_failures) == ("healthy", 2, 1, 0)
    assert endpoint.last_success_at is not None


def test_re_enable_redelivers_with_the_same_webhook_id_and_a_new_signature(
    thresholds, contact, make_workflow, down_receiver, manager_client
):
    since = clock.now() - dt.timedelta(minutes=1)
    workflow = disable(contact, make_workflow, down_receiver)
    with clock.travel(LATER):
        open_conversations(contact, 1)  # fails fast while disabled: redelivered too
    failed = {run.pk for run in WorkflowRun.objects.filter(workflow=workflow, status="failed")}
    assert len(failed) == 5
    first_attempts = {request.headers["webhook-id"]: request for request, _ in down_receiver.log}
    down_receiver.clear_all_handlers()
    down_receiver.expect_request("/hook").respond_with_data("ok")
    endpoint = Endpoint.objects.get()
    with clock.travel(LATER * 2):
        reply = manager_client.post(
            f"{ENDPOINTS}{endpoint.pk}/enable/", {"redeliver_failed_since": since.isoformat()}, format="json"
        )
        assert reply.status_code == 200, reply.content
        assert reply.json()["endpoint"]["state"] == "healthy" and set(reply.json()["redelivered_runs"]) == failed
        resume_due_runs(clock.now())
    assert set(WorkflowRun.objects.filter(workflow=workflow).values_list("status", flat=True)) == {"succeeded"}
    redelivered = [request for request, _ in down_receiver.log[len(first_attempts) :]]
    assert len(redelivered) == 5
    for request in redelivered:
        assert receiver_verifies(request, SECRET)
        original = first_attempts.get(request.headers["webhook-id"])
        if original is not None:  # the four that reached the receiver before: same id, newer signed timestamp
            assert int(request.headers["webhook-timestamp"]) > int(original.headers["webhook-timestamp"])
            assert request.headers["webhook-signature"] != original.headers["webhook-signature"]
    assert set(first_attempts) <= {request.headers["webhook-id"] for request in redelivered}


def test_re_enable_without_redelivery_only_re_enables(
    thresholds, contact, make_workflow, down_receiver, manager_client
):
    disable(contact, make_workflow, down_receiver)
    endpoint = Endpoint.objects.get()
    reply = manager_client.post(f"{ENDPOINTS}{endpoint.pk}/enable/", {}, format="json")
    assert reply.status_code == 200 and reply.json()["redelivered_runs"] == []
    endpoint.refresh_from_db()
    assert (endpoint.state, endpoint.consecutive_failures, endpoint.failures) == ("healthy", 0, 4)
    assert WorkflowRun.objects.filter(status="queued").count() == 0


def test_a_workflow_whose_runs_keep_failing_alerts_once(
    settings, contact, manager, make_workflow, httpserver, manager_browser
):
    settings.HELPDESK_WORKFLOW_ALERT_AFTER_FAILED_RUNS = 3
    httpserver.expect_request("/hook").respond_with_data("no such hook", status=404)
    make_workflow("conversation.created", webhook(httpserver.url_for("/hook")), name="Broken sync")
    open_conversations(contact, 2)
    assert mail.outbox == []
    open_conversations(contact, 3)
    assert len(mail.outbox) == 1
    assert "Broken sync" in mail.outbox[0].subject and "HTTP 404: no such hook" in mail.outbox[0].body
    page = manager_browser.get("/admin/").content.decode()
    assert "Broken sync" in page and "its last 3 runs failed" in page
    httpserver.clear_all_handlers()
    httpserver.expect_request("/hook").respond_with_data("ok")
    with clock.travel(dt.timedelta(seconds=5)):
        open_conversations(contact, 1)
    assert "Broken sync" not in manager_browser.get("/admin/").content.decode()  # a run succeeded since


def test_only_managers_see_and_enable_endpoints(
    thresholds, contact, make_workflow, down_receiver, agent_client, anon_client, manager_client
):
    disable(contact, make_workflow, down_receiver)
    endpoint = Endpoint.objects.get()
    assert agent_client.get(ENDPOINTS).status_code == 403
    assert agent_client.post(f"{ENDPOINTS}{endpoint.pk}/enable/", {}, format="json").status_code == 403
    assert anon_client.get(ENDPOINTS).status_code == 401
    assert manager_client.post(f"{ENDPOINTS}999999/enable/", {}, format="json").status_code == 404
    bad = manager_client.post(
        f"{ENDPOINTS}{endpoint.pk}/enable/", {"redeliver_failed_since": "yesterday"}, format="json"
    )
    assert bad.status_code == 400 and "redeliver_failed_since" in bad.json()
    typo = manager_client.post(f"{ENDPOINTS}{endpoint.pk}/enable/", {"redeliver_since": "2026-01-01"}, format="json")
    assert typo.status_code == 400 and "redeliver_since" in typo.json()
    endpoint.refresh_from_db()
    assert endpoint.state == "disabled"  # nothing above enabled it


def test_each_attempt_costs_one_update_of_its_endpoint(thresholds, contact, make_workflow, down_receiver):
    make_workflow("conversation.created", webhook(hook_url(down_receiver)))
    open_conversations(contact, 1)  # the endpoint's row exists from here on
    with CaptureQueriesContext(connection) as captured:
        open_conversations(contact, 1)
    writes = [
        query["sql"]
        for query in captured
        if "workflows_endpoint" in query["sql"] and not query["sql"].startswith("SELECT")
    ]
    assert len(writes) == 1 and writes[0].startswith("UPDATE")
    assert Endpoint.objects.get().attempts == 2


def test_a_url_endpoint_shows_no_userinfo_path_or_query(contact, make_workflow, httpserver, manager_client):
    httpserver.expect_request("/api/contacts").respond_with_json({"ok": True})
    clean = httpserver.url_for("/api/contacts") + "?api_key=abc123"
    with_credentials = clean.replace("://", "://crm-user:crm-password@")
    for url in (clean, with_credentials):
        make_workflow("conversation.created", [{"type": "http_request", "config": {"url": url, "method": "POST"}}])
    open_conversations(contact, 1)
    [endpoint] = manager_client.get(ENDPOINTS).json()["results"]  # requests by URL are grouped by host
    assert (endpoint["kind"], endpoint["attempts"], endpoint["failures"]) == ("http", 2, 1)
    assert endpoint["url"] == httpserver.url_for("/").rstrip("/")
    assert "Credentials inside URLs are not allowed" in endpoint["last_error"]
    assert "crm-password" not in str(endpoint) and "abc123" not in str(endpoint)


def test_the_endpoint_list_costs_the_same_queries_for_more_endpoints(db, manager_client):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(ENDPOINTS).status_code == 200
        return len(captured)

    endpoint_for_attempt(destination("webhook", "https://hooks.example.com/a"))
    one = list_queries()
    for index in range(5):
        endpoint_for_attempt(destination("webhook", f"https://hooks.example.com/{index}?sig=x"))
    assert list_queries() == one
    assert manager_client.get(ENDPOINTS).json()["count"] == 6
