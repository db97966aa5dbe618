"""Tables of the workflow engine: definitions with their versions, runs with their step results, scheduled events.

The database is the source of truth (docs/operations.md): a run's position, variables, resume time and lease are
columns, so any worker can pick a run up after another one died, and the queue only wakes workers.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from conversations import clock
from conversations.models import Conversation, Event
from workflows.choices import OnFalse, ReplayStatus, RunStatus, ScheduledEventStatus, StepStatus, WorkflowStatus


class Workflow(models.Model):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=WorkflowStatus.choices, default=WorkflowStatus.DRAFT)
    trigger_type = models.CharField(max_length=50)
    trigger_config = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    order = models.IntegerField(
        default=0,
        help_text="For one event, workflows of its trigger type are considered lowest order first (then oldest first).",
    )
    stop_processing = models.BooleanField(
        default=False,
        help_text="Once this workflow matches an event, the workflows after it do not start for that event.",
    )
    next_schedule_at = models.DateTimeField(null=True, blank=True, help_text="When a `schedule` trigger checks next.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("workflow")
        verbose_name_plural = _("workflows")
        # The dispatcher looks workflows up by (trigger type, status): it never scans other trigger types.
        indexes = [models.Index(fields=["trigger_type", "status"], name="workflow_trigger_status")]

    def __str__(self) -> str:
        return self.name


class Step(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=50)
    config = models.JSONField(default=dict, blank=True)
    on_false = models.CharField(max_length=10, choices=OnFalse.choices, blank=True)

    class Meta:
        ordering = ["workflow", "position"]
        constraints = [models.UniqueConstraint(fields=["workflow", "position"], name="step_unique_position")]

    def __str__(self) -> str:
        return f"{self.position + 1}. {self.type}"


class WorkflowVersion(models.Model):
    """The full definition as saved at one version; runs execute the version they started with."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    # The product clock, like events' `occurred_at`: explain compares the two to find the version live at an event.
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["workflow", "-version"]
        verbose_name = _("workflow version")
        verbose_name_plural = _("workflow versions")
        constraints = [models.UniqueConstraint(fields=["workflow", "version"], name="workflow_version_unique")]

    def __str__(self) -> str:
        return _("version %(version)s") % {"version": self.version}


class WorkflowRun(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs", verbose_name=_("workflow"))
    version = models.PositiveIntegerField(_("version"))
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="workflow_runs")
    conversation = models.ForeignKey(
        Conversation,
        verbose_name=_("conversation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="workflow_runs",
    )
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    position = models.PositiveIntegerField(default=0, help_text="The next step to execute.")
    variables = models.JSONField(default=dict, blank=True)
    resume_at = models.DateTimeField(_("resume at"), null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A running run whose lease expired is stuck.")
    leased_by = models.CharField(
        max_length=200,
        blank=True,
        default="",
        editable=False,
        help_text="The worker process holding the lease (host, PID, start time).",
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # A manual retry runs on the version the run ran ("original") or on the workflow's current one ("current"); then
    # `version` is the version it runs now and `first_version` the one it started with.
    retried_on = models.CharField(
        max_length=8, blank=True, choices=[("original", "the version it ran"), ("current", "the current version")]
    )
    first_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("workflow run")
        verbose_name_plural = _("workflow runs")
        constraints = [
            # One run per (workflow, event): a redelivered event task creates nothing twice.
            models.UniqueConstraint(fields=["workflow", "event"], name="run_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["workflow", "-created_at"], name="run_workflow_created"),
            models.Index(fields=["conversation", "-created_at"], name="run_conversation_created"),
            models.Index(fields=["status", "-created_at"], name="run_status_created"),
            models.Index(
                fields=["resume_at"],
                name="run_due",
                condition=Q(status__in=[RunStatus.QUEUED, RunStatus.WAITING, RunStatus.RUNNING]),
            ),
        ]

    def __str__(self) -> str:
        # the workflow is shown beside it; no extra query here
        return _("Run #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}


class StepRun(models.Model):
    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="steps")
    # The step's slot in the run's definition laid out flat (`workflows.engine.program`): the top-level position for
    # a linear definition. The API shows `position` (top level) and `path` ("2.1.0") from `path`.
    position = models.PositiveIntegerField()
    path = models.CharField(max_length=60, blank=True, help_text='Where the step is: "2", or "2.1.0" in a branch.')
    type = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=StepStatus.choices, default=StepStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    input = models.JSONField(default=dict, blank=True)
    output = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="step_run_unique_position")]


class RunWait(models.Model):
    """A run waiting at a `wait_for` step for an event on its conversation (docs/managers.md). The row exists only while
    the run waits: whoever deletes it (the dispatcher, for a matching event, or the runner, at the timeout) settles the
    wait, so it resumes exactly once. Events look up only the waits of their own conversation and type (index)."""

    run = models.OneToOneField(WorkflowRun, on_delete=models.CASCADE, related_name="wait")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="run_waits")
    event_type = models.CharField(max_length=50)
    filter = models.JSONField(default=dict, blank=True)
    save_as = models.CharField(max_length=100)
    since = models.DateTimeField(help_text="Only events after this moment count.")
    deadline = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["conversation", "event_type"], name="run_wait_lookup")]

    def __str__(self) -> str:
        return f"Run #{self.run_id} waits for {self.event_type}"


class ScheduledEvent(models.Model):
    """A `schedule_event` step's promise of a later `scheduled_event.fired`, unless cleared first."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="scheduled_events", verbose_name=_("conversation")
    )
    name = models.CharField(_("name"), max_length=100)
    fire_at = models.DateTimeField(_("fires at"))
    status = models.CharField(
        _("status"), max_length=10, choices=ScheduledEventStatus.choices, default=ScheduledEventStatus.PENDING
    )
    depth = models.PositiveSmallIntegerField(_("depth"), default=0, help_text=_("Depth of the event it will fire."))
    created_by_run = models.ForeignKey(
        WorkflowRun, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("created by run")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)

    class Meta:
        ordering = ["fire_at"]
        verbose_name = _("scheduled event")
        verbose_name_plural = _("scheduled events")
        indexes = [
            models.Index(fields=["fire_at"], name="scheduled_event_due", condition=Q(status="pending")),
            models.Index(fields=["conversation", "name"], name="scheduled_event_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ScheduleMatch(models.Model):
    """A conversation a `schedule` workflow has fired for and that still matches: it does not fire again until
    it stops matching (the row is removed then)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="schedule_matches")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "conversation"], name="schedule_match_once")]


class AuthType(models.TextChoices):
    NONE = "none", _("None")
    BASIC = "basic", _("Basic")
    BEARER = "bearer", _("Bearer token")
    HEADER = "header", _("Custom header")
    OAUTH2_CLIENT_CREDENTIALS = "oauth2_client_credentials", _("OAuth2 client credentials")


class Integration(models.Model):
    """A remote system steps talk to (docs/managers.md). Credentials and named secrets are stored encrypted
    (`workflows.integrations.crypto`), never returned by the API and masked in admin and run logs."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    base_url = models.URLField(_("base URL"), max_length=500, blank=True)
    auth_type = models.CharField(_("auth type"), max_length=30, choices=AuthType.choices, default=AuthType.NONE)
    auth_public = models.JSONField(default=dict, blank=True, help_text="Non-secret auth fields (username, token URL…).")
    auth_secret_encrypted = models.TextField(blank=True, help_text="Encrypted secret auth fields.")
    headers = models.JSONField(default=list, blank=True, help_text='Static headers: [{"key", "value"}].')
    secrets_encrypted = models.TextField(blank=True, help_text="Encrypted named secrets.")
    secret_names = models.JSONField(default=list, blank=True)
    oauth_token_encrypted = models.TextField(blank=True)
    oauth_token_expires_at = models.DateTimeField(_("OAuth token expires at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")

    def __str__(self) -> str:
        return self.name


class HttpMethod(models.TextChoices):
    GET = "GET", "GET"
    POST = "POST", "POST"
    PUT = "PUT", "PUT"
    PATCH = "PATCH", "PATCH"
    DELETE = "DELETE", "DELETE"


class CustomAction(models.Model):
    """An action on an integration with input and output JSON Schemas, callable from workflows once published."""

    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="custom_actions", verbose_name=_("integration")
    )
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    method = models.CharField(_("method"), max_length=10, choices=HttpMethod.choices, default=HttpMethod.POST)
    path = models.CharField(_("path"), max_length=500)
    input_schema = models.JSONField(_("input schema"), default=dict, blank=True)
    output_schema = models.JSONField(_("output schema"), default=dict, blank=True)
    published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("custom action")
        verbose_name_plural = _("custom actions")

    def __str__(self) -> str:
        return self.name


ENDPOINT_STATE_LABELS = {"healthy": _("healthy"), "failing": _("failing"), "disabled": _("disabled")}


class EndpointKind(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook URL")
    INTEGRATION = "integration", _("Integration base URL")
    SLACK = "slack", "Slack"
    SMS = "sms", _("SMS provider")
    HTTP = "http", _("HTTP host")


class Endpoint(models.Model):
    """The delivery health of one outbound destination (docs/managers.md): counters every attempt updates in one UPDATE,
    and `disabled_at` once it kept failing long enough (its steps then fail fast until a manager re-enables it)."""

    key = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the kind and the destination.")
    kind = models.CharField(_("kind"), max_length=12, choices=EndpointKind.choices)
    url = models.CharField(_("URL"), max_length=500, help_text=_("Without userinfo, query string or secrets."))
    integration = models.ForeignKey(
        Integration,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="endpoints",
        verbose_name=_("integration"),
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    consecutive_failures = models.PositiveIntegerField(_("consecutive failures"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success at"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    alerted_at = models.DateTimeField(
        _("alerted at"), null=True, blank=True, help_text=_("When managers were told it is disabled.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "url", "id"]
        verbose_name = _("endpoint")
        verbose_name_plural = _("endpoints")
        indexes = [
            models.Index(fields=["disabled_at"], name="endpoint_disabled", condition=Q(disabled_at__isnull=False))
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.url}"

    @property
    def state(self) -> str:
        if self.disabled_at is not None:
            return "disabled"
        return "failing" if self.consecutive_failures else "healthy"

    @property
    def state_label(self) -> str:
        """The state in the viewer's language."""
        return str(ENDPOINT_STATE_LABELS[self.state])


class WorkflowAlert(models.Model):
    """A workflow whose last runs all failed, raised once per streak (the streak is named by the last run that
    succeeded before it); it stops showing once a later run succeeds."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="alerts")
    after_run_id = models.PositiveBigIntegerField(default=0, help_text="The last succeeded run before the streak.")
    failed_runs = models.PositiveIntegerField()
    last_error = models.TextField(blank=True)
    raised_at = models.DateTimeField()

    class Meta:
        ordering = ["-raised_at"]
        constraints = [models.UniqueConstraint(fields=["workflow", "after_run_id"], name="workflow_alert_once")]


class WorkflowReplay(models.Model):
    """A "try on history" of a workflow over recorded events (docs/managers.md). The row is the source of truth: the
    workers process the events after `cursor_*` in chunks and add to the figures here, so a lost chunk task is
    picked up again by the sweep (stale `heartbeat_at`) and a chunk done twice is counted once (`chunks`)."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="replays")
    definition = models.JSONField(help_text="The definition replayed (saved or a draft), write-only values masked.")
    since = models.DateTimeField()
    until = models.DateTimeField()
    limit = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ReplayStatus.choices, default=ReplayStatus.RUNNING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    chunks = models.PositiveIntegerField(default=0, help_text="Chunks saved; a chunk saves only over its own count.")
    cursor_at = models.DateTimeField(null=True, blank=True)
    cursor_event = models.UUIDField(null=True, blank=True)
    matched = models.PositiveIntegerField(default=0)
    would_start = models.PositiveIntegerField(default=0)
    by_outcome = models.JSONField(default=dict, blank=True)
    step_counts = models.JSONField(default=dict, blank=True)
    samples = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(help_text="Last progress; a running replay silent for long is re-enqueued.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["heartbeat_at"], name="replay_running", condition=Q(status="running"))]

    def __str__(self) -> str:
        return _("Replay #%(id)s (%(status)s)") % {"id": self.pk, "status": self.get_status_display()}


class Macro(models.Model):
    """An agent's one-click set of internal steps (docs/managers.md "Macros"): managed by support managers, applied by
    agents at once and as themselves through `workflows.engine.macros.macro_apply` (never a workflow run)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    steps = models.JSONField(
        _("steps"), default=list, blank=True, help_text=_("Internal steps, in the workflow step format.")
    )
    active = models.BooleanField(_("active"), default=True, help_text=_("Only active macros are offered to agents."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    inputs = models.JSONField(
        _("inputs"),
        default=list,
        blank=True,
        help_text=_(
            'Values asked before applying: [{"key": "order", "label": "Order number", '
            '"type": "text"}], read as {{ inputs.order }} in the steps.'
        ),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personal_macros",
        verbose_name=_("owner"),
        help_text=_("Set for a personal macro; empty = shared."),
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("macro")
        verbose_name_plural = _("macros")

    def __str__(self) -> str:
        return self.name


class CannedResponse(models.Model):
    """A saved answer an agent inserts into the reply box and edits before sending (docs/agent_day.md "Canned
    responses"); its `{{ contact.name }}`-style placeholders are filled from the open conversation. Shared ones are
    the managers'; one with an `owner` is that agent's own."""

    name = models.CharField(_("name"), max_length=200)
    body = models.TextField(
        _("body"), help_text=_("The text, with placeholders such as {{ contact.name }} or {{ conversation.id }}.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="canned_responses",
        verbose_name=_("owner"),
        help_text=_("Set for a personal one; empty = shared."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.name
