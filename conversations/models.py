"""Tables of the conversations domain (docs/agents.md) and the domain event outbox.

Models hold fields, constraints and indexes; every change goes through `conversations.services`.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from conversations.choices import (
    AgentStatus,
    Channel,
    DeliveryStatus,
    Disposition,
    EmailDirection,
    InboxChannel,
    FieldType,
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
    erased_at = models.DateTimeField(null=True, blank=True, help_text="When the contact's personal data was erased.")
    language = models.CharField(max_length=10, blank=True, help_text="The language the contact is answered in, "
                                                                      "e.g. de or pt-br; empty: the site's.")

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


class Inbox(models.Model):
    """Where a channel meets the outside (email and API channels): an email address read over IMAP (or fed by the
    inbound endpoint) and answered over SMTP, or an API channel whose agents' answers are POSTed to a callback.

    Passwords and the callback secret live sealed in `secrets_encrypted` (the integrations' encryption); the inbound
    token is kept only as its SHA-256 digest, shown once when the inbox is made.
    """

    name = models.CharField(max_length=100, unique=True)
    channel = models.CharField(max_length=10, choices=InboxChannel.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="inboxes")
    address = models.EmailField(blank=True, help_text="The support address mail is sent from (email inboxes).")
    imap = models.JSONField(default=dict, blank=True, help_text="host, port, username, ssl, folder (no password).")
    smtp = models.JSONField(default=dict, blank=True, help_text="host, port, username, starttls (no password); "
                                                                "empty: the project's EMAIL_* settings.")
    secrets_encrypted = models.TextField(blank=True, help_text="Sealed IMAP/SMTP passwords and callback secret.")
    callback_url = models.URLField(max_length=500, blank=True, help_text="API inboxes: where answers are POSTed.")
    inbound_token_digest = models.CharField(max_length=64, blank=True, db_index=True)
    active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_poll_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "inboxes"

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
    inbox = models.ForeignKey(Inbox, null=True, blank=True, on_delete=models.PROTECT, related_name="conversations")
    tags = models.ManyToManyField(Tag, related_name="conversations", blank=True)
    disposition = models.CharField(max_length=40, choices=Disposition.choices, blank=True)
    sentiment = models.FloatField(null=True, blank=True, help_text="Average sentiment of customer messages, 0..1.")
    customer_message_count = models.PositiveIntegerField(default=0)
    first_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_agent_message_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True, help_text="When its personal data was erased (GDPR).")
    fields = models.JSONField(default=dict, blank=True, help_text='Values of the conversation fields, by key, '
                                                                  'e.g. {"order_id": "A-1"} (SPEC §15).')
    required_skills = models.JSONField(default=list, blank=True, help_text="Skills an agent needs to take it.")
    queued_since = models.DateTimeField(null=True, blank=True, help_text="Waiting in its team's queue since.")
    assigned_at = models.DateTimeField(null=True, blank=True, help_text="When the current assignee got it.")
    last_agent_reply_at = models.DateTimeField(null=True, blank=True, help_text="Last public message of an agent.")
    handed_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The agent it was last taken back from: the queue offers it to someone else.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    snoozed_until = models.DateTimeField(null=True, blank=True, db_index=True,
                                         help_text="Pending until then, or until the customer writes (SPEC §17).")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from",
                                    help_text="The conversation this one was merged into (it is closed).")

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


def attachment_upload_to(instance: "Attachment", filename: str) -> str:
    """Files sit under a random folder so a name never collides and a path never guesses another file."""
    return f"attachments/{uuid.uuid4().hex}/{filename[-100:]}"


class Attachment(models.Model):
    """A file on a message (email and API channels): uploaded with it, or a part of an inbound mail; stored through
    Django's storage API (`STORAGES["default"]`), streamed only to users who may see the conversation."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_upload_to, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=150, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    content_id = models.CharField(max_length=300, blank=True, help_text="Inline parts of a mail (cid:).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.filename


class EmailHeaders(models.Model):
    """The mail side of a message (email and API channels): the headers threading needs, the addresses, the full text
    with its quoted history and the raw source as received. `message_id_header` is unique per inbox, so a mail is
    imported once."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="email")
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="emails")
    direction = models.CharField(max_length=10, choices=EmailDirection.choices)
    message_id_header = models.CharField(max_length=500, help_text="The mail's Message-ID, angle brackets included.")
    in_reply_to = models.CharField(max_length=500, blank=True)
    references = models.TextField(blank=True)
    from_name = models.CharField(max_length=300, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    to = models.JSONField(default=list, blank=True)
    cc = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    full_text = models.TextField(blank=True, help_text="The text with its quoted history.")
    raw = models.BinaryField(blank=True, default=bytes, help_text="The source as received (inbound).")
    auto_submitted = models.BooleanField(default=False, help_text="An auto-reply or a bounce.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "email headers"
        verbose_name_plural = "email headers"
        constraints = [models.UniqueConstraint(fields=["inbox", "message_id_header"], name="email_unique_message_id")]
        indexes = [models.Index(fields=["message_id_header"], name="email_message_id")]

    def __str__(self) -> str:
        return self.message_id_header


class Delivery(models.Model):
    """One public answer on its way out (email and API channels): by mail or to an API inbox's callback. The row is
    written with the message, so a delivery is never lost; `external_id` (the Message-ID or webhook-id) is fixed before
    the first attempt, so a retry after a crash never sends twice under two ids. Workers claim due rows by
    `lease_until`."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="delivery")
    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    external_id = models.CharField(max_length=500, help_text="Message-ID (email) or webhook-id (API channel).")
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["next_attempt_at"], name="delivery_due",
                         condition=Q(status="queued")),
        ]

    def __str__(self) -> str:
        return f"Delivery of message {self.message_id}: {self.status}"


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
    # A draining worker claims events before it reads and matches them (workflows/engine/claims.py), so other
    # workers skip them until the claim expires.
    claimed_until = models.DateTimeField(null=True, blank=True)

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
    language = models.CharField(max_length=10, blank=True, help_text="Empty: the browser's language.")

    class Meta:
        verbose_name = "my preferences"
        verbose_name_plural = "my preferences"

    def __str__(self) -> str:
        return f"Preferences of {self.user}"


class ConversationField(models.Model):
    """The definition of a typed conversation field (docs/managers.md): its values live in
    `Conversation.fields[key]`."""

    key = models.SlugField(max_length=64, unique=True, help_text="Letters, digits and underscores, e.g. order_id.")
    label = models.CharField(max_length=200)
    type = models.CharField(max_length=10, choices=FieldType.choices, default=FieldType.TEXT)
    options = models.JSONField(default=list, blank=True, help_text="For a select field: the allowed values.")
    required_on_resolve = models.BooleanField(default=False, help_text="A conversation cannot be resolved while "
                                                                       "this field is empty.")
    position = models.IntegerField(default=0, help_text="Lower first, in forms and columns.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"
# The agent's workspace (SPEC §17): saved views, links, presence, notifications ---------------------------------


class ViewScope(models.TextChoices):
    ME = "me", "Only me"
    TEAM = "team", "A team"
    EVERYONE = "everyone", "Everyone"


class SavedView(models.Model):
    """A named set of conversation list filters (§8 query keys), personal or shared with a team or everyone."""

    name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    filters = models.JSONField(default=dict, blank=True, help_text='e.g. {"status": "open", "tag": "vip"}')
    scope = models.CharField(max_length=10, choices=ViewScope.choices, default=ViewScope.ME)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["scope", "team"], name="savedview_scope_team")]

    def __str__(self) -> str:
        return self.name

    @property
    def shared_with(self) -> str:
        """The API's form: `me`, `team:<id>` or `everyone`."""
        return f"team:{self.team_id}" if self.scope == ViewScope.TEAM else self.scope


class LinkKind(models.TextChoices):
    PARENT = "parent", "Parent"
    CHILD = "child", "Child"
    RELATED = "related", "Related"


class ConversationLink(models.Model):
    """`other` is `kind` to `conversation` (kind `child`: other is conversation's child). One row per pair."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="links_out")
    other = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "other"], name="link_unique_pair"),
            models.CheckConstraint(condition=~Q(conversation=models.F("other")), name="link_not_self"),
        ]

    def __str__(self) -> str:
        return f"#{self.other_id} is {self.kind} of #{self.conversation_id}"


class PresenceState(models.TextChoices):
    VIEWING = "viewing", "Viewing"
    REPLYING = "replying", "Replying"


class Presence(models.Model):
    """The last heartbeat of one person on one conversation (upserted; read for the last 30 seconds)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=PresenceState.choices)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="presence_one_per_user")]
        indexes = [models.Index(fields=["conversation", "seen_at"], name="presence_conv_seen")]


class Notification(models.Model):
    """Something an agent should see in admin (an @mention in a note); read once opened."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="helpdesk_notifications")
    kind = models.CharField(max_length=20, default="mention")
    conversation = models.ForeignKey(Conversation, null=True, blank=True, on_delete=models.CASCADE,
                                     related_name="notifications")
    message = models.ForeignKey(Message, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="notification_once_per_message")]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_unread")]

    def __str__(self) -> str:
        return self.text
