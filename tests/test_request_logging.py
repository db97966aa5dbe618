"""A refused request is logged as one line (status and path), not a traceback; a server error keeps its traceback
(helpdesk.logs, issue 14)."""

import logging
import sys

import pytest

from helpdesk.logs import OneLineClientErrors


def request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "django.request"]


@pytest.mark.parametrize("path", ["/admin/workflows/workflow/", "/admin/sla/slapolicy/"])
def test_admin_403_logs_one_line_without_a_traceback(agent_browser, caplog, path):
    caplog.set_level(logging.INFO)
    assert agent_browser.get(path).status_code == 403
    [record] = request_lines(caplog)
    assert (record.levelname, record.getMessage()) == ("WARNING", f"Forbidden (Permission denied): {path}")
    assert record.exc_info is None
    assert "Traceback" not in caplog.text and len(caplog.text.strip().splitlines()) == 1


def test_api_403_logs_one_line_without_a_traceback(agent_client, caplog):
    caplog.set_level(logging.INFO)
    assert agent_client.get("/api/workflows/").status_code == 403
    [record] = request_lines(caplog)
    assert (record.levelname, record.getMessage()) == ("WARNING", "Forbidden: /api/workflows/")
    assert "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.getLogger("django.request").makeRecord(
            "django.request",
            logging.ERROR,
            __file__,
            1,
            "Internal Server Error: /x",
            (),
            sys.exc_info(),
            extra={"status_code": 500},
        )
    assert OneLineClientErrors().filter(record) and record.exc_info is not None
