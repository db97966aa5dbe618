"""`http_request` against a real local HTTP server: value formats, templating, query strings for GET, the response
saved to vars, and the retry policy of the one outbound client (500/429/timeouts retried later with the same
Idempotency-Key, 400 failed at once with the status and a body excerpt)."""

import datetime as dt
import json
import time

import pytest
from werkzeug import Response

from conversations import clock
from tests.support.runs import definition_errors, drain, dry_run_context, only_run, resume_after
from workflows.steps import step_types
from workflows.steps.http_request import to_auto, to_boolean, to_number

pytestmark = pytest.mark.usefixtures("allow_loopback")


def request_step(url, **config):
    return {"type": "http_request", "config": {"url": url, "method": "POST", **config}}


def bodies(httpserver) -> list[dict]:
    return [json.loads(request.data or b"null") for request, _ in httpserver.log]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        ("12.5", 12.5),
        ("-3", -3),
        (7, 7),
        ("0.10", 0.1),
    ],
)
def test_number_format_reads_dot_decimals(text, expected):
    assert to_number(text) == expected


@pytest.mark.parametrize("text", ["12,5", "twelve", "", "nan", "inf"])
def test_number_format_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        to_number(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("on", True),
        (True, True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("maybe", False),
        ("", False),
        (None, False),
    ],
)
def test_boolean_format_defaults_undefined_forms_to_false(text, expected):
    assert to_boolean(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("42", 42),
        ("4.5", 4.5),
        ("0042abc", "0042abc"),
        ("hello", "hello"),
    ],
)
def test_auto_format_guesses(text, expected):
    assert to_auto(text) == expected


def test_values_are_templated_converted_and_nested(conversation, make_workflow, httpserver):
    httpserver.expect_request("/crm", method="POST").respond_with_json({"id": "CRM-7", "score": 3})
    workflow = make_workflow(
        "conversation.created",
        [
            request_step(
                httpserver.url_for("/crm"),
                save_as="crm",
                headers=[{"key": "X-Channel", "value": "{{ conversation.channel }}"}],
                values=[
                    {"key": "customer.name", "value": "{{ contact.name }}", "format": "string"},
                    {"key": "customer.vip", "value": "yes", "format": "boolean"},
                    {"key": "customer.tier", "value": "gold", "format": "boolean"},
                    {"key": "amount", "value": "19.90", "format": "number"},
                    {"key": "count", "value": "3", "format": "auto"},
                    {"key": "code", "value": "{{ conversation.id }}", "format": "string"},
                ],
            ),
            {"type": "add_tag", "config": {"tags": ["crm-{{ vars.crm.id }}"]}},
        ],
    )
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [(request, _)] = httpserver.log
    assert request.headers["X-Channel"] == conversation.channel
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.data) == {
        "customer": {"name": "Ada Lovelace", "vip": True, "tier": False},
        "amount": 19.9,
        "count": 3,
        "code": str(conversation.pk),
    }
    assert run.variables["crm"] == {"id": "CRM-7", "score": 3}
    assert conversation.tags.filter(name="crm-CRM-7").exists()


def test_get_sends_values_as_query_parameters(conversation, make_workflow, httpserver):
    httpserver.expect_request(
        "/lookup", method="GET", query_string={"email": "ada@example.com", "limit": "5"}
    ).respond_with_json({"found": True})
    workflow = make_workflow(
        "conversation.created",
        [
            request_step(
                httpserver.url_for("/lookup"),
                method="GET",
                save_as="lookup",
                values=[
                    {"key": "email", "value": "{{ contact.email }}"},
                    {"key": "limit", "value": "5", "format": "number"},
                ],
            )
        ],
    )
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    assert run.variables["lookup"] == {"found": True}
    assert httpserver.log[0][0].data == b""


def test_a_bad_number_fails_the_step_without_calling(conversation, make_workflow, httpserver):
    workflow = make_workflow(
        "conversation.created",
        [request_step(httpserver.url_for("/never"), values=[{"key": "amount", "value": "12,50", "format": "number"}])],
    )
    drain()
    run = only_run(workflow)
    assert run.status == "failed"
    assert "12,50" in run.steps.get(position=0).error
    assert httpserver.log == []


@pytest.mark.parametrize(
    "failure",
    [
        Response("upstream down", status=500),
        Response("slow down", status=429, headers={"Retry-After": "1"}),
        Response("bad gateway", status=502),
    ],
)
def test_transient_failure_is_retried_later_with_the_same_idempotency_key(
    conversation, make_workflow, httpserver, failure
):
    httpserver.expect_ordered_request("/hook").respond_with_response(failure)
    httpserver.expect_ordered_request("/hook").respond_with_response(failure)
    httpserver.expect_ordered_request("/hook").respond_with_json({"ok": True})
    workflow = make_workflow("conversation.created", [request_step(httpserver.url_for("/hook"), save_as="hook")])
    before = time.monotonic()
    drain()
    run = only_run(workflow)
    step = run.steps.get(position=0)
    # A retry: the run waits for its resume time and the step is pending again, with the failure recorded.
    assert (run.status, step.status, step.attempts) == ("waiting", "pending", 1)
    assert run.resume_at > clock.now(), "a retry is scheduled, not slept in the worker"
    assert str(failure.status_code) in step.error
    resume_after(60)
    resume_after(180)
    run.refresh_from_db()
    step.refresh_from_db()
    assert (run.status, step.status, step.attempts) == ("succeeded", "succeeded", 3), run.error
    assert run.variables["hook"] == {"ok": True}
    keys = {request.headers["Idempotency-Key"] for request, _ in httpserver.log}
    assert len(httpserver.log) == 3 and len(keys) == 1
    assert time.monotonic() - before < 30  # nothing waited for real backoff


def test_retry_after_is_honoured(conversation, make_workflow, httpserver):
    httpserver.expect_request("/hook").respond_with_data("later", status=429, headers={"Retry-After": "120"})
    workflow = make_workflow("conversation.created", [request_step(httpserver.url_for("/hook"))])
    drain()
    run = only_run(workflow)
    assert run.resume_at >= clock.now() + dt.timedelta(seconds=115)
    resume_after(60)  # not due yet: nothing is sent again
    assert len(httpserver.log) == 1


def test_client_error_fails_at_once_with_status_and_body(conversation, make_workflow, httpserver):
    httpserver.expect_request("/hook").respond_with_json({"error": "email is required"}, status=400)
    workflow = make_workflow("conversation.created", [request_step(httpserver.url_for("/hook"))])
    drain()
    run = only_run(workflow)
    step = run.steps.get(position=0)
    assert (run.status, step.status, step.attempts) == ("failed", "failed", 1)
    assert "HTTP 400" in step.error and "email is required" in step.error
    assert step.output["status_code"] == 400
    resume_after(3600)
    assert len(httpserver.log) == 1


def test_attempts_run_out_and_the_step_fails_with_the_last_response(conversation, make_workflow, httpserver, settings):
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 3
    httpserver.expect_request("/hook").respond_with_data("still down", status=503)
    workflow = make_workflow("conversation.created", [request_step(httpserver.url_for("/hook"))])
    drain()
    for hours in range(1, 6):
        resume_after(3600 * hours)
    run = only_run(workflow)
    step = run.steps.get(position=0)
    assert (run.status, step.attempts) == ("failed", 3)
    assert "HTTP 503" in step.error and "still down" in step.error
    assert len(httpserver.log) == 3


def test_a_blocked_destination_fails_without_a_request(conversation, make_workflow, httpserver, settings):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    workflow = make_workflow("conversation.created", [request_step(httpserver.url_for("/hook"))])
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "Blocked destination" in run.steps.get(position=0).error
    assert httpserver.log == []


def test_dry_run_describes_the_request_without_sending(conversation, httpserver):
    step = step_types.get("http_request")
    described = step.describe(
        {
            "url": httpserver.url_for("/crm"),
            "method": "PUT",
            "values": [{"key": "name", "value": "{{ contact.name }}"}],
        },
        dry_run_context(conversation),
    )
    assert described["request"]["method"] == "PUT"
    assert described["request"]["json"] == {"name": "Ada Lovelace"}
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"method": "POST"}, "steps[0].config.url"),
        ({"url": "ftp://x.example/"}, "steps[0].config.url"),
        ({"url": "https://x.example/", "method": "BREW"}, "steps[0].config.method"),
        ({"url": "https://x.example/", "save_as": "1bad"}, "steps[0].config.save_as"),
        (
            {"url": "https://x.example/", "values": [{"key": "a", "value": "1", "format": "hex"}]},
            "steps[0].config.values[0].format",
        ),
        ({"url": "https://x.example/", "timeout_seconds": 500}, "steps[0].config.timeout_seconds"),
    ],
)
def test_bad_configs_are_named_by_key(config, key):
    errors = definition_errors({"type": "http_request", "config": config})
    assert key in errors, errors


def test_dry_run_masks_secrets(conversation, httpserver):
    from workflows.integrations import services as integrations

    integrations.integration_save(name="CRM", base_url=httpserver.url_for("/"), secrets={"CRM_KEY": "s3cr3t-value-42"})
    described = step_types.get("http_request").describe(
        {"integration": "CRM", "path": "people", "headers": [{"key": "X-Key", "value": "{{ secrets.CRM_KEY }}"}]},
        dry_run_context(conversation),
    )
    assert described["request"]["headers"]["X-Key"] == "****"
    assert "s3cr3t-value-42" not in json.dumps(described)
