"""Facts for conversations resolved before the reports app existed, derived from their recorded events (the same
rules as the projector: `reports.projection.facts_from_events`)."""

from django.conf import settings
from django.db import migrations

BATCH = 2000


def backfill(apps, schema_editor):
    from reports.projection import facts_from_events

    Event = apps.get_model("conversations", "Event")
    ConversationFacts = apps.get_model("reports", "ConversationFacts")
    users = set(apps.get_model(settings.AUTH_USER_MODEL).objects.values_list("pk", flat=True))
    changes = (
        Event.objects.filter(type="conversation.status_changed", conversation__isnull=False)
        .order_by("conversation_id", "occurred_at")
        .values_list("conversation_id", "occurred_at", "payload__to")
        .iterator(chunk_size=BATCH)
    )
    assignments = (
        Event.objects.filter(type="conversation.assigned", conversation__isnull=False)
        .order_by("conversation_id", "occurred_at")
        .values_list("conversation_id", "occurred_at", "payload__assignee_id")
        .iterator(chunk_size=BATCH)
    )
    batch = []
    for row in facts_from_events(changes, assignments):
        if row["resolved_assignee_id"] not in users:  # a deleted user, as SET_NULL would leave it
            row["resolved_assignee_id"] = None
        batch.append(ConversationFacts(**row))
        if len(batch) == BATCH:
            ConversationFacts.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    ConversationFacts.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
