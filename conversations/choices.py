"""Enumerations of the support domain (docs/agents.md), defined once and used by models, API, admin and validators."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    LIVE_CHAT = "live_chat", _("Live chat")
    WHATSAPP = "whatsapp", _("WhatsApp")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    WEB = "web", _("Web")
    API = "api", _("API")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class SenderType(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    AI = "ai", _("AI")
    SYSTEM = "system", _("System")


class Disposition(models.TextChoices):
    PROBLEM_SOLVED = "problem_solved", _("Problem solved")
    ANSWER_PROVIDED = "answer_provided", _("Answer provided")
    SPAM = "spam", _("Spam")
    NEED_MORE_INFORMATION = "need_more_information", _("Need more information")
    NEEDS_APPROVAL = "needs_approval", _("Needs approval")
    APPROVED = "approved", _("Approved")
    HANDLED_BY_OTHER_ACTION = "handled_by_other_action", _("Handled by other action")


# Final dispositions close the conversation (docs/agents.md); the others describe a case that is still open.
FINAL_DISPOSITIONS = frozenset(
    {
        Disposition.PROBLEM_SOLVED,
        Disposition.ANSWER_PROVIDED,
        Disposition.SPAM,
        Disposition.NEED_MORE_INFORMATION,
        Disposition.HANDLED_BY_OTHER_ACTION,
    }
)


# Condition operators (docs/managers.md) in words, for every condition builder and summary (workflows and SLA policies).
CONDITION_OPERATOR_LABELS = {
    "eq": _("is"),
    "neq": _("is not"),
    "contains": _("contains"),
    "not_contains": _("does not contain"),
    "starts_with": _("starts with"),
    "ends_with": _("ends with"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "is_set": _("is set"),
    "is_not_set": _("is not set"),
    "matches": _("matches the pattern"),
    "within_business_hours": _("is within business hours of"),
    "outside_business_hours": _("is outside business hours of"),
}


class EventType(models.TextChoices):
    CONVERSATION_CREATED = "conversation.created"
    MESSAGE_CREATED = "message.created"
    STATUS_CHANGED = "conversation.status_changed"
    ASSIGNED = "conversation.assigned"
    PRIORITY_CHANGED = "conversation.priority_changed"
    TAGS_CHANGED = "conversation.tags_changed"
    DISPOSITION_SET = "conversation.disposition_set"
    SENTIMENT_CROSSED = "conversation.sentiment_crossed"
    CONTACT_CREATED = "contact.created"
    CONTACT_UPDATED = "contact.updated"
    CONTACT_ERASED = "contact.erased"
    RECORDING_UPLOADED = "recording.uploaded"
    TICKET_CREATED = "ticket.created"
    SURVEY_SENT = "survey.sent"
    SURVEY_ANSWERED = "survey.answered"
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"
    SCHEDULE = "schedule"
    SCHEDULED_EVENT_FIRED = "scheduled_event.fired"
    MANUAL = "manual"
    FIELDS_CHANGED = "conversation.fields_changed"
    SNOOZED = "conversation.snoozed"
    UNSNOOZED = "conversation.unsnoozed"
    MERGED = "conversation.merged"
    LINKED = "conversation.linked"
    UNLINKED = "conversation.unlinked"


class SurveyChannel(models.TextChoices):
    EMAIL = "email", pgettext_lazy("channel", "Email")
    SMS = "sms", _("SMS")
    MESSAGE = "message", _("Message")


class TicketStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class InboxChannel(models.TextChoices):
    """The channels an inbox connects to the outside (email and API channels); other channels work over the API only."""

    EMAIL = "email", pgettext_lazy("channel", "Email")
    API = "api", _("API")


class EmailDirection(models.TextChoices):
    INBOUND = "inbound", _("Received")
    OUTBOUND = "outbound", _("Sent")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class FieldType(models.TextChoices):
    """The value types of a conversation field definition (docs/managers.md)."""

    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    SELECT = "select", _("Select")
    CHECKBOX = "checkbox", _("Checkbox")


class AgentStatus(models.TextChoices):
    """An agent's presence for routing (docs/routing.md): only `online` agents get conversations from a queue."""

    ONLINE = "online", _("Online")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class RoutingStrategy(models.TextChoices):
    """How a team's queue picks among the agents who may take a conversation."""

    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_BUSY = "least_busy", _("Least busy")


class AssignReason(models.TextChoices):
    """Why the queue assigned or handed back a conversation (`reason` of `conversation.assigned`, docs/routing.md)."""

    QUEUE = "queue", _("From the queue")
    SKILLS_TIMEOUT = "skills_timeout", _("From the queue, skills relaxed after the timeout")
    AGENT_OFFLINE = "agent_offline", _("Handed back: the agent went offline")
    NO_REPLY = "no_reply", _("Handed back: no reply in time")
