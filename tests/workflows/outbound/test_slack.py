"""`slack` against a local fake Slack Web API: the chat.postMessage request exactly as Slack reads it (path, bearer
token, JSON fields), Slack's `ok: false` errors failing the step, `ratelimited` and 5xx retried later with the same
Idempotency-Key, and the SSRF guard applied to slack-sdk's requests and redirects."""

import datetime as dt
import json

import pytest
from werkzeug import Response

from conversations import clock
from tests.support.runs import definition_errors, drain, dry_run_context, only_run, resume_after
from workflows.integrations import services as integrations
from workflows.steps import step_types

pytestmark = pytest.mark.usefixtures("allow_loopback")

TOKEN = "xoxb-1234-5678-secret"
POSTED = {"ok": True, "channel": "C024BE91L", "ts": "1503435956.000247", "message": {"text": "hi"}}


@pytest.fixture
def slack(httpserver, settings):
    """A Slack integration whose base URL is the local fake Slack (as HELPDESK_SLACK_BASE_URL points there too)."""
    settings.HELPDESK_SLACK_BASE_URL = httpserver.url_for("/api/")
    return integrations.integration_save(name="Slack", auth={"type": "bearer", "token": TOKEN})


@pytest.fixture
def loopback_only(monkeypatch):
    """Sockets may connect to loopback (the fake Slack) and nowhere else: a guard that failed cannot leak traffic."""
    import ipaddress
    import socket

    connect = socket.socket.connect

    def guarded(sock, address):
        if not ipaddress.ip_address(address[0]).is_loopback:
            raise AssertionError(f"a socket tried to reach {address[0]}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def slack_step(**config):
    return [
        {
            "type": "slack",
            "config": {
                "integration": "Slack",
                "channel": "#support",
                "text": "New conversation: {{ conversation.subject }}",
                **config,
            },
        }
    ]


def test_posts_chat_post_message_exactly_as_slack_expects(conversation, make_workflow, httpserver, slack):
    httpserver.expect_request("/api/chat.postMessage", method="POST").respond_with_json(POSTED)
    workflow = make_workflow("conversation.created", slack_step(icon_emoji=":robot_face:", use_markdown=False))
    drain()
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json;charset=utf-8"
    assert request.headers["Idempotency-Key"]
    assert json.loads(request.get_data()) == {
        "channel": "#support",
        "text": "New conversation: Printer on fire",
        "icon_emoji": ":robot_face:",
        "mrkdwn": False,
    }
    assert run.steps.get().output == {"status_code": 200, "ok": True, "channel": "C024BE91L", "ts": "1503435956.000247"}


def test_icon_url_and_markdown_default(conversation, make_workflow, httpserver, slack):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json(POSTED)
    make_workflow("conversation.created", slack_step(icon_url="https://example.com/bot.png"))
    drain()
    [(request, _)] = httpserver.log
    body = json.loads(request.get_data())
    assert (body["icon_url"], body["mrkdwn"]) == ("https://example.com/bot.png", True) and "icon_emoji" not in body


def test_the_integration_base_url_wins_over_the_setting(conversation, make_workflow, httpserver, settings):
    settings.HELPDESK_SLACK_BASE_URL = "https://slack.invalid/api/"
    integrations.integration_save(
        name="Slack", base_url=httpserver.url_for("/enterprise/api"), auth={"type": "bearer", "token": TOKEN}
    )
    httpserver.expect_request("/enterprise/api/chat.postMessage").respond_with_json(POSTED)
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    assert only_run(workflow).status == "succeeded", only_run(workflow).error
    assert len(httpserver.log) == 1


def test_a_slack_error_fails_the_step_with_slack_s_error(conversation, make_workflow, httpserver, slack):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": False, "error": "channel_not_found"})
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "channel_not_found" in run.error
    assert len(httpserver.log) == 1  # a permanent error is not retried


def test_ratelimited_is_retried_after_retry_after_with_the_same_key(conversation, make_workflow, httpserver, slack):
    limited = Response(
        json.dumps({"ok": False, "error": "ratelimited"}),
        status=429,
        headers={"Retry-After": "30", "Content-Type": "application/json"},
    )
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_response(limited)
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_json(POSTED)
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    run = only_run(workflow)
    assert run.status == "waiting" and "ratelimited" in run.steps.get().error
    assert run.resume_at >= clock.now() + dt.timedelta(seconds=29)
    resume_after(10)  # not due yet
    assert len(httpserver.log) == 1
    resume_after(60)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    (first, _), (second, _) = httpserver.log
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]


def test_a_server_error_is_retried_and_a_non_json_body_reads_clearly(conversation, make_workflow, httpserver, slack):
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_data("<html>oops</html>", status=503)
    httpserver.expect_ordered_request("/api/chat.postMessage").respond_with_json(POSTED)
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    assert "HTTP 503" in only_run(workflow).steps.get().error
    resume_after(120)
    assert only_run(workflow).status == "succeeded"


def test_the_ssrf_guard_applies_to_slack(conversation, make_workflow, settings, no_sockets):
    settings.HELPDESK_SLACK_BASE_URL = "http://169.254.169.254/api/"
    integrations.integration_save(name="Slack", auth={"type": "bearer", "token": TOKEN})
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "Blocked destination" in run.error


def test_a_redirect_into_a_private_address_is_refused(conversation, make_workflow, httpserver, slack, loopback_only):
    httpserver.expect_request("/api/chat.postMessage").respond_with_response(
        Response("", status=302, headers={"Location": "http://10.0.0.7/api/chat.postMessage"})
    )
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "Blocked destination" in run.error and "10.0.0.7" in run.error


def test_an_integration_without_bearer_auth_fails_clearly(conversation, make_workflow, httpserver, settings):
    settings.HELPDESK_SLACK_BASE_URL = httpserver.url_for("/api/")
    integrations.integration_save(name="Slack", auth={"type": "basic", "username": "u", "password": "p4ss"})
    workflow = make_workflow("conversation.created", slack_step())
    drain()
    assert "needs bearer auth" in only_run(workflow).error
    assert httpserver.log == []


def test_the_token_never_reaches_the_run_log(conversation, make_workflow, httpserver, slack):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json(
        {"ok": False, "error": "invalid_auth", "echo": TOKEN}
    )
    workflow = make_workflow("conversation.created", slack_step(text="token {{ secrets.missing }}"))
    drain()
    run = only_run(workflow)
    step = run.steps.get()
    assert TOKEN not in json.dumps([step.input, step.output, step.error, run.error])
    assert "invalid_auth" in run.error


def test_dry_run_describes_the_post_without_sending(conversation, httpserver, slack, no_sockets):
    description = step_types.get("slack").describe(slack_step()[0]["config"], dry_run_context(conversation))
    assert description["request"]["url"] == httpserver.url_for("/api/chat.postMessage")
    assert description["request"]["json"]["text"] == "New conversation: Printer on fire"
    assert TOKEN not in json.dumps(description)


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"channel": "#a", "text": "x"}, "steps[0].config.integration"),
        ({"integration": "Slack", "text": "x"}, "steps[0].config.channel"),
        ({"integration": "Slack", "channel": "#a"}, "steps[0].config.text"),
        ({"integration": "Slack", "channel": "#a", "text": "x", "icon_emoji": "robot"}, "steps[0].config.icon_emoji"),
        (
            {"integration": "Slack", "channel": "#a", "text": "x", "icon_url": "ftp://x/y.png"},
            "steps[0].config.icon_url",
        ),
        ({"integration": "Slack", "channel": "#a", "text": "x", "use_markdown": "yes"}, "steps[0].config.use_markdown"),
        ({"integration": "Slack", "channel": "#a", "text": "{{ broken"}, "steps[0].config.text"),
        ({"integration": "Slack", "channel": "#a", "text": "x", "mrkdwn": True}, "steps[0].config"),
    ],
)
def test_bad_configs_are_named_by_key(config, key):
    assert key in definition_errors({"type": "slack", "config": config})
