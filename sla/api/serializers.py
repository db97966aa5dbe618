"""Serializers of the SLA API, one per shape of docs/api.md. Validation is the services' (one source of truth)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from conversations.api.base import django_validation_error_detail
from conversations.api.serializers import JSONListField, JSONObjectField
from sla.calendars import validate_holidays, validate_intervals, validate_timezone
from sla.matching import validate_condition
from sla.models import BusinessHours, Metric, SlaPolicy, SlaTarget
from sla.selectors import paused_seconds, remaining_seconds
from sla.validation import validate_pause_on, validate_targets


def _run(check, *args):
    """Call a service validator; turn its Django ValidationError into DRF's field errors."""
    try:
        return check(*args)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(django_validation_error_detail(exc)) from exc


class BusinessHoursSerializer(serializers.ModelSerializer):
    intervals = JSONListField(
        help_text=_(
            "Weekly open intervals, at least one, none overlapping: "
            '[{"weekday": 0, "start": "09:00", "end": "17:00"}] (0 is Monday).'
        )
    )
    extra_holidays = JSONListField(required=False, help_text=_('Closed dates besides public holidays, "YYYY-MM-DD".'))

    class Meta:
        model = BusinessHours
        fields = [
            "id",
            "name",
            "timezone",
            "intervals",
            "holidays_country",
            "holidays_subdivision",
            "extra_holidays",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def validate_timezone(self, value: str) -> str:
        return _run(validate_timezone, value)

    def validate_intervals(self, value):
        return _run(validate_intervals, value)

    def validate(self, attrs: dict) -> dict:
        current = self.instance
        country = attrs.get("holidays_country", current.holidays_country if current else "")
        subdivision = attrs.get("holidays_subdivision", current.holidays_subdivision if current else "")
        extra = attrs.get("extra_holidays", current.extra_holidays if current else [])
        _run(validate_holidays, country, subdivision, extra)
        return attrs


class SlaPolicySerializer(serializers.ModelSerializer):
    """`targets` is `{"first_response": minutes, "next_response": minutes, "resolution": minutes}`."""

    match = JSONObjectField(required=False, allow_null=True)
    targets = JSONObjectField()
    pause_on = JSONListField(required=False)
    business_hours = serializers.PrimaryKeyRelatedField(
        queryset=BusinessHours.objects.all(), allow_null=True, required=False
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "name",
            "position",
            "active",
            "match",
            "business_hours",
            "targets",
            "pause_on",
            "warning_percent",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]

    def to_representation(self, instance: SlaPolicy) -> dict:
        data = super().to_representation(instance)
        data["targets"] = {metric: instance.target_minutes(metric) for metric in Metric.values}
        return data

    def validate_match(self, value):
        return _run(validate_condition, value) or {}

    def validate_targets(self, value):
        return _run(validate_targets, value)

    def validate_pause_on(self, value):
        return _run(validate_pause_on, value)

    def validate_warning_percent(self, value):
        if value is not None and not 1 <= value <= 99:
            raise serializers.ValidationError(_("A whole percentage from 1 to 99, or null for no warning."))
        return value


class SlaTargetSerializer(serializers.ModelSerializer):
    """A conversation's target as clients read it (docs/api.md `sla`), plus the time left."""

    remaining_seconds = serializers.SerializerMethodField()
    paused_seconds = serializers.SerializerMethodField()

    class Meta:
        model = SlaTarget
        fields = ["metric", "due_at", "state", "breached_at", "met_at", "remaining_seconds", "paused_seconds"]
        read_only_fields = fields

    def get_remaining_seconds(self, target: SlaTarget) -> int | None:
        """Time left in the target's own kind of time: business time when its policy uses a calendar, calendar
        time otherwise (running or paused alike); negative once overdue, null once met or breached."""
        return remaining_seconds(target)

    def get_paused_seconds(self, target: SlaTarget) -> int:
        """Wall-clock time spent paused so far (a clock paused right now counts up to this moment)."""
        return paused_seconds(target)


class SlaReportQuerySerializer(serializers.Serializer):
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict) -> dict:
        if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
            raise serializers.ValidationError({"until": _("until must be after since.")})
        return attrs


class SlaRatesSerializer(serializers.Serializer):
    """Met and breached targets of one metric (or all of a policy's), and their shares (null with no target)."""

    met = serializers.IntegerField()
    breached = serializers.IntegerField()
    total = serializers.IntegerField()
    met_rate = serializers.FloatField(allow_null=True)
    breached_rate = serializers.FloatField(allow_null=True)


class SlaPolicyReportSerializer(SlaRatesSerializer):
    id = serializers.IntegerField(allow_null=True)
    name = serializers.CharField(allow_null=True)
    metrics = serializers.DictField(child=SlaRatesSerializer(), help_text=_("Per metric (first_response, ...)."))


class SlaReportSerializer(serializers.Serializer):
    """`GET /api/analytics/sla/`, for the schema (the report is built by `sla.analytics.sla_report`)."""

    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    metrics = serializers.DictField(child=SlaRatesSerializer(), help_text=_("Per metric (first_response, ...)."))
    policies = SlaPolicyReportSerializer(many=True)
    median_first_response_seconds = serializers.FloatField(allow_null=True)
    median_resolution_seconds = serializers.FloatField(allow_null=True)
