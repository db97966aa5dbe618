"""Records attached to a conversation: recordings, transcripts, tickets and surveys."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations import clock, payloads
from conversations.choices import (
    EventType,
    Priority,
    SenderType,
    SurveyChannel,
)
from conversations.events import record_event
from conversations.models import (
    Conversation,
    Recording,
    Survey,
    Ticket,
    Transcript,
)
from conversations.services.checks import (
    require_choice,
)
from conversations.services.messages import message_create

User = get_user_model()

MAX_RECORDING_BYTES = 50 * 1024 * 1024


def recording_attach(*, conversation: Conversation, file: UploadedFile, depth: int = 0) -> Recording:
    """Store an audio file on the conversation; record `recording.uploaded`."""
    content_type = getattr(file, "content_type", "") or ""
    if not (content_type.startswith("audio/") or content_type in ("", "application/octet-stream")):
        raise ValidationError(
            {"file": _("Expected an audio file, got %(content_type)s.") % {"content_type": content_type}}
        )
    if file.size > MAX_RECORDING_BYTES:
        raise ValidationError({"file": _("A recording has at most 50 MB.")})
    with transaction.atomic():
        recording = Recording.objects.create(
            conversation=conversation, file=file, content_type=content_type, size_bytes=file.size
        )
        record_event(
            type=EventType.RECORDING_UPLOADED,
            conversation=conversation,
            payload=payloads.recording_uploaded(recording=recording, channel=conversation.channel),
            depth=depth,
        )
    return recording


def transcript_create(*, recording: Recording, text: str, language: str, backend: str, depth: int = 0) -> Transcript:
    """Keep a transcript of a recording and post it as an internal note on the conversation."""
    with transaction.atomic():
        transcript = Transcript.objects.create(recording=recording, text=text, language=language, backend=backend)
        message_create(
            conversation=recording.conversation,
            body=f"Transcript of recording {recording.pk}:\n{text or '(no speech recognised)'}",
            sender_type=SenderType.SYSTEM,
            internal=True,
            depth=depth,
        )
    return transcript


def ticket_create(
    *, conversation: Conversation, title: str, description: str = "", priority: str = Priority.NORMAL, depth: int = 0
) -> Ticket:
    """Open a ticket linked to the conversation; record `ticket.created`."""
    require_choice(priority, Priority, "priority")
    ticket = Ticket(
        conversation=conversation, title=(title or "").strip(), description=description or "", priority=priority
    )
    ticket.full_clean()
    with transaction.atomic():
        ticket.save()
        record_event(
            type=EventType.TICKET_CREATED,
            conversation=conversation,
            payload=payloads.ticket_created(ticket=ticket),
            depth=depth,
        )
    return ticket


def survey_create(
    *,
    conversation: Conversation,
    question: str,
    via: str = SurveyChannel.EMAIL,
    depth: int = 0,
    token: str | None = None,
) -> Survey:
    """Create a CSAT survey (with a fresh token, or the one whose link was already sent); record `survey.sent`.
    Delivery is the caller's job."""
    require_choice(via, SurveyChannel, "via")
    with transaction.atomic():
        survey = Survey(conversation=conversation, contact=conversation.contact, question=question, via=via)
        if token:
            survey.token = token
        survey.full_clean()
        survey.save()
        record_event(
            type=EventType.SURVEY_SENT,
            conversation=conversation,
            payload=payloads.survey_sent(survey=survey),
            depth=depth,
        )
    return survey


def survey_answer(*, survey: Survey, score: int, comment: str = "") -> Survey:
    """Record the one answer a survey takes (1-5); a second answer is refused."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({"score": _("The score is a whole number from 1 to 5.")})
    with transaction.atomic():
        locked = Survey.objects.select_for_update().get(pk=survey.pk)
        if locked.answered_at is not None:
            raise ValidationError({"token": _("This survey has already been answered.")})
        locked.score, locked.comment, locked.answered_at = score, comment or "", clock.now()
        locked.save(update_fields=["score", "comment", "answered_at"])
        record_event(
            type=EventType.SURVEY_ANSWERED,
            conversation=locked.conversation,
            payload=payloads.survey_answered(survey=locked),
        )
    return locked
