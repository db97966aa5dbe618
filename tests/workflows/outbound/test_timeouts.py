"""Every outbound step retries a call that timed out, later and under the same key, and succeeds when the remote
side answers in time: one test for `http_request`, `webhook` and `slack` (the one outbound client and its retry
policy). The remote side holds its first answer until the caller has given up, then lets it go; nothing sleeps."""

import base64
import json

import pytest
from werkzeug import Response

from tests.support.remote import HeldFirstAnswer
from tests.support.runs import drain, only_run, resume_after
from workflows.integrations import services as integrations

pytestmark = pytest.mark.usefixtures("allow_loopback")

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
SLACK_POSTED = {"ok": True, "channel": "C024BE91L", "ts": "1503435956.000247", "message": {"text": "hi"}}


def http_request(url: str) -> dict:
    return {"type": "http_request", "config": {"url": url, "method": "POST", "timeout_seconds": 0.5}}


def webhook(url: str) -> dict:
    return {"type": "webhook", "config": {"url": url, "secret": SECRET}}


def slack(url: str) -> dict:
    return {"type": "slack", "config": {"integration": "Slack", "channel": "#support", "text": "New conversation"}}


STEPS = {
    # step: (path, step definition, what the step's error says, the header naming the call, the answer's JSON)
    "http_request": ("/slow", http_request, "Timed out", "Idempotency-Key", {"ok": 1}),
    "webhook": ("/hook", webhook, "Timed out", "webhook-id", {}),
    "slack": ("/api/chat.postMessage", slack, "Slack unreachable", "Idempotency-Key", SLACK_POSTED),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_timed_out_call_is_retried_under_the_same_key(step, conversation, make_workflow, httpserver, settings):
    path, definition, error, key_header, answer = STEPS[step]
    settings.HELPDESK_OUTBOUND_TIMEOUT_SECONDS = 0.5
    if step == "slack":
        settings.HELPDESK_SLACK_BASE_URL = httpserver.url_for("/api/")
        integrations.integration_save(name="Slack", auth={"type": "bearer", "token": "xoxb-1234-5678-secret"})
    remote = HeldFirstAnswer(
        lambda: Response(json.dumps(answer), content_type="application/json"),
        key=lambda request: request.headers.get(key_header, ""),
    )
    httpserver.expect_request(path, method="POST").respond_with_handler(remote)
    workflow = make_workflow("conversation.created", [definition(httpserver.url_for(path))])
    drain()
    step_run = only_run(workflow).steps.get()
    assert step_run.status == "pending" and error in step_run.error, step_run.error
    remote.let_go()
    assert resume_after(120) == 1
    run = only_run(workflow)
    assert run.status == "succeeded", run.error
    assert run.steps.get().attempts == 2
    assert len(remote.calls) == 2 and len(set(remote.calls)) == 1 and remote.calls[0]
