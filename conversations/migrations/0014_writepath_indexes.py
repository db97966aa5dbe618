"""Drop the single-column indexes that a composite index already leads with (docs/operations.md, "Performance of the
API"): conversation.contact, .assignee, .team and .created_at, message.conversation.

Each index is one more page a new conversation (or message) writes while it holds SQLite's write lock. The state
change is the fields' `db_index=False`; the database change drops only those indexes, by what the database reports
(on SQLite an AlterField would copy the whole conversations table four times).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Index

# (model, field): the composite index that keeps serving the same lookups is named in conversations/models.py.
SINGLE_COLUMN = [
    ("conversation", "assignee"),
    ("conversation", "contact"),
    ("conversation", "created_at"),
    ("conversation", "team"),
    ("message", "conversation"),
]


def _single_column_indexes(schema_editor, model, field) -> list[str]:
    meta_index_names = {index.name for index in model._meta.indexes}
    return schema_editor._constraint_names(
        model, [field.column], index=True, unique=False, primary_key=False, type_=Index.suffix, exclude=meta_index_names
    )


def drop_indexes(apps, schema_editor) -> None:
    for model_name, field_name in SINGLE_COLUMN:
        model = apps.get_model("conversations", model_name)
        field = model._meta.get_field(field_name)
        for name in _single_column_indexes(schema_editor, model, field):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_indexes(apps, schema_editor) -> None:
    for model_name, field_name in SINGLE_COLUMN:
        model = apps.get_model("conversations", model_name)
        field = model._meta.get_field(field_name)
        if not _single_column_indexes(schema_editor, model, field):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0013_report_speed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_indexes, create_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="conversation",
                    name="assignee",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="assigned_conversations",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="contact",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="conversations",
                        to="conversations.contact",
                        verbose_name="contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True, verbose_name="created at"),
                ),
                migrations.AlterField(
                    model_name="conversation",
                    name="team",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="conversations",
                        to="conversations.team",
                        verbose_name="team",
                    ),
                ),
                migrations.AlterField(
                    model_name="message",
                    name="conversation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="conversations.conversation",
                        verbose_name="conversation",
                    ),
                ),
            ],
        )
    ]
