"""The product settings of the helpdesk apps, one `HELPDESK_*` namespace with a default for each.

A host project sets none of them to get a working helpdesk; it sets `HELPDESK_<NAME>` in its settings to change
one. The apps read them through `helpdesk_setting(name)` at the moment they need them (not at import), so
`override_settings` and pytest-django's `settings` fixture take effect. This module sits in the lowest app, so
every app may import it. The demo project (helpdesk/settings.py) fills them from environment variables.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings

PREFIX = "HELPDESK_"

DEFAULTS: dict[str, Any] = {
    # Erase conversations closed more than this many days ago (GDPR storage limitation); 0 keeps them forever.
    "RETENTION_DAYS": 0,
    # On SQLite, turn on WAL, a 20 s busy timeout and IMMEDIATE transactions where DATABASES OPTIONS set none.
    "SQLITE_TUNING": True,
    # Largest file a message may carry (uploads and inbound mail parts), in bytes (email and API channels).
    "MAX_ATTACHMENT_BYTES": 25 * 1024 * 1024,
    # Absolute base of the links the apps send out (survey links, notification e-mails); no trailing slash.
    "SITE_URL": "http://127.0.0.1:8000",
    # Outbound calls (webhooks, HTTP steps, Slack, speech): hosts allowed past the SSRF guard, and the timeout.
    "OUTBOUND_ALLOWLIST": [],
    "OUTBOUND_TIMEOUT_SECONDS": 15,
    # Fernet keys for integration secrets, newest first; empty derives one key from SECRET_KEY.
    "ENCRYPTION_KEYS": [],
    "SLACK_BASE_URL": "https://slack.com/api/",
    # `send_survey` with `via: sms`: the SMS integration, sender number and provider unless the step names its own.
    "SMS_INTEGRATION": "",
    "SMS_SENDER": "",
    "SMS_PROVIDER": "http",
    # Deepest chain of workflow-caused events that still starts workflows (loop guard).
    "MAX_DEPTH": 3,
    "RETRY_BASE_SECONDS": 10,
    "RETRY_MAX_ATTEMPTS": 5,
    "SWEEP_SECONDS": 15,
    "SLA_SWEEP_SECONDS": 30,
    # How often the workers read each active IMAP inbox (docs/channels.md).
    "IMAP_POLL_SECONDS": 60,
    # How long a worker holds a run (renewed after each step); must outlast the slowest single step.
    "RUN_LEASE_SECONDS": 150,
    "WORKER_NICENESS": 10,
    "WORKER_STALL_SECONDS": 60,
    "WORKER_STOP_SECONDS": 10,
    "HEALTH_MAX_AGE_SECONDS": 120,
    "SWEEP_IN_SUPERVISOR": False,
    # Dotted path of the task committed events are handed to.
    "EVENT_TASK": "workflows.tasks.dispatch_event_task",
    # Dotted path of the task that sends one queued delivery (an answer by mail or to an API inbox's callback).
    "DELIVERY_TASK": "inboxes.tasks.send_delivery_task",
    # How long a sender holds a delivery it is sending; a sender that died is replaced once this passes.
    "DELIVERY_LEASE_SECONDS": 120,
    # The project's manage.py, which the worker commands start `qcluster` with; empty: BASE_DIR/manage.py.
    "MANAGE_PY": "",
    "SPEECH_BACKEND": "pocketsphinx",
    "SPEECH_LANGUAGE": "en-US",
    "SPEECH_CLOUD_URL": "https://speech.googleapis.com",
    "SPEECH_CLOUD_API_KEY": "",
    "SPEECH_TIMEOUT_SECONDS": 120,
    "SPEECH_SEGMENT_SECONDS": 60,
    # The budget of one template render: steps (iterations, calls, filters, operators) and characters.
    "TEMPLATE_MAX_STEPS": 20_000,
    "TEMPLATE_MAX_CHARS": 100_000,
    # ... and of time: a render still running after this many seconds fails its step (checked at every step).
    "TEMPLATE_MAX_SECONDS": 2.0,
    # Delivery health (docs/managers.md): an endpoint failing this long and this often is disabled; a workflow whose
    # last this many runs failed raises an alert.
    "ENDPOINT_DISABLE_AFTER_HOURS": 120,
    "ENDPOINT_DISABLE_AFTER_FAILURES": 50,
    "WORKFLOW_ALERT_AFTER_FAILED_RUNS": 10,
    # Replay (docs/managers.md): events per chunk task, a few seconds of work each.
    "REPLAY_CHUNK_EVENTS": 500,
    # Replays running at once: per workflow and in all (a start past either is a 429 "try again when one is done").
    "REPLAY_MAX_PER_WORKFLOW": 1,
    "REPLAY_MAX_RUNNING": 3,
    # API rate limits ("<count>/<sec|min|hour|day>", "" = off): signed-in callers per user (and so per token), and
    # the public survey answer per client address.
    "THROTTLE_USER": "3000/min",
    "THROTTLE_ANON": "60/min",
}


def helpdesk_setting(name: str) -> Any:
    """`settings.HELPDESK_<name>` when the project sets it, else the default above (an unknown name is a KeyError,
    so a misspelt read fails at once instead of quietly getting None)."""
    default = DEFAULTS[name]
    return getattr(settings, PREFIX + name, default)


def manage_py() -> Path:
    """The project's manage.py: HELPDESK_MANAGE_PY, else the one in BASE_DIR (Django's project template sets it),
    else the script this process was started with."""
    configured = helpdesk_setting("MANAGE_PY")
    if configured:
        return Path(configured)
    base_dir = getattr(settings, "BASE_DIR", None)
    return Path(base_dir) / "manage.py" if base_dir else Path(sys.argv[0]).resolve()
