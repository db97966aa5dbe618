"""Serializers of the workflow API (docs/managers.md, docs/api.md): one class per shape.

A workflow is written and read as the workflow definition. Its validation is
`workflows.engine.definition.validate_definition` and nothing else (the same validator as the admin and import), so a
bad definition answers 400 with keys that name the step and the key, e.g. `steps[1].config.all[0].value`. The declared
fields below only describe the shape for the OpenAPI schema and for reads.

Write-only step config keys (a webhook `secret`) read back as "****". The response of the create or update that set
one (generated or changed) shows it in full, once; posting "****" back, or leaving the key out, keeps it.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from conversations.api.serializers import ClosedRequestBody
from conversations.models import Conversation
from workflows import selectors as analytics
from workflows import services
from workflows.choices import OnFalse, RunStatus, StepStatus, WorkflowStatus
from workflows.engine import references
from workflows.engine.definition import MAX_STEPS, DefinitionError, validate_definition
from workflows.models import StepRun, Workflow, WorkflowRun
from workflows.steps.registry import step_types
from workflows.triggers import registry as triggers

DEFINITION_KEYS = frozenset({"name", "description", "status", "order", "stop_processing", "trigger", "steps"})
READ_ONLY_KEYS = frozenset({"id", "version", "created_at", "updated_at", "stats", "problems"})
MAX_ID = 2**63 - 1


# The schema names every trigger and step type the validator accepts (steps register on import of workflows.steps).
TRIGGER_TYPE_CHOICES = [str(name) for name in triggers.TRIGGER_TYPES]
STEP_TYPE_CHOICES = step_types.names()


class TriggerSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=TRIGGER_TYPE_CHOICES)
    config = serializers.DictField(required=False)


class StepSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=STEP_TYPE_CHOICES)
    config = serializers.DictField(required=False)
    on_false = serializers.ChoiceField(choices=OnFalse.choices, required=False)


class WorkflowStatsSerializer(serializers.Serializer):
    executions = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    didnt_match = serializers.IntegerField(help_text="Runs stopped by a condition: not counted as failures.")
    cancelled = serializers.IntegerField(help_text="Cancelled runs: counted apart from success and failure.")
    success_rate = serializers.FloatField(allow_null=True, help_text="succeeded / (succeeded + failed).")
    failure_rate = serializers.FloatField(allow_null=True, help_text="failed / (succeeded + failed).")
    last_run_at = serializers.DateTimeField(allow_null=True)
    last_run_status = serializers.ChoiceField(choices=RunStatus.choices, allow_null=True)


def definition_errors(exc: DefinitionError) -> serializers.ValidationError:
    """The validator's `{key path: [messages]}` as DRF's field-error 400."""
    return serializers.ValidationError(exc.errors)


def reject_unknown_keys(data: Any, allowed: frozenset) -> None:
    """A typo in a top-level key is a 400 naming it, not a silently ignored value."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})


def refuse_too_many_steps(data: Any) -> None:
    """A body over the step limit is refused on its length, before the validator spends time on every step."""
    if isinstance(data, dict) and isinstance(data.get("steps"), list) and len(data["steps"]) > MAX_STEPS:
        raise serializers.ValidationError({"steps": [_("A workflow has at most %(max)s steps.") % {"max": MAX_STEPS}]})


def validated_definition(data: Any, tolerated: frozenset[tuple[str, str]] = frozenset()) -> dict:
    """The shared validator's normalised definition, or its errors as a 400 (`tolerated`: the references the saved
    version already made, which a draft may keep while they are missing)."""
    refuse_too_many_steps(data)
    try:
        return validate_definition(data, tolerated=tolerated)
    except DefinitionError as exc:
        raise definition_errors(exc) from exc


class ProblemSerializer(serializers.Serializer):
    key = serializers.CharField(help_text='Where, e.g. "steps[2].config.team".')
    message = serializers.CharField(help_text="What, e.g. 'No team \"Billing\".'")


class WorkflowListSerializer(serializers.ListSerializer):
    """A page of workflows computes their problems together: one query per reference kind for the whole page."""

    def to_representation(self, data: Any) -> list:
        workflows = list(data.all() if hasattr(data, "all") else data)
        self.child.problems_by_id = services.workflow_problems(workflows)
        return super().to_representation(workflows)


class WorkflowSerializer(ClosedRequestBody, serializers.Serializer):
    """A workflow as the workflow definition plus read-only id, version, timestamps and run stats.

    PUT sends the whole body (a missing status keeps the current one); PATCH sends any top-level keys, merged over
    the current definition. Either way the merged definition is validated whole and saved as a new version.
    Write-only values are masked, except the ones this serializer's own save set (or, with the context flag
    `reveal_new_write_only`, the ones the latest save set): those are shown once.
    """

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=WorkflowStatus.choices, required=False)
    order = serializers.IntegerField(
        required=False,
        help_text="Lower first among the workflows of one trigger type; absent on create = after the others.",
    )
    stop_processing = serializers.BooleanField(
        required=False, help_text="Once this workflow matches an event, the workflows after it do not start for it."
    )
    trigger = TriggerSerializer()
    steps = StepSerializer(many=True, required=False)
    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    stats = WorkflowStatsSerializer(read_only=True)
    problems = ProblemSerializer(
        many=True,
        read_only=True,
        help_text=(
            "What is broken: a team, agent, integration, custom action or SLA policy the definition names that no "
            "longer exists. A workflow with problems cannot be activated."
        ),
    )

    class Meta:
        list_serializer_class = WorkflowListSerializer

    def to_internal_value(self, data: Any) -> dict:
        reject_unknown_keys(data, DEFINITION_KEYS | READ_ONLY_KEYS)
        if isinstance(data, dict):
            data = {key: value for key, value in data.items() if key in DEFINITION_KEYS}
            if self.instance is not None:
                current = services.workflow_definition(self.instance)
                data = {**current, **data} if self.partial else {"status": current["status"], **data}
                return validated_definition(data, references.tokens(current))
        return validated_definition(data)

    def to_representation(self, workflow: Workflow) -> dict:
        stamp = serializers.DateTimeField()
        reveal_new = getattr(self, "_saved_here", False) or self.context.get("reveal_new_write_only", False)
        return {
            "id": workflow.pk,
            **services.workflow_definition(workflow, reveal="new" if reveal_new else "none"),
            "version": workflow.version,
            "created_at": stamp.to_representation(workflow.created_at),
            "updated_at": stamp.to_representation(workflow.updated_at),
            "stats": analytics.workflow_stats(workflow),
            "problems": self._problems(workflow),
        }

    def _problems(self, workflow: Workflow) -> list[dict[str, str]]:
        known = getattr(self, "problems_by_id", None) or {}
        return known[workflow.pk] if workflow.pk in known else services.workflow_problems([workflow])[workflow.pk]

    def create(self, validated_data: dict) -> Workflow:
        user = self.context["request"].user
        self._saved_here = True
        return services.workflow_create(definition=validated_data, created_by=user)

    def update(self, instance: Workflow, validated_data: dict) -> Workflow:
        self._saved_here = True
        return services.workflow_update(workflow=instance, definition=validated_data)


class ImportSerializer(serializers.Serializer):
    """`POST /api/workflows/import/`: a workflow definition, or `{"workflow": <definition>}` (an export file). Draft
    unless the body says otherwise."""

    def to_internal_value(self, data: Any) -> dict:
        if isinstance(data, dict) and set(data) == {"workflow"}:
            data = data["workflow"]
        if isinstance(data, dict):
            reject_unknown_keys(data, DEFINITION_KEYS | READ_ONLY_KEYS)
            data = {key: value for key, value in data.items() if key in DEFINITION_KEYS}
        return validated_definition(data)


class StrictSerializer(serializers.Serializer):
    """A request body whose unknown keys are a 400 (works nested too, unlike a check on `initial_data`)."""

    def to_internal_value(self, data: Any) -> dict:
        reject_unknown_keys(data, frozenset(self.fields))
        return super().to_internal_value(data)


class ConversationReferenceField(serializers.PrimaryKeyRelatedField):
    default_error_messages = {
        **serializers.PrimaryKeyRelatedField.default_error_messages,
        "does_not_exist": "No conversation with id {pk_value}.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=Conversation.objects.select_related("contact"), **kwargs)

    def to_internal_value(self, data: Any) -> Conversation:
        if isinstance(data, (bool, float, dict, list)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        # An id beyond the database's integer range would overflow in the query: it names no conversation.
        if (
            isinstance(data, (int, str))
            and not isinstance(data, bool)
            and str(data).lstrip("-").isdigit()
            and abs(int(data)) > MAX_ID
        ):
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class SampleEventSerializer(StrictSerializer):
    type = serializers.CharField(required=False, max_length=50)
    payload = serializers.DictField(required=False)
    conversation = ConversationReferenceField(required=False, allow_null=True)
    # When the sample happened: time conditions (within business hours) are asked about this moment, not now.
    occurred_at = serializers.DateTimeField(required=False)


class DryRunRequestSerializer(StrictSerializer):
    """`POST /api/workflows/{id}/test/`: `{"conversation": id}` and/or `{"event": {"type"?, "payload"?,
    "conversation"?}}`."""

    conversation = ConversationReferenceField(required=False, allow_null=True)
    event = SampleEventSerializer(required=False)

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("conversation") and not attrs.get("event"):
            raise serializers.ValidationError(
                {"non_field_errors": ['Give a "conversation" id or a sample "event" to test with.']}
            )
        event = attrs.get("event") or {}
        attrs["conversation"] = attrs.get("conversation") or event.get("conversation")
        return attrs


class RetryRequestSerializer(StrictSerializer):
    """`POST /api/workflow-runs/{id}/retry/`: `{"version"?: "original" | "current"}` (default: the version it ran)."""

    version = serializers.ChoiceField(
        choices=services.RETRY_VERSIONS,
        default="original",
        help_text=(
            "original: run the failed step again on the version the run ran; current: on the workflow's current "
            "version, from the same step. The run's `version` and `retried_on` say which it used."
        ),
    )


class ManualRunRequestSerializer(StrictSerializer):
    """`POST /api/workflows/{id}/run/`: `{"conversation": id, "inputs"?: {...}}`."""

    conversation = ConversationReferenceField()
    inputs = serializers.DictField(required=False, default=dict)


class DryRunStepSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    path = serializers.CharField()
    type = serializers.CharField()
    status = serializers.ChoiceField(choices=["would_run", "skipped", "stopped", "not_reached", "failed"])
    attempts = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    input = serializers.JSONField()
    output = serializers.JSONField()
    error = serializers.CharField()


class DryRunResultSerializer(serializers.Serializer):
    """The dry-run report (documentation only: the view returns `workflows.engine.dryrun.dry_run`'s dict as is)."""

    trigger = serializers.DictField()
    steps = DryRunStepSerializer(many=True)
    result = serializers.DictField()


class StepRunSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=StepStatus.choices)
    position = serializers.SerializerMethodField(help_text="The top-level position the step belongs to.")
    path = serializers.SerializerMethodField(help_text='Where the step is: "2", or "2.1.0" inside a branch.')

    class Meta:
        model = StepRun
        fields = [
            "position",
            "path",
            "type",
            "status",
            "attempts",
            "duration_ms",
            "input",
            "output",
            "error",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_path(self, step_run: StepRun) -> str:
        return step_run.path or str(step_run.position)

    def get_position(self, step_run: StepRun) -> int:
        return int(self.get_path(step_run).split(".")[0])


class WorkflowRunSerializer(serializers.ModelSerializer):
    """A run with its step results (docs/api.md)."""

    workflow_name = serializers.CharField(source="workflow.name", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    steps = StepRunSerializer(many=True, read_only=True)
    # Declared so the schema says it may be empty (a run never retried): DRF drops `allow_blank` from read-only
    # model fields, and client generators then refuse the "" they read.
    retried_on = serializers.ChoiceField(
        choices=WorkflowRun._meta.get_field("retried_on").choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty unless the run was retried.",
    )

    class Meta:
        model = WorkflowRun
        fields = [
            "id",
            "workflow",
            "workflow_name",
            "version",
            "event",
            "event_type",
            "conversation",
            "status",
            "position",
            "resume_at",
            "created_at",
            "started_at",
            "finished_at",
            "error",
            "steps",
            "retried_on",
            "first_version",
        ]
        read_only_fields = fields
