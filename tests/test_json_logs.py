"""Structured logs as an option: with HELPDESK_LOG_JSON=1 the demo project writes one JSON object per line."""

from __future__ import annotations

import json
import logging
import logging.config

from helpdesk.logs import logging_config


def formatted(config: dict) -> str:
    """One record as the console handler of `config` formats it (built from the config, no global logging change)."""
    spec = config["handlers"]["console"].get("formatter")
    formatter = (
        logging.config.DictConfigurator(config).configure_formatter(dict(config["formatters"][spec]))
        if spec
        else logging.Formatter()
    )
    record = logging.LogRecord("helpdesk.test", logging.WARNING, __file__, 1, "Delivery %s failed", (7,), None)
    return formatter.format(record)


def test_json_lines_carry_time_level_logger_and_message():
    line = json.loads(formatted(logging_config(json_lines=True, level="INFO", q_level="WARNING")))
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "helpdesk.test", "Delivery 7 failed")
    assert line["time"]


def test_plain_lines_by_default():
    assert formatted(logging_config(json_lines=False, level="INFO", q_level="WARNING")) == "Delivery 7 failed"
