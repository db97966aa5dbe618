"""SLA tables: business-hours calendars, policies and the per-conversation targets the sweep watches.

Models hold fields, indexes and validation of their own values; selecting policies and moving target clocks lives
in `sla.policies` and `sla.clocks`.
"""
from django.core.exceptions import ValidationError
from django.db import models

from conversations.models import Conversation
from sla.calendars import validate_holidays, validate_intervals, validate_timezone
from sla.choices import PAUSABLE_STATUSES, Metric  # noqa: F401 (PAUSABLE_STATUSES: imported from here by callers)
from sla.validation import validate_policy_values


class TargetState(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    MET = "met", "Met"
    BREACHED = "breached", "Breached"


OPEN_TARGET_STATES = (TargetState.ACTIVE, TargetState.PAUSED)


class BusinessHours(models.Model):
    """A business-hours calendar (docs/managers.md, docs/api.md): timezone, weekly open intervals, closed dates."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", help_text='IANA name, e.g. "Europe/Berlin".')
    intervals = models.JSONField(
        default=list,
        help_text='Open intervals in local time: [{"weekday": 0, "start": "09:00", "end": "17:00"}, ...] '
        "(Monday 0; an end before the start runs overnight; 24:00 is midnight).",
    )
    holidays_country = models.CharField(max_length=3, blank=True, help_text='ISO country code, e.g. "DE".')
    holidays_subdivision = models.CharField(max_length=10, blank=True, help_text='e.g. "BY" for Bavaria.')
    extra_holidays = models.JSONField(default=list, blank=True, help_text='Custom closed dates: ["2026-12-24"].')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "business hours calendar"
        verbose_name_plural = "business hours calendars"

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"

    def clean(self) -> None:
        errors: dict = {}
        for check in (
            lambda: validate_timezone(self.timezone),
            lambda: validate_intervals(self.intervals),
            lambda: validate_holidays(self.holidays_country, self.holidays_subdivision, self.extra_holidays),
        ):
            try:
                check()
            except ValidationError as exc:
                errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)


class SlaPolicy(models.Model):
    """Targets for the conversations its `match` condition selects; the lowest `position` that matches wins."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0, help_text="Lower positions are tried first.")
    active = models.BooleanField(default=True)
    match = models.JSONField(default=dict, blank=True, help_text='Condition tree, e.g. {"all": [{"field": '
                             '"conversation.priority", "op": "in", "value": ["high", "urgent"]}]}; empty matches all.')
    business_hours = models.ForeignKey(
        BusinessHours, null=True, blank=True, on_delete=models.PROTECT, related_name="policies",
        help_text="Count business time on this calendar; empty counts calendar time.",
    )
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    pause_on = models.JSONField(
        default=list, blank=True, help_text='Statuses that stop the clocks: ["pending", "on_hold"].'
    )
    warning_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, default=80,
        help_text="Warn when this % of a target has elapsed (1-99; empty: no warning).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name

    def target_minutes(self, metric: str) -> int | None:
        """The policy's target for a metric, in minutes (None: the policy does not measure it)."""
        return getattr(self, f"{metric}_minutes")

    def clean(self) -> None:
        validate_policy_values(
            match=self.match,
            targets={metric: self.target_minutes(metric) for metric in Metric.values},
            pause_on=self.pause_on,
            warning_percent=self.warning_percent,
        )


class SlaTarget(models.Model):
    """One SLA clock of a conversation: a metric measured against a policy's target.

    Clock arithmetic: `consumed_seconds` of (business or calendar) time were used up before `resumed_at`, when the
    clock last started running. While active, `due_at` / `warning_at` are when the target / warning point is reached;
    while paused they are empty so the sweep's index never sees the row. `paused_seconds` is the wall-clock time
    spent paused, for reporting. `next_response` has one row per customer message awaiting a reply.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="sla_targets")
    policy = models.ForeignKey(SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="targets")
    metric = models.CharField(max_length=20, choices=Metric.choices)
    state = models.CharField(max_length=10, choices=TargetState.choices, default=TargetState.ACTIVE)
    target_seconds = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    resumed_at = models.DateTimeField()
    consumed_seconds = models.FloatField(default=0)
    due_at = models.DateTimeField(null=True, blank=True)
    warning_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.FloatField(default=0)
    warned = models.BooleanField(default=False)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    # Which claim last took the row (the conditional UPDATE that makes each event fire once); read back by id.
    claim_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["conversation", "metric", "started_at", "id"]
        verbose_name = "SLA target"
        verbose_name_plural = "SLA targets"
        indexes = [
            # The sweep reads `state = active AND due_at <= now` / `warning_at <= now`: an index range scan, so
            # its cost follows the number of due rows, never the number of targets.
            models.Index(fields=["state", "due_at"], name="sla_target_due"),
            models.Index(fields=["state", "warned", "warning_at"], name="sla_target_warning"),
            models.Index(fields=["conversation", "metric", "state"], name="sla_target_conversation"),
            models.Index(fields=["breached_at"], name="sla_target_breached_at"),
            models.Index(fields=["met_at"], name="sla_target_met_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} of conversation {self.conversation_id}: {self.state}"


class ConversationPolicy(models.Model):
    """Which policy currently applies to a conversation (none matched: `policy` is empty).

    Kept so an event can tell whether re-selection changed the policy without re-deriving it from target rows.
    """

    conversation = models.OneToOneField(
        Conversation, primary_key=True, on_delete=models.CASCADE, related_name="sla_assignment"
    )
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    selected_at = models.DateTimeField()

    class Meta:
        verbose_name = "conversation SLA policy"

    def __str__(self) -> str:
        return f"{self.conversation_id} → {self.policy or 'no policy'}"
