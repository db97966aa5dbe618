"""Erasure: a contact's personal data removed from every row it was copied into, facts kept.

`contact_erase` (GDPR Art. 17, `POST /api/contacts/{id}/erase/`) erases the contact and all its conversations;
`conversations_erase` is the shared unit, also used by the retention sweep for conversations closed long ago.
Everything happens in one transaction; stored files (attachments, recordings) are deleted after it commits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat

from conversations import clock
from conversations.choices import EventType, Status
from conversations.conf import helpdesk_setting
from conversations.events import record_event
from conversations.models import (
    Attachment,
    Contact,
    Conversation,
    Delivery,
    EmailHeaders,
    Event,
    Message,
    Notification,
    Recording,
    SavedView,
    Survey,
    Ticket,
    Transcript,
)
from workflows.models import Endpoint, StepRun, WorkflowAlert, WorkflowReplay, WorkflowRun
from workflows.privacy.scrub import ERASED, Scrubber

BATCH = 500


def contact_scrubber(contact: Contact) -> Scrubber:
    return Scrubber([contact.name, contact.email, contact.phone])


def _delete_files_after_commit(files: list) -> None:
    def delete() -> None:
        for stored in files:
            if stored:
                stored.storage.delete(stored.name)

    transaction.on_commit(delete)


def _rewrite_json(queryset, fields: list[str], key: str, strict_for) -> int:
    """Scrub JSON fields of every row with the scrubber of the conversation the row's `key` names (`strict_for`),
    saving in batches; returns the rows changed."""
    changed = []
    for row in queryset.iterator(chunk_size=BATCH):
        strict = strict_for(getattr(row, key))
        for field in fields:
            setattr(row, field, strict(getattr(row, field)))
        changed.append(row)
    for start in range(0, len(changed), BATCH):
        type(changed[0]).objects.bulk_update(changed[start : start + BATCH], fields)
    return len(changed)


def _erase_files(conversation_ids: list[int], counts: Counter) -> None:
    attachments = Attachment.objects.filter(message__conversation_id__in=conversation_ids)
    recordings = Recording.objects.filter(conversation_id__in=conversation_ids)
    _delete_files_after_commit([row.file for row in attachments] + [row.file for row in recordings])
    counts["attachments"] = attachments.delete()[0]
    counts["transcripts"] = Transcript.objects.filter(recording__in=recordings).update(text=ERASED)
    counts["recordings"] = recordings.count()
    recordings.update(file="")


def _erase_messages(conversation_ids: list[int], counts: Counter) -> None:
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    counts["messages"] = messages.update(body=ERASED, buttons=[])
    EmailHeaders.objects.filter(message__conversation_id__in=conversation_ids).update(
        message_id_header=Concat(Value("<erased-"), Cast("id", CharField()), Value("@erased.invalid>")),
        in_reply_to="",
        references="",
        from_name="",
        from_address="",
        to=[],
        cc=[],
        subject=ERASED,
        full_text="",
        raw=b"",
    )
    Delivery.objects.filter(message__conversation_id__in=conversation_ids).exclude(error="").update(error=ERASED)
    Notification.objects.filter(conversation_id__in=conversation_ids).update(text=ERASED)


def _erase_records(conversation_ids: list[int], counts: Counter) -> None:
    counts["tickets"] = Ticket.objects.filter(conversation_id__in=conversation_ids).update(
        title=ERASED, description=ERASED
    )
    counts["survey_comments"] = (
        Survey.objects.filter(conversation_id__in=conversation_ids).exclude(comment="").update(comment="")
    )


def _erase_automation(
    scrubbers: dict[int, Scrubber], contact_ids: list[int], counts: Counter, default: Scrubber | None = None
) -> None:
    """Event payloads, run variables and step inputs/outputs of these conversations, each scrubbed of its own
    contact's values (`scrubbers` by conversation id; `default` for the contact's events outside them)."""
    ids = list(scrubbers)

    def strict_for(conversation_id: int | None):
        return (scrubbers.get(conversation_id) or default).strict

    events = Event.objects.filter(Q(conversation_id__in=ids) | Q(contact_id__in=contact_ids))
    counts["events"] = _rewrite_json(
        events.only("pk", "payload", "conversation_id"), ["payload"], "conversation_id", strict_for
    )
    runs = WorkflowRun.objects.filter(conversation_id__in=ids)
    counts["runs"] = _rewrite_json(
        runs.only("pk", "variables", "conversation_id"), ["variables"], "conversation_id", strict_for
    )
    runs.exclude(error="").update(error=ERASED)
    steps = StepRun.objects.filter(run__conversation_id__in=ids).annotate(conversation_key=F("run__conversation_id"))
    counts["step_runs"] = _rewrite_json(
        steps.only("pk", "input", "output"), ["input", "output"], "conversation_key", strict_for
    )
    StepRun.objects.filter(run__in=runs).exclude(error="").update(error=ERASED)


def _erase_copies_elsewhere(scrubber: Scrubber) -> None:
    """Logs that span many conversations: only what names the contact goes."""
    for model in (Endpoint, WorkflowAlert):
        for row in model.objects.exclude(last_error="").only("pk", "last_error"):
            if scrubber.names_the_contact(row.last_error):
                model.objects.filter(pk=row.pk).update(last_error=ERASED)
    for view in SavedView.objects.only("pk", "name", "filters"):
        filters, name = scrubber.loose(view.filters), scrubber.text(view.name)
        if filters != view.filters or name != view.name:
            SavedView.objects.filter(pk=view.pk).update(filters=filters, name=name[:100])
    for replay in WorkflowReplay.objects.only("pk", "samples", "error"):
        samples = scrubber.loose(replay.samples)
        if samples != replay.samples or scrubber.names_the_contact(replay.error):
            WorkflowReplay.objects.filter(pk=replay.pk).update(samples=samples, error=scrubber.text(replay.error))


def _erase_admin_log(model, ids: Iterable[int], scrubber: Scrubber) -> None:
    content_type = ContentType.objects.get_for_model(model)
    LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in ids]).update(
        object_repr=ERASED, change_message=""
    )
    for entry in LogEntry.objects.only("pk", "object_repr", "change_message"):
        if scrubber.names_the_contact(entry.object_repr) or scrubber.names_the_contact(entry.change_message):
            LogEntry.objects.filter(pk=entry.pk).update(object_repr=ERASED, change_message="")


def conversations_erase(
    *, conversation_ids: list[int], scrubber: Scrubber, contact_ids: Iterable[int] = (), scan_shared_logs: bool = True
) -> Counter:
    """Erase the personal content of these conversations (subjects, messages, files, mail headers, tickets, survey
    comments, event payloads, run inputs and outputs); statuses, times, counts and SLA targets stay.
    `scan_shared_logs` also looks through logs shared by all conversations (endpoint errors, replay samples, the
    admin history) for the contact's values: an erasure request wants it, the retention sweep does not."""
    counts: Counter = Counter()
    with transaction.atomic():
        _erase_content(conversation_ids, counts)
        _erase_automation(dict.fromkeys(conversation_ids, scrubber), list(contact_ids), counts, default=scrubber)
        if scan_shared_logs:
            _erase_copies_elsewhere(scrubber)
            _erase_admin_log(Conversation, conversation_ids, scrubber)
    return counts


def _erase_content(conversation_ids: list[int], counts: Counter) -> None:
    """What needs no contact's values: the texts and files of the conversations are replaced or removed."""
    counts["conversations"] = Conversation.objects.filter(pk__in=conversation_ids).update(
        subject=ERASED, erased_at=clock.now()
    )
    _erase_files(conversation_ids, counts)
    _erase_messages(conversation_ids, counts)
    _erase_records(conversation_ids, counts)


def contact_erase(*, contact: Contact) -> dict[str, int]:
    """Erase a contact's personal data everywhere it was copied, and record one `contact.erased` event that holds
    only counts. The contact row stays (conversations point at it) as "Erased contact <id>"."""
    scrubber = contact_scrubber(contact)
    with transaction.atomic(durable=False):
        conversation_ids = list(contact.conversations.values_list("pk", flat=True))
        counts = conversations_erase(conversation_ids=conversation_ids, scrubber=scrubber, contact_ids=[contact.pk])
        _erase_admin_log(Contact, [contact.pk], scrubber)
        Contact.objects.filter(pk=contact.pk).update(
            name=f"Erased contact {contact.pk}", email="", phone="", attributes={}, erased_at=clock.now()
        )
        summary = {key: int(value) for key, value in sorted(counts.items())}
        record_event(type=EventType.CONTACT_ERASED, contact=contact, payload={"contact": contact.pk, **summary})
    contact.refresh_from_db()
    return summary


def erase_expired_conversations(*, batch: int = BATCH) -> int:
    """The retention sweep: erase up to `batch` conversations closed more than `HELPDESK_RETENTION_DAYS` ago (off
    when 0) in one transaction, each conversation's copies scrubbed of its own contact's values; returns how many
    were erased. Set-based: the same dozen statements for 1 or 500 conversations."""
    days = helpdesk_setting("RETENTION_DAYS")
    if not days:
        return 0
    cutoff = clock.now() - dt.timedelta(days=days)
    expired = (
        Conversation.objects.filter(status=Status.CLOSED, updated_at__lt=cutoff, erased_at__isnull=True)
        .select_related("contact")
        .only("pk", "contact__name", "contact__email", "contact__phone")[:batch]
    )
    scrubber_of_contact: dict[int, Scrubber] = {}
    scrubbers = {
        row.pk: scrubber_of_contact.setdefault(row.contact_id, contact_scrubber(row.contact)) for row in expired
    }
    if not scrubbers:
        return 0
    with transaction.atomic():
        counts: Counter = Counter()
        _erase_content(list(scrubbers), counts)
        _erase_automation(scrubbers, [], counts)
    return len(scrubbers)
