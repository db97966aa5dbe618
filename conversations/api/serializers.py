"""Serializers of the conversations API (docs/api.md): one class per shape, reads and writes kept apart.

Write serializers only validate the shape of a request (types, lengths, choices, references); the change itself is
made by the view through `conversations.services`. Read serializers render what clients rely on. Every write
serializer refuses keys it does not know, so a typo in a field name is a 400 rather than a silent no-op.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conversations import selectors, services
from conversations.api.channels import attachments_data, delivery_data, email_data
from conversations.api.fieldcopies import CheapFieldCopies
from conversations.api.rows import conversation_rows
from conversations.audio import HEADER_BYTES, audio_problem
from conversations.choices import Channel, Disposition, Priority, SenderType, Status
from conversations.compiled import CompiledGet
from conversations.models import Contact, Conversation, Inbox, Message, Recording, Team, Ticket
from conversations.phones import normalize_e164

MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_SURVEY_COMMENT = 5_000


def _messages_of(exc: DjangoValidationError) -> list[str]:
    """Flatten a service-layer ValidationError into plain messages for one field."""
    if hasattr(exc, "error_dict"):
        return [str(message) for errors in exc.error_dict.values() for error in errors for message in error.messages]
    return [str(message) for message in exc.messages]


def _is_text_field(field: serializers.Field) -> bool:
    return isinstance(field, serializers.CharField) and not field.read_only


def _wrong_text_types(fields: dict, data: Any) -> dict[str, list[str]]:
    """Text fields (or lists of text) given a number, boolean, list or object: DRF would quietly turn `5` into "5"."""
    if not isinstance(data, dict):
        return {}
    errors = {}
    for name, field in fields.items():
        value = data.get(name)
        if name not in data or value is None:
            continue
        if _is_text_field(field) and not isinstance(value, str):
            errors[name] = ["Expected text."]
        elif (
            isinstance(field, serializers.ListField)
            and _is_text_field(field.child)
            and isinstance(value, list)
            and not all(isinstance(item, str) for item in value)
        ):
            errors[name] = ["Expected a list of texts."]
    return errors


class ClosedRequestBody:
    """Marks a serializer that refuses request keys it does not declare: its request schema says
    `additionalProperties: false` (see ClosedRequestBodySchema)."""


class StrictFieldsMixin(ClosedRequestBody):
    """Reject request keys the serializer does not declare as writable (a 400 naming each unknown key), and values of
    the wrong JSON type for text fields."""

    def to_internal_value(self, data: Any) -> dict:
        wrong_types = _wrong_text_types(self.fields, data)
        if wrong_types:
            raise serializers.ValidationError(wrong_types)
        return super().to_internal_value(data)

    def validate(self, attrs: dict) -> dict:
        if isinstance(self.initial_data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(self.initial_data) - writable)
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().validate(attrs)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}], "nullable": True})
class ReferenceField(serializers.Field):
    """A team or an agent named by id or by name (docs/api.md); resolved by the service layer's resolver."""

    default_error_messages = {"invalid": "Give an id (number) or a name (text)."}

    def __init__(self, *, resolver, **kwargs: Any) -> None:
        self.resolver = resolver
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, (int, str)) or (isinstance(data, str) and not data.strip()):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 200:
            self.fail("invalid")
        try:
            return self.resolver(data)
        except (DjangoValidationError, OverflowError, ValueError) as exc:
            messages = _messages_of(exc) if isinstance(exc, DjangoValidationError) else ["No such id."]
            raise serializers.ValidationError(messages) from exc

    def to_representation(self, value: Any) -> Any:
        return value.pk


class ClosedRequestBodySchema(OpenApiSerializerExtension):
    """In the OpenAPI schema, a closed serializer's request body says `additionalProperties: false`, as it behaves."""

    target_class = ClosedRequestBody
    match_subclasses = True

    def map_serializer(self, auto_schema, direction) -> dict:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


@extend_schema_field({"type": "object", "additionalProperties": {}})
class JSONObjectField(serializers.JSONField):
    """A JSON object: the schema says so, where a plain JSONField claims any JSON value (null included)."""


@extend_schema_field({"type": "array", "items": {}})
class JSONListField(serializers.JSONField):
    """A JSON list: the schema says so, where a plain JSONField claims any JSON value (null included)."""


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "email", "maxLength": 254}, {"type": "string", "maxLength": 0}]}
)
class OptionalEmailField(serializers.EmailField):
    """An email address or "" (none given): the schema says both, where a plain EmailField claims only the first."""


class StrictPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """A row named by its id: a whole number (or digits), never a float or a boolean that Django would coerce.
    `compiled` (a `CompiledGet` of the queryset's model, for a plain `.all()` queryset) reads the row with a
    statement compiled once per process."""

    def __init__(self, *, compiled: CompiledGet | None = None, **kwargs: Any) -> None:
        self.compiled = compiled
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, (bool, float)) or (isinstance(data, str) and not data.strip().isdigit()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if self.compiled is None:
            return super().to_internal_value(data)
        try:
            return self.compiled.get(data)
        except self.compiled.model.DoesNotExist:
            self.fail("does_not_exist", pk_value=data)
        except (TypeError, ValueError):
            self.fail("incorrect_type", data_type=type(data).__name__)


# Contacts ---------------------------------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    """A contact as clients read it."""

    email = OptionalEmailField(read_only=True)

    class Meta:
        model = Contact
        fields = ["id", "name", "email", "phone", "segment", "language", "attributes", "created_at", "updated_at"]
        read_only_fields = fields


class ContactWriteSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """POST/PUT/PATCH body of a contact. On PATCH, `attributes` is a patch: keys merge, a null value removes a key."""

    email = OptionalEmailField(max_length=254, allow_blank=True, required=False)
    phone = serializers.CharField(
        max_length=40, allow_blank=True, required=False, help_text=_("International E.164 form, e.g. +14155550123.")
    )
    attributes = JSONObjectField(required=False, help_text=_("An object; on PATCH keys merge and null removes."))

    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "segment", "language", "attributes"]

    def validate_phone(self, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return normalize_e164(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_messages_of(exc)) from exc

    def validate_attributes(self, value: Any) -> dict:
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Attributes are a JSON object."))
        if len(json.dumps(value)) > MAX_ATTRIBUTES_BYTES:
            raise serializers.ValidationError(
                _("Attributes take at most %(MAX_ATTRIBUTES_BYTES)s bytes of JSON.")
                % {"MAX_ATTRIBUTES_BYTES": MAX_ATTRIBUTES_BYTES}
            )
        return value

    def to_representation(self, instance: Contact) -> dict:
        return ContactSerializer(instance, context=self.context).data


# Teams ------------------------------------------------------------------------------------------------------


class TeamSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A team: read shape plus the writable `name` and `email`; `agents` lists member user ids."""

    email = OptionalEmailField(max_length=254, allow_blank=True, required=False)
    agents = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "email",
            "agents",
            "created_at",
            "auto_assign",
            "strategy",
            "skills_timeout_minutes",
            "reassign_after_minutes",
        ]  # queue: docs/routing.md
        read_only_fields = ["id", "agents", "created_at"]
        extra_kwargs = {
            "skills_timeout_minutes": {"min_value": 0, "max_value": 100_000},
            "reassign_after_minutes": {"min_value": 1, "max_value": 100_000},
        }

    def get_agents(self, team: Team) -> list[int]:
        return [profile.user_id for profile in team.agents.all()]


# Conversations ----------------------------------------------------------------------------------------------


class ConversationSerializer(serializers.ModelSerializer):
    """A conversation as clients read it (docs/api.md); `tags` are names, `contact`/`assignee`/`team` are ids."""

    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, allow_blank=True, read_only=True, help_text=_("Empty until one is set.")
    )

    class Meta:
        model = Conversation
        fields = [
            "id",
            "contact",
            "channel",
            "subject",
            "status",
            "priority",
            "assignee",
            "team",
            "tags",
            "disposition",
            "sentiment",
            "customer_message_count",
            "first_response_at",
            "last_customer_message_at",
            "last_agent_message_at",
            "resolved_at",
            "created_at",
            "updated_at",
            "fields",
            "snoozed_until",
            "merged_into",
            "inbox",
            "required_skills",
            "queued_since",
        ]
        read_only_fields = fields

    # Relations that fields added by other apps read; list views prefetch them (see `add_field`).
    prefetch_lookups: tuple[str, ...] = ("tags",)

    # One instance built per process (`render`): DRF builds a serializer's fields anew for every instance, which cost
    # more than the rendering of a single conversation itself.
    _rendering: ConversationSerializer | None = None
    _instance_renderer: Any = None

    @classmethod
    def render(cls, conversation: Conversation) -> dict:
        """The same dict as `ConversationSerializer(conversation).data`, with the fields built once per process (no
        field of this serializer reads the request context)."""
        if cls._rendering is None or type(cls._rendering) is not cls:
            cls._rendering = cls()
            # The list's row renderer, reading the instance's attributes: the same dict, without DRF's per-field
            # attribute lookups (tests/conversations/api/test_create_response.py compares the two).
            cls._instance_renderer = conversation_rows(cls, cls.page_loaders)
        renderer = cls._instance_renderer
        if renderer is None or type(conversation) is not Conversation:
            return cls._rendering.to_representation(conversation)
        return renderer.render_instance(conversation, cls._rendering.fields)

    # Page loaders of fields added by other apps, for the list read as rows (conversations.api.rows).
    page_loaders: dict[str, Any] = {}

    @classmethod
    def add_field(
        cls, name: str, field: serializers.Field, *, prefetch: str | None = None, page_loader: Any = None
    ) -> None:
        """Add a read-only field from another app (e.g. the SLA app's `sla`); conversations never imports it.
        `page_loader(ids) -> {id: value}` reads the field for a whole list page (without one, the list page goes
        through this serializer)."""
        cls._rendering = None
        cls.page_loaders = {**cls.page_loaders, name: page_loader} if page_loader else cls.page_loaders
        cls._declared_fields[name] = field
        if name not in cls.Meta.fields:
            cls.Meta.fields = cls.Meta.read_only_fields = [*cls.Meta.fields, name]
        if prefetch and prefetch not in cls.prefetch_lookups:
            cls.prefetch_lookups = (*cls.prefetch_lookups, prefetch)


class ConversationCreateSerializer(CheapFieldCopies, StrictFieldsMixin, serializers.Serializer):
    """POST body: open a conversation for a contact; it starts in status `new`."""

    contact = StrictPrimaryKeyField(queryset=Contact.objects.all(), compiled=CompiledGet(Contact))
    channel = serializers.ChoiceField(
        choices=Channel.choices,
        required=False,
        help_text=_("Required unless `inbox` is given (then the inbox's channel)."),
    )
    subject = serializers.CharField(max_length=300, allow_blank=True, required=False, default="")
    priority = serializers.ChoiceField(choices=Priority.choices, required=False, default=Priority.NORMAL)
    team = ReferenceField(
        resolver=selectors.resolve_team, required=False, allow_null=True, default=None, help_text=_("Team id or name.")
    )
    inbox = StrictPrimaryKeyField(
        queryset=Inbox.objects.select_related("team"),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("The inbox (docs/channels.md): its channel, its team by default."),
    )

    def run_validation(self, data: Any = serializers.empty) -> Any:
        """DRF's validation, or for the common body (a contact id, a channel, text and a priority, maybe a team;
        no inbox) the same values without building this serializer's fields for the request. Anything else, and
        any value one of the fields would refuse, goes through DRF (which answers the 400 with its messages)."""
        validated = self._plain_body(data)
        return validated if validated is not None else super().run_validation(data)

    def _plain_body(self, data: Any) -> dict | None:
        """The validated values of a plain body, by the declared fields' own conversions; None when DRF must judge
        (tests/conversations/api/test_create_response.py compares the two on valid and invalid bodies)."""
        declared = self._declared_fields
        if type(data) is not dict or not data.keys() <= _PLAIN_BODY_KEYS or data.get("inbox") is not None:
            return None
        contact, channel = data.get("contact"), data.get("channel")
        subject, priority = data.get("subject", ""), data.get("priority", _DEFAULT)
        if type(contact) is not int or type(subject) is not str:
            return None
        choices = (declared["channel"].choice_strings_to_values, declared["priority"].choice_strings_to_values)
        if type(channel) is not str or channel not in choices[0]:
            return None
        if priority is _DEFAULT:
            priority = declared["priority"].default
        elif type(priority) is str and priority in choices[1]:
            priority = choices[1][priority]
        else:
            return None
        subject = subject.strip()
        try:
            if subject:
                for validator in declared["subject"].validators:
                    validator(subject)
            team = data.get("team")
            if team is not None:
                team = declared["team"].to_internal_value(team)
            contact = declared["contact"].to_internal_value(contact)
        except (serializers.ValidationError, DjangoValidationError):
            return None
        return {
            "contact": contact,
            "channel": choices[0][channel],
            "subject": subject,
            "priority": priority,
            "team": team,
            "inbox": None,
        }

    def validate(self, attrs: dict) -> dict:
        attrs = super().validate(attrs)
        if attrs.get("inbox") is None and not attrs.get("channel"):
            raise serializers.ValidationError({"channel": [_("This field is required.")]})
        if attrs.get("inbox") is not None:
            attrs["channel"] = attrs["inbox"].channel
        return attrs

    def to_representation(self, instance: Conversation) -> dict:
        return ConversationSerializer.render(instance)


_DEFAULT = object()
_PLAIN_BODY_KEYS = frozenset({"contact", "channel", "subject", "priority", "team", "inbox"})


class ConversationUpdateSerializer(StrictFieldsMixin, serializers.Serializer):
    """PATCH body: each key present is applied by its own service function (and records its own event)."""

    status = serializers.ChoiceField(choices=Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    assignee = ReferenceField(
        resolver=selectors.resolve_agent,
        required=False,
        allow_null=True,
        help_text=_("Agent id, username or email; null unassigns."),
    )
    team = ReferenceField(
        resolver=selectors.resolve_team, required=False, allow_null=True, help_text=_("Team id or name; null clears.")
    )
    disposition = serializers.ChoiceField(choices=Disposition.choices, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=services.MAX_TAG_LENGTH),
        required=False,
        max_length=100,
        help_text=_("The complete tag set, by name."),
    )
    fields = JSONObjectField(
        required=False,
        help_text=_(
            'Conversation field values by key, e.g. {"order_id": "A-1"}; '
            "keys left out keep their values, null clears one."
        ),
    )
    required_skills = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        max_length=50,
        help_text=_("Skills an agent needs to take it (docs/routing.md)."),
    )

    def to_representation(self, instance: Conversation) -> dict:
        return ConversationSerializer.render(instance)


# Messages, recordings, tickets, surveys ---------------------------------------------------------------------


class MessageSerializer(serializers.ModelSerializer):
    """A message as clients read it; `email`, `attachments` and `delivery` (docs/channels.md) come from rows the list
    prefetches (`MESSAGE_RELATIONS`), so a page costs the same queries whatever its size."""

    email = serializers.SerializerMethodField()
    attachments = serializers.SerializerMethodField()
    delivery = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id",
            "conversation",
            "sender_type",
            "author",
            "body",
            "internal",
            "buttons",
            "sentiment",
            "created_at",
            "email",
            "attachments",
            "delivery",
        ]
        read_only_fields = fields

    _rendering: MessageSerializer | None = None

    @classmethod
    def render(cls, message: Message, request=None) -> dict:
        """The same dict as `MessageSerializer(message, context={"request": request}).data`, with the fields built
        once per process; only the attachments' URLs read the request, so they are redone with it when there are any."""
        if cls._rendering is None or type(cls._rendering) is not cls:
            cls._rendering = cls()
        data = cls._rendering.to_representation(message)
        if data["attachments"]:
            data["attachments"] = attachments_data(message, request)
        return data

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {key: {"type": "string"} for key in ("message_id", "in_reply_to", "from", "subject")},
        }
    )
    def get_email(self, message: Message) -> dict | None:
        return email_data(message)

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "filename": {"type": "string"},
                    "content_type": {"type": "string"},
                    "size": {"type": "integer"},
                    "url": {"type": "string"},
                },
            },
        }
    )
    def get_attachments(self, message: Message) -> list[dict]:
        return attachments_data(message, self.context.get("request"))

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "status": {"type": "string"},
                "attempts": {"type": "integer"},
                "error": {"type": "string"},
                "sent_at": {"type": "string", "format": "date-time", "nullable": True},
            },
        }
    )
    def get_delivery(self, message: Message) -> dict | None:
        return delivery_data(message)


class MessageCreateSerializer(CheapFieldCopies, StrictFieldsMixin, serializers.Serializer):
    """POST body of a message; agent messages are authored by the requesting user."""

    body = serializers.CharField(max_length=services.MAX_BODY_LENGTH)
    sender_type = serializers.ChoiceField(choices=SenderType.choices)
    internal = serializers.BooleanField(required=False, default=False)
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        required=False,
        write_only=True,
        help_text=_("multipart/form-data only: files to attach (docs/channels.md)."),
    )

    def to_representation(self, instance: Message) -> dict:
        return MessageSerializer.render(instance, self.context.get("request"))


class RecordingSerializer(serializers.ModelSerializer):
    """A recording: upload `file` as multipart; reads give its URL, type and size."""

    file = serializers.FileField(help_text=_("An audio file (audio/*), at most 50 MB."))

    class Meta:
        model = Recording
        fields = ["id", "conversation", "file", "content_type", "size_bytes", "created_at"]
        read_only_fields = ["id", "conversation", "content_type", "size_bytes", "created_at"]

    def validate_file(self, file: Any) -> Any:
        """The bytes must carry an audio signature, whatever content type the client declared."""
        head = file.read(HEADER_BYTES)
        file.seek(0)
        problem = audio_problem(head)
        if problem:
            raise serializers.ValidationError(problem)
        return file


class TicketSerializer(serializers.ModelSerializer):
    """A ticket made by a workflow's `create_ticket` step."""

    class Meta:
        model = Ticket
        fields = ["id", "conversation", "title", "description", "priority", "status", "created_at"]
        read_only_fields = fields


class SurveyAnswerSerializer(StrictFieldsMixin, serializers.Serializer):
    """The one answer a survey takes."""

    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=MAX_SURVEY_COMMENT, allow_blank=True, required=False, default="")


class SurveyResultSerializer(serializers.Serializer):
    """What the public answer endpoint returns."""

    token = serializers.CharField(read_only=True)
    question = serializers.CharField(read_only=True)
    score = serializers.IntegerField(read_only=True)
    comment = serializers.CharField(read_only=True)
    answered_at = serializers.DateTimeField(read_only=True)
