"""Alert e-mails link to the admin through HELPDESK_SITE_URL (issue 25, item 13): `delivery.py` read
`settings.SITE_URL`, which only the demo project defines, so a host project that followed the install steps got an
AttributeError the first time a failing-workflow alert fired."""

import pytest
from django.core import mail

from conversations import services
from tests.support.runs import drain

pytestmark = pytest.mark.usefixtures("allow_loopback")


def failing_workflow(settings, make_workflow, httpserver):
    settings.HELPDESK_WORKFLOW_ALERT_AFTER_FAILED_RUNS = 2
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 1
    httpserver.expect_request("/hook").respond_with_data("no such hook", status=404)
    return make_workflow(
        "conversation.created",
        [{"type": "webhook", "config": {"url": httpserver.url_for("/hook")}}],
        name="Broken sync",
    )


def fail_twice(contact):
    for index in range(2):
        services.conversation_open(contact=contact, channel="email", subject=f"Case {index}")
    drain()


def test_the_alert_links_to_the_default_site_url_when_the_host_sets_none(
    settings, contact, manager, make_workflow, httpserver
):
    del settings.SITE_URL
    del settings.HELPDESK_SITE_URL
    workflow = failing_workflow(settings, make_workflow, httpserver)
    fail_twice(contact)
    [alert] = mail.outbox
    assert f"Runs: http://127.0.0.1:8000/admin/workflows/workflowrun/?workflow__id__exact={workflow.pk}" in alert.body


def test_the_alert_links_to_helpdesk_site_url(settings, contact, manager, make_workflow, httpserver):
    settings.HELPDESK_SITE_URL = "https://help.example.com/"
    workflow = failing_workflow(settings, make_workflow, httpserver)
    fail_twice(contact)
    [alert] = mail.outbox
    assert (
        f"Runs: https://help.example.com/admin/workflows/workflowrun/?workflow__id__exact={workflow.pk}" in alert.body
    )
