"""The outbound guard's scope and a name that does not resolve (issue 25, items 6 and 9).

- The SSRF guard applies to the outbound client's own sessions, not to the process: urllib3 is not patched, and a
  plain `requests.get` by host code is not checked even while one of our sends is under way in the same context.
- The `slack` step sends through the one guarded client: a private address is refused before anything is sent.
- A host name that does not resolve (a DNS outage) is a transient failure, retried later and reported as "Could not
  resolve host …", never as "Blocked by the outbound rules". The resolver is ours: `socket.getaddrinfo` is replaced
  for made-up names only (no real DNS query is ever made).
"""

import socket

import pytest
import requests
from urllib3.util import connection as urllib3_connection

from tests.support.runs import drain, only_run
from workflows.integrations import services as integrations
from workflows.integrations.probe import integration_test_connection
from workflows.models import StepRun
from workflows.outbound.client import OutboundError, OutboundRequest, send
from workflows.outbound.ssrf import BlockedDestination, guarded_connections

UNRESOLVABLE = "crm.unresolvable.test"
REBOUND = "slack.inward.test"


@pytest.fixture
def fake_dns(monkeypatch):
    """`UNRESOLVABLE` fails to resolve (as during a DNS outage), `REBOUND` resolves to loopback; every other name
    (the 127.0.0.1 of the local servers) resolves as before. Records the names asked."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(str(host))
        if host == UNRESOLVABLE:
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        if host == REBOUND:
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_urllib3_is_not_patched_process_wide():
    assert urllib3_connection.create_connection.__module__ == "urllib3.util.connection"


def test_host_code_requests_are_not_checked_by_our_guard(settings, httpserver):
    """Loopback is not allowlisted: our client refuses it, while the host's own request in the same context (even
    inside `guarded_connections`) reaches it, since the guard belongs to our sessions only."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    httpserver.expect_request("/own").respond_with_json({"host": "code"})
    with guarded_connections():
        assert requests.get(httpserver.url_for("/own"), timeout=5).json() == {"host": "code"}
    with pytest.raises(BlockedDestination):
        send(OutboundRequest(method="GET", url=httpserver.url_for("/own")))
    assert len(httpserver.log) == 1


def test_our_sessions_still_check_at_connect_time(settings, httpserver):
    """DNS rebinding: public when checked, loopback when connecting: refused by our session's adapter."""
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    httpserver.expect_request("/internal").respond_with_data("secret")
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    with pytest.raises(BlockedDestination, match="connect time"):
        send(
            OutboundRequest(method="GET", url=f"http://rebind.example:{httpserver.port}/internal"),
            resolver=lambda host, port: next(answers),
        )
    assert httpserver.log == []


def test_slack_to_a_private_address_is_refused(db, conversation, make_workflow, settings, httpserver):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    settings.HELPDESK_SLACK_BASE_URL = httpserver.url_for("/api/")
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": True})
    integrations.integration_save(name="Slack", auth={"type": "bearer", "token": "xoxb-private-test"})
    workflow = make_workflow(
        "conversation.created", [{"type": "slack", "config": {"integration": "Slack", "channel": "#a", "text": "hi"}}]
    )
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "Blocked destination" in run.error, run.error
    assert httpserver.log == []


def test_slack_to_a_name_resolving_inward_is_refused(db, conversation, make_workflow, settings, httpserver, fake_dns):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = []
    settings.HELPDESK_SLACK_BASE_URL = f"http://{REBOUND}:{httpserver.port}/api/"
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": True})
    integrations.integration_save(name="Slack", auth={"type": "bearer", "token": "xoxb-private-test"})
    workflow = make_workflow(
        "conversation.created", [{"type": "slack", "config": {"integration": "Slack", "channel": "#a", "text": "hi"}}]
    )
    drain()
    run = only_run(workflow)
    assert run.status == "failed" and "127.0.0.1" in run.error, run.error
    assert httpserver.log == []


def test_a_name_that_does_not_resolve_is_a_transient_failure(fake_dns):
    with pytest.raises(OutboundError) as failed:
        send(OutboundRequest(method="GET", url=f"https://{UNRESOLVABLE}/contacts"))
    assert failed.value.transient is True
    assert f"Could not resolve host {UNRESOLVABLE}" in str(failed.value)
    assert UNRESOLVABLE in fake_dns


def test_a_run_meeting_a_dns_outage_is_retried_not_blocked(db, conversation, make_workflow, settings, fake_dns):
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 3
    workflow = make_workflow(
        "conversation.created",
        [{"type": "http_request", "config": {"url": f"https://{UNRESOLVABLE}/contacts", "method": "GET"}}],
    )
    drain()
    run = only_run(workflow)
    step = StepRun.objects.get(run=run)
    assert run.status == "waiting" and run.resume_at is not None, (run.status, run.error)
    assert f"Could not resolve host {UNRESOLVABLE}" in step.error and "retry 1" in step.error
    assert "Blocked" not in step.error


def test_test_connection_says_network_error_not_blocked(db, fake_dns):
    integration = integrations.integration_save(name="CRM", base_url=f"https://{UNRESOLVABLE}/api/")
    result = integration_test_connection(integration=integration)
    assert result.kind == "network_error" and "Could not resolve host" in result.message
    assert "Blocked" not in result.message
