"""Tables of the conversations domain (docs/agents.md) and the domain event outbox.

Models hold fields, constraints and indexes; every change goes through `conversations.services`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from conversations.choices import (
    AgentStatus,
    Channel,
    DeliveryStatus,
    Disposition,
    EmailDirection,
    FieldType,
    InboxChannel,
    Priority,
    RoutingStrategy,
    SenderType,
    Status,
    SurveyChannel,
    TicketStatus,
)
from conversations.phones import validate_e164
from conversations.timefmt import when


class Contact(models.Model):
    name = models.CharField(max_length=200, verbose_name=_("name"))
    email = models.EmailField(blank=True, db_index=True, verbose_name=_("email"))
    phone = models.CharField(
        max_length=20,
        blank=True,
        validators=[validate_e164],
        help_text="E.164, e.g. +14155550123",
        verbose_name=_("phone"),
    )
    segment = models.CharField(max_length=100, blank=True, db_index=True, verbose_name=_("segment"))
    attributes = models.JSONField(
        default=dict, blank=True, help_text=_('Contact "memory", e.g. {"vip": true}'), verbose_name=_("attributes")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the contact's personal data was erased."), verbose_name=_("erased at")
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        help_text=_("The language the contact is answered in, e.g. de or pt-br; empty: the site's."),
        verbose_name=_("language"),
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    email = models.EmailField(
        blank=True, help_text=_("Where team notifications go, besides its members."), verbose_name=_("email")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # Routing queue (SPEC §14): conversations of the team with no assignee wait here and are offered to agents.
    auto_assign = models.BooleanField(
        default=False, help_text=_("Offer waiting conversations to online agents."), verbose_name=_("auto assign")
    )
    strategy = models.CharField(
        max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.LEAST_BUSY, verbose_name=_("strategy")
    )
    skills_timeout_minutes = models.PositiveIntegerField(
        default=10,
        help_text=_("After this long in the queue any online agent of the team may take a conversation."),
        verbose_name=_("skills timeout minutes"),
    )
    reassign_after_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Back to the queue when the assignee has not replied publicly by then (empty: never)."),
        verbose_name=_("reassign after minutes"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentProfile(models.Model):
    """What routing needs to know about an agent (a Django user): teams, capacity, status, skills."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent_profile", verbose_name=_("user")
    )
    teams = models.ManyToManyField(Team, related_name="agents", blank=True, verbose_name=_("teams"))
    capacity = models.PositiveIntegerField(
        default=10, help_text=_("Most open conversations assigned at once."), verbose_name=_("capacity")
    )
    status = models.CharField(
        max_length=10,
        choices=AgentStatus.choices,
        default=AgentStatus.OFFLINE,
        db_index=True,
        help_text=_("Only online agents get conversations from the queue."),
        verbose_name=_("status"),
    )
    skills = models.JSONField(
        default=list, blank=True, help_text=_('Skill names, e.g. ["german", "billing"].'), verbose_name=_("skills")
    )
    last_assigned_at = models.DateTimeField(
        null=True, blank=True, help_text=_("For round-robin routing."), verbose_name=_("last assigned at")
    )

    class Meta:
        verbose_name_plural = _("agent profiles")
        verbose_name = _("agent")

    def __str__(self) -> str:
        return self.user.get_username()


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Inbox(models.Model):
    """Where a channel meets the outside (email and API channels): an email address read over IMAP (or fed by the
    inbound endpoint) and answered over SMTP, or an API channel whose agents' answers are POSTed to a callback.

    Passwords and the callback secret live sealed in `secrets_encrypted` (the integrations' encryption); the inbound
    token is kept only as its SHA-256 digest, shown once when the inbox is made.
    """

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    channel = models.CharField(max_length=10, choices=InboxChannel.choices, verbose_name=_("channel"))
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="inboxes", verbose_name=_("team")
    )
    address = models.EmailField(
        blank=True, help_text=_("The support address mail is sent from (email inboxes)."), verbose_name=_("address")
    )
    imap = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("host, port, username, ssl, folder (no password)."),
        verbose_name=_("imap"),
    )
    smtp = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("host, port, username, starttls (no password); empty: the project's EMAIL_* settings."),
        verbose_name=_("smtp"),
    )
    secrets_encrypted = models.TextField(
        blank=True, help_text=_("Sealed IMAP/SMTP passwords and callback secret."), verbose_name=_("secrets encrypted")
    )
    callback_url = models.URLField(
        max_length=500,
        blank=True,
        help_text=_("API inboxes: where answers are POSTed."),
        verbose_name=_("callback url"),
    )
    inbound_token_digest = models.CharField(
        max_length=64, blank=True, db_index=True, verbose_name=_("inbound token digest")
    )
    active = models.BooleanField(default=True, verbose_name=_("active"))
    last_polled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last polled at"))
    last_poll_error = models.CharField(max_length=500, blank=True, verbose_name=_("last poll error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("inbox")
        ordering = ["name"]
        verbose_name_plural = _("inboxes")

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    # `contact`, `assignee`, `team` and `created_at` have no single-column index: each leads a composite one in Meta
    # (conv_contact_created, conv_assignee_status, conv_team_status, conv_created) that serves the same lookups, and
    # every index is one more page a new conversation writes while it holds SQLite's write lock (docs/operations.md).
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="conversations", verbose_name=_("contact"), db_index=False
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, verbose_name=_("channel"))
    subject = models.CharField(max_length=300, blank=True, verbose_name=_("subject"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, verbose_name=_("status"))
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.NORMAL, verbose_name=_("priority")
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_conversations",
        verbose_name=_("assignee"),
        db_index=False,
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversations",
        verbose_name=_("team"),
        db_index=False,
    )
    inbox = models.ForeignKey(
        Inbox, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations", verbose_name=_("inbox")
    )
    tags = models.ManyToManyField(Tag, related_name="conversations", blank=True, verbose_name=_("tags"))
    disposition = models.CharField(
        max_length=40, choices=Disposition.choices, blank=True, verbose_name=_("disposition")
    )
    sentiment = models.FloatField(
        null=True, blank=True, help_text=_("Average sentiment of customer messages, 0..1."), verbose_name=_("sentiment")
    )
    customer_message_count = models.PositiveIntegerField(default=0, verbose_name=_("customer message count"))
    first_response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("first response at"))
    last_customer_message_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last customer message at"))
    last_agent_message_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last agent message at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When its personal data was erased (GDPR)."), verbose_name=_("erased at")
    )
    fields = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Values of the conversation fields, by key, e.g. {"order_id": "A-1"} (SPEC §15).'),
        verbose_name=_("fields"),
    )
    required_skills = models.JSONField(
        default=list, blank=True, help_text=_("Skills an agent needs to take it."), verbose_name=_("required skills")
    )
    queued_since = models.DateTimeField(
        null=True, blank=True, help_text=_("Waiting in its team's queue since."), verbose_name=_("queued since")
    )
    assigned_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the current assignee got it."), verbose_name=_("assigned at")
    )
    last_agent_reply_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Last public message of an agent."), verbose_name=_("last agent reply at")
    )
    handed_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The agent it was last taken back from: the queue offers it to someone else."),
        verbose_name=_("handed back by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    snoozed_until = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Pending until then, or until the customer writes (SPEC §17)."),
        verbose_name=_("snoozed until"),
    )
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        help_text=_("The conversation this one was merged into (it is closed)."),
        verbose_name=_("merged into"),
    )

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="conv_status_created"),
            models.Index(fields=["channel", "-created_at"], name="conv_channel_created"),
            models.Index(fields=["priority", "-created_at"], name="conv_priority_created"),
            models.Index(fields=["assignee", "status"], name="conv_assignee_status"),
            models.Index(fields=["team", "status"], name="conv_team_status"),
            models.Index(fields=["contact", "-created_at"], name="conv_contact_created"),
            models.Index(
                fields=["team", "queued_since"], name="conv_team_queue", condition=Q(queued_since__isnull=False)
            ),
            # Reports and the export select a period of creation (docs/reports.md); also the list's default order.
            models.Index(fields=["created_at", "id"], name="conv_created"),
            # The report's period scan reads every group key and the first response from the index alone.
            models.Index(
                fields=["created_at", "team", "channel", "assignee", "first_response_at", "id"], name="conv_report"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}".strip()


class Message(models.Model):
    # No single-column index on `conversation`: msg_conversation_created leads with it.
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
        db_index=False,
    )
    sender_type = models.CharField(max_length=10, choices=SenderType.choices, verbose_name=_("sender type"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("author")
    )
    body = models.TextField(verbose_name=_("body"))
    internal = models.BooleanField(
        default=False, help_text=_("An internal note, not shown to the customer."), verbose_name=_("internal")
    )
    buttons = models.JSONField(default=list, blank=True, verbose_name=_("buttons"))
    sentiment = models.FloatField(null=True, blank=True, verbose_name=_("sentiment"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="msg_conversation_created")]

    def __str__(self) -> str:
        return f"{self.sender_type}: {self.body[:60]}"


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    """Files sit under a random folder so a name never collides and a path never guesses another file."""
    return f"attachments/{uuid.uuid4().hex}/{filename[-100:]}"


class Attachment(models.Model):
    """A file on a message (email and API channels): uploaded with it, or a part of an inbound mail; stored through
    Django's storage API (`STORAGES["default"]`), streamed only to users who may see the conversation."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    file = models.FileField(upload_to=attachment_upload_to, max_length=300, verbose_name=_("file"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    content_type = models.CharField(max_length=150, blank=True, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    content_id = models.CharField(
        max_length=300, blank=True, help_text=_("Inline parts of a mail (cid:)."), verbose_name=_("content id")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EmailHeaders(models.Model):
    """The mail side of a message (email and API channels): the headers threading needs, the addresses, the full text
    with its quoted history and the raw source as received. `message_id_header` is unique per inbox, so a mail is
    imported once."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="email", verbose_name=_("message"))
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="emails", verbose_name=_("inbox"))
    direction = models.CharField(max_length=10, choices=EmailDirection.choices, verbose_name=_("direction"))
    message_id_header = models.CharField(
        max_length=500,
        help_text=_("The mail's Message-ID, angle brackets included."),
        verbose_name=_("message id header"),
    )
    in_reply_to = models.CharField(max_length=500, blank=True, verbose_name=_("in reply to"))
    references = models.TextField(blank=True, verbose_name=_("references"))
    from_name = models.CharField(max_length=300, blank=True, verbose_name=_("from name"))
    from_address = models.CharField(max_length=320, blank=True, verbose_name=_("from address"))
    to = models.JSONField(default=list, blank=True, verbose_name=_("to"))
    cc = models.JSONField(default=list, blank=True, verbose_name=_("cc"))
    subject = models.CharField(max_length=998, blank=True, verbose_name=_("subject"))
    full_text = models.TextField(
        blank=True, help_text=_("The text with its quoted history."), verbose_name=_("full text")
    )
    raw = models.BinaryField(
        blank=True, default=bytes, help_text=_("The source as received (inbound)."), verbose_name=_("raw")
    )
    auto_submitted = models.BooleanField(
        default=False, help_text=_("An auto-reply or a bounce."), verbose_name=_("auto submitted")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("email headers")
        verbose_name_plural = _("email headers")
        constraints = [models.UniqueConstraint(fields=["inbox", "message_id_header"], name="email_unique_message_id")]
        indexes = [models.Index(fields=["message_id_header"], name="email_message_id")]

    def __str__(self) -> str:
        return self.message_id_header


class Delivery(models.Model):
    """One public answer on its way out (email and API channels): by mail or to an API inbox's callback. The row is
    written with the message, so a delivery is never lost; `external_id` (the Message-ID or webhook-id) is fixed before
    the first attempt, so a retry after a crash never sends twice under two ids. Workers claim due rows by
    `lease_until`."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, related_name="delivery", verbose_name=_("message")
    )
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("inbox"))
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED, verbose_name=_("status")
    )
    external_id = models.CharField(
        max_length=500, help_text=_("Message-ID (email) or webhook-id (API channel)."), verbose_name=_("external id")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due", condition=Q(status="queued")),
        ]

    def __str__(self) -> str:
        return f"Delivery of message {self.message_id}: {self.status}"


def recording_upload_to(instance: "Recording", filename: str) -> str:
    return f"recordings/{instance.conversation_id}/{uuid.uuid4().hex}-{filename[-80:]}"


class Recording(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="recordings", verbose_name=_("conversation")
    )
    file = models.FileField(upload_to=recording_upload_to, verbose_name=_("file"))
    content_type = models.CharField(max_length=100, blank=True, verbose_name=_("content type"))
    size_bytes = models.PositiveIntegerField(default=0, verbose_name=_("size bytes"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("recording")
        verbose_name_plural = _("recordings")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Recording {self.pk} of conversation {self.conversation_id}"


class Transcript(models.Model):
    recording = models.ForeignKey(
        Recording, on_delete=models.CASCADE, related_name="transcripts", verbose_name=_("recording")
    )
    text = models.TextField(blank=True, verbose_name=_("text"))
    language = models.CharField(max_length=20, default="en-US", verbose_name=_("language"))
    backend = models.CharField(max_length=50, blank=True, verbose_name=_("backend"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    def __str__(self) -> str:
        return self.text[:60]

    class Meta:
        verbose_name = _("transcript")
        verbose_name_plural = _("transcripts")


class Ticket(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="tickets", verbose_name=_("conversation")
    )
    title = models.CharField(max_length=300, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.NORMAL, verbose_name=_("priority")
    )
    status = models.CharField(
        max_length=10, choices=TicketStatus.choices, default=TicketStatus.OPEN, verbose_name=_("status")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


def new_survey_token() -> str:
    return uuid.uuid4().hex


class Survey(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("conversation")
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("contact"))
    token = models.CharField(max_length=64, unique=True, default=new_survey_token, verbose_name=_("token"))
    question = models.CharField(max_length=500, verbose_name=_("question"))
    via = models.CharField(
        max_length=10, choices=SurveyChannel.choices, default=SurveyChannel.EMAIL, verbose_name=_("via")
    )
    score = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("score"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    sent_at = models.DateTimeField(auto_now_add=True, verbose_name=_("sent at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))

    def __str__(self) -> str:
        return _("Survey %(token)s (%(score)s)") % {"token": self.token[:8], "score": self.score or _("unanswered")}

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")


class Event(models.Model):
    """A domain event, written in the transaction of the change it records (the transactional outbox).

    `dispatched_at` stays empty until the dispatcher has handled the event, so a sweep can re-enqueue events whose
    queue message was lost.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("id"))
    type = models.CharField(max_length=50, db_index=True, verbose_name=_("type"))
    occurred_at = models.DateTimeField(db_index=True, verbose_name=_("occurred at"))
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("conversation"),
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="events", verbose_name=_("contact")
    )
    payload = models.JSONField(default=dict, blank=True, verbose_name=_("payload"))
    depth = models.PositiveSmallIntegerField(default=0, verbose_name=_("depth"))
    dispatched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("dispatched at"))
    dispatch_note = models.CharField(max_length=300, blank=True, verbose_name=_("dispatch note"))
    # A draining worker claims events before it reads and matches them (workflows/engine/claims.py), so other
    # workers skip them until the claim expires.
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["occurred_at"]
        indexes = [
            models.Index(fields=["occurred_at"], name="event_undispatched", condition=Q(dispatched_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.type} @ {when(self.occurred_at)}"  # the viewer's zone, labelled (conversations/timefmt.py)


class UserPreference(models.Model):
    """A person's own settings ("My preferences" in admin): the time zone admin shows times in (empty: the site's
    TIME_ZONE)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference", verbose_name=_("user")
    )
    time_zone = models.CharField(
        max_length=64, blank=True, help_text=_("Empty: the site's time zone."), verbose_name=_("time zone")
    )
    language = models.CharField(
        max_length=10, blank=True, help_text=_("Empty: the browser's language."), verbose_name=_("language")
    )

    class Meta:
        verbose_name = _("my preferences")
        verbose_name_plural = _("my preferences")

    def __str__(self) -> str:
        return _("Preferences of %(user)s") % {"user": self.user}


class ConversationField(models.Model):
    """The definition of a typed conversation field (docs/managers.md): its values live in
    `Conversation.fields[key]`."""

    key = models.SlugField(
        max_length=64,
        unique=True,
        help_text=_("Letters, digits and underscores, e.g. order_id."),
        verbose_name=_("key"),
    )
    label = models.CharField(max_length=200, verbose_name=_("label"))
    type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.TEXT, verbose_name=_("type"))
    options = models.JSONField(
        default=list, blank=True, help_text=_("For a select field: the allowed values."), verbose_name=_("options")
    )
    required_on_resolve = models.BooleanField(
        default=False,
        help_text=_("A conversation cannot be resolved while this field is empty."),
        verbose_name=_("required on resolve"),
    )
    position = models.IntegerField(
        default=0, help_text=_("Lower first, in forms and columns."), verbose_name=_("position")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("conversation field")
        verbose_name_plural = _("conversation fields")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"


# The agent's workspace (SPEC §17): saved views, links, presence, notifications ---------------------------------


class ViewScope(models.TextChoices):
    ME = "me", _("Only me")
    TEAM = "team", _("A team")
    EVERYONE = "everyone", _("Everyone")


class SavedView(models.Model):
    """A named set of conversation list filters (§8 query keys), personal or shared with a team or everyone."""

    name = models.CharField(max_length=100, verbose_name=_("name"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("owner")
    )
    filters = models.JSONField(
        default=dict, blank=True, help_text=_('e.g. {"status": "open", "tag": "vip"}'), verbose_name=_("filters")
    )
    scope = models.CharField(max_length=10, choices=ViewScope.choices, default=ViewScope.ME, verbose_name=_("scope"))
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views", verbose_name=_("team")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["scope", "team"], name="savedview_scope_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def shared_with(self) -> str:
        """The API's form: `me`, `team:<id>` or `everyone`."""
        return f"team:{self.team_id}" if self.scope == ViewScope.TEAM else self.scope


class LinkKind(models.TextChoices):
    PARENT = "parent", _("Parent")
    CHILD = "child", _("Child")
    RELATED = "related", _("Related")


class ConversationLink(models.Model):
    """`other` is `kind` to `conversation` (kind `child`: other is conversation's child). One row per pair."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="links_out", verbose_name=_("conversation")
    )
    other = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="links_in", verbose_name=_("other"))
    kind = models.CharField(max_length=10, choices=LinkKind.choices, verbose_name=_("kind"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("conversation link")
        verbose_name_plural = _("conversation links")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "other"], name="link_unique_pair"),
            models.CheckConstraint(condition=~Q(conversation=models.F("other")), name="link_not_self"),
        ]

    def __str__(self) -> str:
        return f"#{self.other_id} is {self.kind} of #{self.conversation_id}"


class PresenceState(models.TextChoices):
    VIEWING = "viewing", _("Viewing")
    REPLYING = "replying", _("Replying")


class Presence(models.Model):
    """The last heartbeat of one person on one conversation (upserted; read for the last 30 seconds)."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="presences", verbose_name=_("conversation")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    state = models.CharField(max_length=10, choices=PresenceState.choices, verbose_name=_("state"))
    seen_at = models.DateTimeField(verbose_name=_("seen at"))

    class Meta:
        verbose_name = _("presence")
        verbose_name_plural = _("presences")
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="presence_one_per_user")]
        indexes = [models.Index(fields=["conversation", "seen_at"], name="presence_conv_seen")]


class Notification(models.Model):
    """Something an agent should see in admin (an @mention in a note); read once opened."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="helpdesk_notifications",
        verbose_name=_("user"),
    )
    kind = models.CharField(max_length=20, default="mention", verbose_name=_("kind"))
    conversation = models.ForeignKey(
        Conversation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("conversation"),
    )
    message = models.ForeignKey(
        Message,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("message"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    text = models.CharField(max_length=500, verbose_name=_("text"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="notification_once_per_message")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.text
