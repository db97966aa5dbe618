"""Fixtures of the outbound tests: delivery-health thresholds low enough to disable an endpoint in a test, and a
receiver on 127.0.0.1 that is down."""

import pytest
from werkzeug import Response


@pytest.fixture
def thresholds(settings):
    settings.HELPDESK_ENDPOINT_DISABLE_AFTER_FAILURES = 3
    settings.HELPDESK_ENDPOINT_DISABLE_AFTER_HOURS = 1
    settings.HELPDESK_RETRY_MAX_ATTEMPTS = 1  # each failed delivery fails its run at once
    settings.HELPDESK_WORKFLOW_ALERT_AFTER_FAILED_RUNS = 50
    return settings


@pytest.fixture
def down_receiver(httpserver):
    httpserver.expect_request("/hook").respond_with_response(Response("down for maintenance", status=503))
    return httpserver
