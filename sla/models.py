"""SLA tables: business-hours calendars, policies and the per-conversation targets the sweep watches.

Models hold fields, indexes and validation of their own values; selecting policies and moving target clocks lives
in `sla.policies` and `sla.clocks`.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation
from sla.calendars import validate_holidays, validate_intervals, validate_timezone
from sla.choices import PAUSABLE_STATUSES, Metric  # noqa: F401 (PAUSABLE_STATUSES: imported from here by callers)
from sla.validation import validate_policy_values


class TargetState(models.TextChoices):
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")


OPEN_TARGET_STATES = (TargetState.ACTIVE, TargetState.PAUSED)


class BusinessHours(models.Model):
    """A business-hours calendar (docs/managers.md, docs/api.md): timezone, weekly open intervals, closed dates."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    timezone = models.CharField(
        max_length=64, default="UTC", help_text=_('IANA name, e.g. "Europe/Berlin".'), verbose_name=_("timezone")
    )
    intervals = models.JSONField(
        default=list,
        help_text=_(
            'Open intervals in local time: [{"weekday": 0, "start": "09:00", "end": "17:00"}, ...] '
            "(Monday 0; an end before the start runs overnight; 24:00 is midnight)."
        ),
        verbose_name=_("intervals"),
    )
    holidays_country = models.CharField(
        max_length=3, blank=True, help_text=_('ISO country code, e.g. "DE".'), verbose_name=_("holidays country")
    )
    holidays_subdivision = models.CharField(
        max_length=10, blank=True, help_text=_('e.g. "BY" for Bavaria.'), verbose_name=_("holidays subdivision")
    )
    extra_holidays = models.JSONField(
        default=list, blank=True, help_text=_('Custom closed dates: ["2026-12-24"].'), verbose_name=_("extra holidays")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("business hours calendar")
        verbose_name_plural = _("business hours calendars")

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

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    position = models.PositiveIntegerField(
        default=0, help_text=_("Lower positions are tried first."), verbose_name=_("position")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    match = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            'Condition tree, e.g. {"all": [{"field": '
            '"conversation.priority", "op": "in", "value": ["high", "urgent"]}]}; empty matches all.'
        ),
        verbose_name=_("match"),
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="policies",
        help_text=_("Count business time on this calendar; empty counts calendar time."),
        verbose_name=_("business hours"),
    )
    first_response_minutes = models.PositiveIntegerField(
        null=True, blank=True, verbose_name=_("first response minutes")
    )
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("next response minutes"))
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("resolution minutes"))
    pause_on = models.JSONField(
        default=list,
        blank=True,
        help_text=_('Statuses that stop the clocks: ["pending", "on_hold"].'),
        verbose_name=_("pause on"),
    )
    warning_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=80,
        help_text=_("Warn when this percentage of a target has elapsed (1-99; empty: no warning)."),
        verbose_name=_("warning percent"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

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

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="sla_targets", verbose_name=_("conversation")
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, on_delete=models.SET_NULL, related_name="targets", verbose_name=_("policy")
    )
    metric = models.CharField(max_length=20, choices=Metric.choices, verbose_name=_("metric"))
    state = models.CharField(
        max_length=10, choices=TargetState.choices, default=TargetState.ACTIVE, verbose_name=_("state")
    )
    target_seconds = models.PositiveIntegerField(verbose_name=_("target seconds"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    resumed_at = models.DateTimeField(verbose_name=_("resumed at"))
    consumed_seconds = models.FloatField(default=0, verbose_name=_("consumed seconds"))
    due_at = models.DateTimeField(null=True, blank=True, verbose_name=_("due at"))
    warning_at = models.DateTimeField(null=True, blank=True, verbose_name=_("warning at"))
    paused_at = models.DateTimeField(null=True, blank=True, verbose_name=_("paused at"))
    paused_seconds = models.FloatField(default=0, verbose_name=_("paused seconds"))
    warned = models.BooleanField(default=False, verbose_name=_("warned"))
    met_at = models.DateTimeField(null=True, blank=True, verbose_name=_("met at"))
    breached_at = models.DateTimeField(null=True, blank=True, verbose_name=_("breached at"))
    # Which claim last took the row (the conditional UPDATE that makes each event fire once); read back by id.
    claim_token = models.CharField(max_length=32, blank=True, verbose_name=_("claim token"))

    class Meta:
        ordering = ["conversation", "metric", "started_at", "id"]
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
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
        return _("%(metric)s of conversation %(number)s: %(state)s") % {
            "metric": self.get_metric_display(),
            "number": self.conversation_id,
            "state": self.get_state_display(),
        }


class ConversationPolicy(models.Model):
    """Which policy currently applies to a conversation (none matched: `policy` is empty).

    Kept so an event can tell whether re-selection changed the policy without re-deriving it from target rows.
    """

    conversation = models.OneToOneField(
        Conversation,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="sla_assignment",
        verbose_name=_("conversation"),
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("policy")
    )
    selected_at = models.DateTimeField(verbose_name=_("selected at"))

    class Meta:
        verbose_name_plural = _("conversation policies")
        verbose_name = _("conversation SLA policy")

    def __str__(self) -> str:
        return f"{self.conversation_id} → {self.policy or _('no policy')}"
