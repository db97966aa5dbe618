"""Delivery health in a real browser: a manager sees the banner on an admin page while an endpoint is disabled,
follows it to the re-enable page, asks for redelivery, and finds the endpoint healthy in admin › Endpoints once the
failed delivery was re-sent. Screenshots at 1440x900 go to tests/browser/artifacts/ (and SHOTS_DIR when set)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conversations import clock
from tests.support.browser import log_in
from tests.support.outbound import LATER, disable
from tests.support.people import make_user
from workflows.engine.sweep import resume_due_runs
from workflows.models import Endpoint, WorkflowRun


def screenshot(page, shot, name: str) -> None:
    shot(page, name)
    if os.environ.get("SHOTS_DIR"):
        page.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / f"{name}.png"))


@pytest.mark.django_db(transaction=True)
def test_manager_re_enables_a_disabled_endpoint_from_the_banner(
    live_server, chromium, shot, roles, settings, httpserver, contact, make_workflow
):
    settings.HELPDESK_OUTBOUND_ALLOWLIST = ["127.0.0.1", "localhost"]
    settings.HELPDESK_ENDPOINT_DISABLE_AFTER_FAILURES, settings.HELPDESK_ENDPOINT_DISABLE_AFTER_HOURS = 3, 1
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 1
    httpserver.expect_request("/hook").respond_with_data("down for maintenance", status=503)
    make_user("manager", "Support managers")
    since = clock.now()
    workflow = disable(contact, make_workflow, httpserver)
    page = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    log_in(page, live_server.url, "manager")
    page.goto(f"{live_server.url}/admin/workflows/workflow/")
    banner = page.locator("#delivery-alerts")
    assert "is disabled since" in banner.inner_text()
    screenshot(page, shot, "health-banner")
    page.goto(f"{live_server.url}/admin/workflows/endpoint/")
    assert page.locator(".endpoint-state").inner_text() == "disabled"
    screenshot(page, shot, "health-endpoints-disabled")
    page.click("#delivery-alerts a")
    page.wait_for_url(re.compile(r"/endpoint/\d+/enable/$"))
    assert page.inner_text("#endpoint-state") == "disabled"
    page.fill("#id_redeliver_failed_since", since.strftime("%Y-%m-%dT%H:%M"))
    screenshot(page, shot, "health-enable")
    httpserver.clear_all_handlers()
    httpserver.expect_request("/hook").respond_with_data("ok")
    page.click("#enable-form input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/workflows/endpoint/$"))
    assert "4 failed run(s) queued for redelivery" in page.inner_text(".messagelist")
    with clock.travel(LATER):
        resume_due_runs(clock.now())
    page.reload()
    assert page.locator(".endpoint-state").inner_text() == "healthy"
    assert page.locator("#delivery-alerts").count() == 0
    screenshot(page, shot, "health-endpoints")
    assert Endpoint.objects.get().attempts == 8
    assert set(WorkflowRun.objects.filter(workflow=workflow).values_list("status", flat=True)) == {"succeeded"}
