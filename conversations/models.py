"""Tables of the conversations domain (SPEC §2) and the domain event outbox.

Models hold fields, constraints and indexes; every change goes through `conversations.services`.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from conversations.choices import (
    AgentStatus,
    Channel,
    Disposition,
    Priority,
    RoutingStrategy,
    SenderType,
    Status,
    SurveyChannel,
    TicketStatus,
)
from conversations.phones import validate_e164


class Contact(models.Model):
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, db_index=True)
    phone = models.CharField(max_length=20, blank=True, validators=[validate_e164], help_text="E.164, e.g. +14155550123")
    segment = models.CharField(max_length=100, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True, help_text='Contact "memory", e.g. {"vip": true}')
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    email = models.EmailField(blank=True, help_text="Where team notifications go, besides its members.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Routing queue (SPEC §14): conversations of the team with no assignee wait here and are offered to agents.
    auto_assign = models.BooleanField(default=False, help_text="Offer waiting conversations to online agents.")
    strategy = models.CharField(max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.LEAST_BUSY)
    skills_timeout_minutes = models.PositiveIntegerField(
        default=10, help_text="After this long in the queue any online agent of the team may take a conversation.")
    reassign_after_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Back to the queue when the assignee has not replied publicly by then "
                                         "(empty: never).")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """What routing needs to know about an agent (a Django user): teams, capacity, status, skills."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile")
    teams = models.ManyToManyField(Team, related_name="agents", blank=True)
    capacity = models.PositiveIntegerField(default=10, help_text="Most open conversations assigned at once.")
    status = models.CharField(max_length=10, choices=AgentStatus.choices, default=AgentStatus.OFFLINE,
                              db_index=True, help_text="Only online agents get conversations from the queue.")
    skills = models.JSONField(default=list, blank=True, help_text='Skill names, e.g. ["german", "billing"].')
    last_assigned_at = models.DateTimeField(null=True, blank=True, help_text="For round-robin routing.")

    class Meta:
        verbose_name = "agent"

    def __str__(self) -> str:
        return self.user.get_username()


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    subject = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_conversations"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    tags = models.ManyToManyField(Tag, related_name="conversations", blank=True)
    disposition = models.CharField(max_length=40, choices=Disposition.choices, blank=True)
    sentiment = models.FloatField(null=True, blank=True, help_text="Average sentiment of customer messages, 0..1.")
    customer_message_count = models.PositiveIntegerField(default=0)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    required_skills = models.JSONField(default=list, blank=True, help_text="Skills an agent needs to take it.")
    queued_since = models.DateTimeField(null=True, blank=True, help_text="Waiting in its team's queue since.")
    assigned_at = models.DateTimeField(null=True, blank=True, help_text="When the current assignee got it.")
    last_agent_reply_at = models.DateTimeField(null=True, blank=True, help_text="Last public message of an agent.")
    handed_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The agent it was last taken back from: the queue offers it to someone else.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="conv_status_created"),
            models.Index(fields=["channel", "-created_at"], name="conv_channel_created"),
            models.Index(fields=["priority", "-created_at"], name="conv_priority_created"),
            models.Index(fields=["assignee", "status"], name="conv_assignee_status"),
            models.Index(fields=["team", "status"], name="conv_team_status"),
            models.Index(fields=["contact", "-created_at"], name="conv_contact_created"),
            models.Index(fields=["team", "queued_since"], name="conv_team_queue",
                         condition=Q(queued_since__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}".strip()


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    sender_type = models.CharField(max_length=10, choices=SenderType.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    body = models.TextField()
    internal = models.BooleanField(default=False, help_text="An internal note, not shown to the customer.")
    buttons = models.JSONField(default=list, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="msg_conversation_created")]

    def __str__(self) -> str:
        return f"{self.sender_type}: {self.body[:60]}"


def recording_upload_to(instance: "Recording", filename: str) -> str:
    return f"recordings/{instance.conversation_id}/{uuid.uuid4().hex}-{filename[-80:]}"


class Recording(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="recordings")
    file = models.FileField(upload_to=recording_upload_to)
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Recording {self.pk} of conversation {self.conversation_id}"


class Transcript(models.Model):
    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="transcripts")
    text = models.TextField(blank=True)
    language = models.CharField(max_length=20, default="en-US")
    backend = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.text[:60]


class Ticket(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="tickets")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


def new_survey_token() -> str:
    return uuid.uuid4().hex


class Survey(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="surveys")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="surveys")
    token = models.CharField(max_length=64, unique=True, default=new_survey_token)
    question = models.CharField(max_length=500)
    via = models.CharField(max_length=10, choices=SurveyChannel.choices, default=SurveyChannel.EMAIL)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Survey {self.token[:8]} ({self.score or 'unanswered'})"


class Event(models.Model):
    """A domain event, written in the transaction of the change it records (the transactional outbox).

    `dispatched_at` stays empty until the dispatcher has handled the event, so a sweep can re-enqueue events whose
    queue message was lost.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=50, db_index=True)
    occurred_at = models.DateTimeField(db_index=True)
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    payload = models.JSONField(default=dict, blank=True)
    depth = models.PositiveSmallIntegerField(default=0)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["occurred_at"]
        indexes = [
            models.Index(
                fields=["occurred_at"], name="event_undispatched", condition=Q(dispatched_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class UserPreference(models.Model):
    """A person's own settings ("My preferences" in admin): the time zone admin shows times in (empty: the site's
    TIME_ZONE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the site's time zone.")

    class Meta:
        verbose_name = "my preferences"
        verbose_name_plural = "my preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
