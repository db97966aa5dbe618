"""Delivery health of outbound endpoints (docs/managers.md): every attempt an outbound step makes is counted on its
endpoint's row (a webhook URL, an integration, a Slack workspace, an SMS provider) with one UPDATE; an endpoint that
kept failing long enough is disabled, so its steps fail fast instead of retrying, and managers are told once (email
and an admin banner). Re-enabling may re-queue the runs whose delivery failed since a time through `run_retry`, so a
redelivery is durable work for the workers (same run and step, so the same `webhook-id`), not a loop in a request.
A workflow whose last runs all failed raises the same kind of alert.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from conversations import clock
from conversations.conf import helpdesk_setting
from conversations.roles import MANAGERS_GROUP, is_manager
from workflows.choices import RunStatus, StepStatus
from workflows.integrations import secrets as secret_store
from workflows.models import Endpoint, EndpointKind, StepRun, WorkflowAlert, WorkflowRun
from workflows.outbound.client import OutboundError
from workflows.outbound.ssrf import BlockedDestination
from workflows.steps import notifications

logger = logging.getLogger(__name__)

ERROR_LENGTH = 1000
BANNER_LIMIT = 5


@dataclass(frozen=True)
class Destination:
    """Where an attempt goes: `target` identifies it (hashed into the row's key, never shown), `url` is shown."""

    kind: str
    target: str
    url: str
    integration_id: int | None = None

    @property
    def key(self) -> str:
        return hashlib.sha256(f"{self.kind}|{self.target}".encode()).hexdigest()


def public_url(url: str, *, keep_path: bool = True) -> str:
    """The URL as shown: scheme, host, port and (optionally) path; never userinfo, query string or fragment."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path if keep_path else "", "", ""))


def destination(kind: str, url: str, integration: Any = None) -> Destination:
    """The endpoint of a request: per integration when it goes through one (its base URL is shown), else per URL
    (webhooks keep the path; other requests are grouped by host)."""
    if integration is not None:
        shown = public_url(integration.base_url) if integration.base_url else public_url(url, keep_path=False)
        return Destination(kind, f"integration:{integration.pk}", shown, integration.pk)
    shown = public_url(url, keep_path=kind == EndpointKind.WEBHOOK)
    return Destination(kind, shown, shown)


class EndpointDisabled(Exception):
    """The endpoint is disabled: the step fails at once with this message instead of contacting it."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint_id = endpoint.pk
        super().__init__(
            f"endpoint {endpoint.url} disabled since {endpoint.disabled_at:%Y-%m-%d %H:%M:%S %Z} after "
            f"{endpoint.consecutive_failures} failures; re-enable it in admin › Endpoints"
        )


def _masked(text: str, hidden: Iterable[str] = ()) -> str:
    secrets = secret_store.secret_values() | {value for value in hidden if value}
    return secret_store.mask(text, secrets)[:ERROR_LENGTH]


def endpoint_for_attempt(dest: Destination) -> Endpoint:
    """The destination's row, created on its first attempt; EndpointDisabled when it is disabled."""
    endpoint, _ = Endpoint.objects.get_or_create(
        key=dest.key,
        defaults={"kind": dest.kind, "integration_id": dest.integration_id, "url": lambda: _masked(dest.url)[:500]},
    )
    if endpoint.disabled_at is not None:
        if endpoint.alerted_at is None:  # the disabling attempt's worker did not foresee it (a concurrent failure)
            alert_endpoint_disabled(endpoint.pk)
        raise EndpointDisabled(endpoint)
    return endpoint


@contextlib.contextmanager
def attempt(dest: Destination, *, hidden: Iterable[str] = ()) -> Iterator[Endpoint]:
    """Around one outbound attempt: fail fast when the endpoint is disabled, then record how the attempt went (an
    OutboundError or a blocked destination is a failure; the exception goes on to the step)."""
    endpoint = endpoint_for_attempt(dest)
    try:
        yield endpoint
    except (OutboundError, BlockedDestination) as exc:
        record_failure(endpoint, _masked(str(exc), hidden))
        raise
    record_success(endpoint)


def record_success(endpoint: Endpoint) -> None:
    """One UPDATE: count the attempt and end any failing streak."""
    Endpoint.objects.filter(pk=endpoint.pk).update(
        attempts=F("attempts") + 1, consecutive_failures=0, failing_since=None, last_success_at=clock.now()
    )


def _streak_long_enough(now: dt.datetime) -> Q:
    """Rows whose failing streak (as stored before this attempt) has lasted the disabling period by `now`."""
    since = now - dt.timedelta(hours=helpdesk_setting("ENDPOINT_DISABLE_AFTER_HOURS"))
    condition = Q(failing_since__lte=since)
    return condition | Q(failing_since__isnull=True) if since >= now else condition


def record_failure(endpoint: Endpoint, error: str) -> None:
    """One UPDATE: count the failure, extend the streak and disable the endpoint when the streak is long and old
    enough (decided by the database on the row's current values, so concurrent workers agree). The alert is sent by
    the attempt that could have been the disabling one."""
    now = clock.now()
    threshold = helpdesk_setting("ENDPOINT_DISABLE_AFTER_FAILURES")
    disabling = Q(disabled_at__isnull=True, consecutive_failures__gte=threshold - 1) & _streak_long_enough(now)
    Endpoint.objects.filter(pk=endpoint.pk).update(
        attempts=F("attempts") + 1,
        failures=F("failures") + 1,
        consecutive_failures=F("consecutive_failures") + 1,
        failing_since=Coalesce(F("failing_since"), Value(now)),
        last_failure_at=now,
        last_error=error,
        disabled_at=Case(When(disabling, then=Value(now)), default=F("disabled_at")),
    )
    started = endpoint.failing_since or now
    long_enough = started <= now - dt.timedelta(hours=helpdesk_setting("ENDPOINT_DISABLE_AFTER_HOURS"))
    if endpoint.consecutive_failures + 1 >= threshold and long_enough:
        alert_endpoint_disabled(endpoint.pk)


def site_link(view_name: str) -> str:
    """An absolute link for an e-mail: HELPDESK_SITE_URL (which has a default, so a host project that sets nothing
    still gets a link) and the admin page where the host project mounted it."""
    return helpdesk_setting("SITE_URL").rstrip("/") + reverse(view_name)


def alert_endpoint_disabled(endpoint_id: int) -> bool:
    """Tell managers that the endpoint is disabled, once per disabling (a conditional UPDATE claims the alert)."""
    claimed = Endpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=False, alerted_at__isnull=True).update(
        alerted_at=clock.now()
    )
    if not claimed:
        return False
    endpoint = Endpoint.objects.get(pk=endpoint_id)
    notify_managers(
        subject=f"Delivery disabled: {endpoint.url}",
        body=(
            f"The {endpoint.get_kind_display()} {endpoint.url} failed {endpoint.consecutive_failures} times in a row "
            f"since {endpoint.failing_since:%Y-%m-%d %H:%M %Z} and is disabled: steps sending to it now fail at once.\n"
            f"Last error: {endpoint.last_error}\n\n"
            f"Re-enable it (optionally redelivering what failed) in admin › Endpoints: "
            f"{site_link('admin:workflows_endpoint_changelist')}\n"
        ),
    )
    return True


def manager_emails() -> list[str]:
    """Addresses of active support managers and superusers."""
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=MANAGERS_GROUP), is_active=True)
    return notifications.unique_addresses(users.exclude(email="").values_list("email", flat=True))


def notify_managers(*, subject: str, body: str) -> None:
    """Email the managers; a mail failure is logged, never the failure of the step that noticed the problem."""
    to = manager_emails()
    if not to:
        return
    try:
        notifications.send(to=to, subject=subject, body=body)
    except ValidationError:
        logger.exception("Could not email the delivery alert %r", subject)


def failed_runs_since(endpoint: Endpoint, since: dt.datetime) -> list[int]:
    """Failed runs whose step failed at this endpoint (sending or failing fast) at or after `since`."""
    steps = StepRun.objects.filter(
        status=StepStatus.FAILED, finished_at__gte=since, output__endpoint=endpoint.pk, run__status=RunStatus.FAILED
    )
    return sorted(set(steps.values_list("run_id", flat=True)))


def run_failed(run: WorkflowRun) -> None:
    """After a run failed: when the workflow's last N finished runs all failed, alert managers once per streak."""
    count = helpdesk_setting("WORKFLOW_ALERT_AFTER_FAILED_RUNS")
    finished = WorkflowRun.objects.filter(workflow_id=run.workflow_id).order_by("-created_at", "-id")
    recent = list(
        finished.filter(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]).values_list("status", flat=True)[:count]
    )
    if count <= 0 or len(recent) < count or any(status != RunStatus.FAILED for status in recent):
        return
    after = finished.filter(status=RunStatus.SUCCEEDED).values_list("pk", flat=True).first() or 0
    if WorkflowAlert.objects.filter(workflow_id=run.workflow_id, after_run_id=after).exists():
        return
    _, created = WorkflowAlert.objects.get_or_create(
        workflow_id=run.workflow_id,
        after_run_id=after,
        defaults={"failed_runs": count, "last_error": run.error[:ERROR_LENGTH], "raised_at": clock.now()},
    )
    if created:
        notify_managers(
            subject=f"Workflow failing: {run.workflow.name}",
            body=(
                f'The last {count} runs of the workflow "{run.workflow.name}" failed.\nLast error: {run.error}\n\n'
                f"Runs: {site_link('admin:workflows_workflowrun_changelist')}?workflow__id__exact={run.workflow_id}\n"
            ),
        )


def open_alerts() -> dict[str, list]:
    """What the admin banner shows: disabled endpoints, and workflow alerts no later run has succeeded since."""
    later_success = WorkflowRun.objects.filter(
        workflow=OuterRef("workflow"), status=RunStatus.SUCCEEDED, finished_at__gt=OuterRef("raised_at")
    )
    return {
        "endpoints": list(Endpoint.objects.filter(disabled_at__isnull=False).order_by("disabled_at")[:BANNER_LIMIT]),
        "workflows": list(
            WorkflowAlert.objects.filter(~Exists(later_success)).select_related("workflow")[:BANNER_LIMIT]
        ),
    }


def admin_banner(request) -> dict[str, Any]:
    """Context processor: the open delivery alerts, on admin pages for managers (who can act on them)."""
    if not request.path.startswith("/admin/") or not is_manager(getattr(request, "user", None)):
        return {}
    alerts = open_alerts()
    return {"delivery_alerts": alerts} if alerts["endpoints"] or alerts["workflows"] else {}
