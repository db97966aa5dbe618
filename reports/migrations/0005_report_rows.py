"""`ReportRow`: one narrow row per conversation for the report (reports.rows), with its indexes; backfilled."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    """Every existing conversation's row, from the same statement the projector runs per conversation."""
    from reports.rows import rows_rebuild

    rows_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0013_report_speed"),
        ("reports", "0004_i18n_labels"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportRow",
            fields=[
                (
                    "conversation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="report_row",
                        serialize=False,
                        to="conversations.conversation",
                        verbose_name="conversation",
                    ),
                ),
                ("created_at", models.DateTimeField(verbose_name="created at")),
                ("created_day", models.DateField(help_text="The UTC date of creation.", verbose_name="created day")),
                ("channel", models.CharField(max_length=20, verbose_name="channel")),
                ("resolved", models.BooleanField(default=False, verbose_name="resolved")),
                ("reopened", models.BooleanField(default=False, verbose_name="reopened")),
                (
                    "first_response_minutes",
                    models.FloatField(blank=True, null=True, verbose_name="first response (minutes)"),
                ),
                ("resolution_minutes", models.FloatField(blank=True, null=True, verbose_name="resolution (minutes)")),
                (
                    "first_response_business_minutes",
                    models.FloatField(blank=True, null=True, verbose_name="first response (business minutes)"),
                ),
                (
                    "resolution_business_minutes",
                    models.FloatField(blank=True, null=True, verbose_name="resolution (business minutes)"),
                ),
                (
                    "agent",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        help_text="The assignee at the last resolution, else the current assignee.",
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="agent",
                    ),
                ),
                (
                    "team",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="conversations.team",
                        verbose_name="team",
                    ),
                ),
            ],
            options={
                "verbose_name": "conversation report row",
                "verbose_name_plural": "conversation report rows",
                "indexes": [
                    models.Index(
                        condition=models.Q(("first_response_minutes__isnull", False)),
                        fields=["team", "first_response_minutes", "created_at"],
                        name="rr_team_fr",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_minutes__isnull", False)),
                        fields=["team", "resolution_minutes", "created_at"],
                        name="rr_team_rs",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_business_minutes__isnull", False)),
                        fields=["team", "first_response_business_minutes", "created_at"],
                        name="rr_team_frb",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_business_minutes__isnull", False)),
                        fields=["team", "resolution_business_minutes", "created_at"],
                        name="rr_team_rsb",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_minutes__isnull", False)),
                        fields=["channel", "first_response_minutes", "created_at"],
                        name="rr_chan_fr",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_minutes__isnull", False)),
                        fields=["channel", "resolution_minutes", "created_at"],
                        name="rr_chan_rs",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_business_minutes__isnull", False)),
                        fields=["channel", "first_response_business_minutes", "created_at"],
                        name="rr_chan_frb",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_business_minutes__isnull", False)),
                        fields=["channel", "resolution_business_minutes", "created_at"],
                        name="rr_chan_rsb",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_minutes__isnull", False)),
                        fields=["agent", "first_response_minutes", "created_at"],
                        name="rr_agent_fr",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_minutes__isnull", False)),
                        fields=["agent", "resolution_minutes", "created_at"],
                        name="rr_agent_rs",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_business_minutes__isnull", False)),
                        fields=["agent", "first_response_business_minutes", "created_at"],
                        name="rr_agent_frb",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_business_minutes__isnull", False)),
                        fields=["agent", "resolution_business_minutes", "created_at"],
                        name="rr_agent_rsb",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_minutes__isnull", False)),
                        fields=["created_day", "first_response_minutes", "created_at"],
                        name="rr_day_fr",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_minutes__isnull", False)),
                        fields=["created_day", "resolution_minutes", "created_at"],
                        name="rr_day_rs",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_business_minutes__isnull", False)),
                        fields=["created_day", "first_response_business_minutes", "created_at"],
                        name="rr_day_frb",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_business_minutes__isnull", False)),
                        fields=["created_day", "resolution_business_minutes", "created_at"],
                        name="rr_day_rsb",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_minutes__isnull", False)),
                        fields=["first_response_minutes", "created_at"],
                        name="rr_all_fr",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_minutes__isnull", False)),
                        fields=["resolution_minutes", "created_at"],
                        name="rr_all_rs",
                    ),
                    models.Index(
                        condition=models.Q(("first_response_business_minutes__isnull", False)),
                        fields=["first_response_business_minutes", "created_at"],
                        name="rr_all_frb",
                    ),
                    models.Index(
                        condition=models.Q(("resolution_business_minutes__isnull", False)),
                        fields=["resolution_business_minutes", "created_at"],
                        name="rr_all_rsb",
                    ),
                    models.Index(
                        fields=[
                            "team",
                            "created_at",
                            "resolved",
                            "reopened",
                            "first_response_minutes",
                            "resolution_minutes",
                            "first_response_business_minutes",
                            "resolution_business_minutes",
                        ],
                        name="rr_team_n",
                    ),
                    models.Index(
                        fields=[
                            "channel",
                            "created_at",
                            "resolved",
                            "reopened",
                            "first_response_minutes",
                            "resolution_minutes",
                            "first_response_business_minutes",
                            "resolution_business_minutes",
                        ],
                        name="rr_chan_n",
                    ),
                    models.Index(
                        fields=[
                            "agent",
                            "created_at",
                            "resolved",
                            "reopened",
                            "first_response_minutes",
                            "resolution_minutes",
                            "first_response_business_minutes",
                            "resolution_business_minutes",
                        ],
                        name="rr_agent_n",
                    ),
                    models.Index(
                        fields=[
                            "created_at",
                            "resolved",
                            "reopened",
                            "first_response_minutes",
                            "resolution_minutes",
                            "first_response_business_minutes",
                            "resolution_business_minutes",
                        ],
                        name="rr_created_n",
                    ),
                ],
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
