"""`ConversationFacts`, what the report knows of each resolution: kept by the projector as status changes are
recorded, and derived the same way from recorded events by the data migration (for conversations older than it)."""

import importlib

from django.apps import apps

from reports.models import ConversationFacts

backfill = importlib.import_module("reports.migrations.0002_backfill_facts").backfill


def facts_of(conversations):
    rows = ConversationFacts.objects.filter(conversation__in=conversations, last_resolved_at__isnull=False).order_by(
        "conversation_id"
    )
    return [
        (row.conversation.subject, row.first_resolved_at, row.last_resolved_at, row.reopened, row.resolved_assignee_id)
        for row in rows
    ]


def test_projector_records_resolutions_reopen_and_the_assignee_then(story):
    b, c, d = story["B"], story["C"], story["D"]
    facts = {subject: rest for subject, *rest in facts_of([b, c, d])}
    assert set(facts) == {"B", "C"}  # D was never resolved
    assert facts["B"][2:] == [False, story["ann"].pk]
    first, last, reopened, assignee = facts["C"]
    assert (last - first).total_seconds() == 120 * 60 and reopened and assignee == story["bob"].pk


def test_backfill_from_events_gives_what_the_projector_kept(story):
    conversations = [story[name] for name in "ABCDE"]
    kept = facts_of(conversations)
    ConversationFacts.objects.all().delete()
    backfill(apps, None)
    assert facts_of(conversations) == kept
