"""Business minutes in `ConversationFacts` (reports.business): a row now also exists for a conversation answered but
never resolved, so the resolution stamps may be empty; existing conversations get their minutes on the calendar of
their current SLA policy (calendar minutes without one)."""

import datetime as dt

from django.db import migrations, models

BATCH = 2000


def backfill(apps, schema_editor):
    from sla.calendars import build_calendar, clock_seconds_between

    Conversation = apps.get_model("conversations", "Conversation")
    ConversationFacts = apps.get_model("reports", "ConversationFacts")
    ConversationPolicy = apps.get_model("sla", "ConversationPolicy")
    calendars = {}

    def calendar_of(conversation_id):
        assignment = (
            ConversationPolicy.objects.filter(pk=conversation_id).select_related("policy__business_hours").first()
        )
        hours = assignment.policy.business_hours if assignment and assignment.policy else None
        if hours is None:
            return None
        if hours.pk not in calendars:
            calendars[hours.pk] = build_calendar(
                timezone=hours.timezone,
                intervals=hours.intervals,
                country=hours.holidays_country,
                subdivision=hours.holidays_subdivision,
                extra_dates=hours.extra_holidays,
            )
        return calendars[hours.pk]

    def minutes(calendar, start: dt.datetime, end: dt.datetime | None):
        return None if end is None else round(clock_seconds_between(calendar, start, end) / 60.0, 4)

    facts = {row.pk: row for row in ConversationFacts.objects.all()}
    rows = (
        Conversation.objects.filter(models.Q(first_response_at__isnull=False) | models.Q(pk__in=list(facts)))
        .values_list("pk", "created_at", "first_response_at")
        .iterator(chunk_size=BATCH)
    )
    new, changed = [], []
    for pk, created_at, first_response_at in rows:
        calendar = calendar_of(pk)
        row = facts.get(pk) or ConversationFacts(conversation_id=pk)
        row.first_response_business_minutes = minutes(calendar, created_at, first_response_at)
        row.resolution_business_minutes = minutes(calendar, created_at, row.last_resolved_at)
        (changed if pk in facts else new).append(row)
    ConversationFacts.objects.bulk_create(new, batch_size=BATCH)
    ConversationFacts.objects.bulk_update(
        changed, ["first_response_business_minutes", "resolution_business_minutes"], batch_size=BATCH
    )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_backfill_facts"),
        ("sla", "0002_polish_sla_target_names"),
        ("conversations", "0009_routing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="conversationfacts", name="first_resolved_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AlterField(
            model_name="conversationfacts", name="last_resolved_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="conversationfacts",
            name="first_response_business_minutes",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="conversationfacts",
            name="resolution_business_minutes",
            field=models.FloatField(blank=True, help_text="From creation to the last resolution.", null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
