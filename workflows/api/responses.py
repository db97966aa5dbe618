"""Response shapes of the workflow API's reports and documents (analytics, replays, exports, the callable list),
for the OpenAPI schema only: the views build these bodies in their services, and these serializers name every key
so client generators get typed models rather than a bare object."""

from __future__ import annotations

from rest_framework import serializers

from workflows.choices import ReplayStatus


class WorkflowTotalsSerializer(serializers.Serializer):
    workflows = serializers.IntegerField()
    active = serializers.IntegerField()
    executions = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    didnt_match = serializers.IntegerField()
    cancelled = serializers.IntegerField()


class WorkflowDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    executions = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class MostTriggeredSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    name = serializers.CharField()
    executions = serializers.IntegerField()


class WorkflowAnalyticsSerializer(serializers.Serializer):
    """`GET /api/analytics/workflows/`."""

    since = serializers.DateField()
    until = serializers.DateField()
    totals = WorkflowTotalsSerializer()
    success_rate = serializers.FloatField(allow_null=True)
    failure_rate = serializers.FloatField(allow_null=True)
    average_duration_seconds = serializers.FloatField(allow_null=True)
    daily = WorkflowDaySerializer(many=True)
    most_triggered = MostTriggeredSerializer(many=True)


class ReplayProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class WorkflowReplayReportSerializer(serializers.Serializer):
    """`GET /api/workflow-replays/{id}/` (docs/managers.md)."""

    id = serializers.IntegerField()
    workflow = serializers.IntegerField()
    status = serializers.ChoiceField(ReplayStatus.choices)
    progress = ReplayProgressSerializer()
    matched = serializers.IntegerField()
    would_start = serializers.IntegerField()
    by_outcome = serializers.DictField()
    steps = serializers.JSONField()
    samples = serializers.ListField(child=serializers.DictField())
    since = serializers.DateTimeField()
    until = serializers.DateTimeField()
    limit = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class DefinitionTriggerSerializer(serializers.Serializer):
    type = serializers.CharField()
    config = serializers.DictField()


class DefinitionStepSerializer(serializers.Serializer):
    type = serializers.CharField()
    config = serializers.DictField()
    on_false = serializers.CharField(required=False)


class WorkflowDefinitionSerializer(serializers.Serializer):
    """`GET /api/workflows/{id}/export/`: the §4 definition, write-only values as "****"."""

    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    order = serializers.IntegerField()
    stop_processing = serializers.BooleanField()
    trigger = DefinitionTriggerSerializer()
    steps = DefinitionStepSerializer(many=True)


class CallableWorkflowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    version = serializers.IntegerField()
    run_url = serializers.CharField()
    input_schema = serializers.DictField(help_text="The JSON Schema of the run's `inputs`.")
    tool = serializers.DictField(help_text="An LLM tool (function) definition that runs the workflow.")


class CallableWorkflowsSerializer(serializers.Serializer):
    """`GET /api/workflows/callable/`: every active manual workflow (a short list, never paged)."""

    count = serializers.IntegerField()
    results = CallableWorkflowSerializer(many=True)


class ContactExportSerializer(serializers.Serializer):
    """`GET /api/contacts/{id}/export/`: everything held about a contact."""

    contact = serializers.DictField()
    conversations = serializers.ListField(child=serializers.DictField())
