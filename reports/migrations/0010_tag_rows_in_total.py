"""`ReportTagRow.in_total`: true on exactly one tag row of each conversation (that of its smallest tag id, or its
untagged row), so the tag grouping counts its total from the tag rows in the same pass as its groups
(docs/reports.md "Tag rows"). The triggers of migration 0006 are replaced by the same ones keeping the flag too, the
existing rows are flagged (one UPDATE of the rows that are not their conversation's first), and the covering count
index `rtr_n` gets the flag after the tag."""

import importlib

from django.db import migrations, models

tag_rows_0006 = importlib.import_module("reports.migrations.0006_tag_rows")
COPIED = tag_rows_0006.COPIED  # what a tag row copies from its conversation's report row (frozen there)
ROWS, TAG_ROWS, TAGS = "reports_reportrow", "reports_reporttagrow", "conversations_conversation_tags"
INTO = f"INSERT INTO {TAG_ROWS} (conversation_id, tag_id, in_total, {', '.join(COPIED)})"


def copied(row: str) -> str:
    return ", ".join(f"{row}.{column}" for column in COPIED)


def reflag(conversation: str) -> str:
    """The conversation's flags set right after a tag row came or went: only rows whose flag changes are written."""
    first = f"(tag_id IS NULL OR tag_id = (SELECT MIN(y.tag_id) FROM {TAG_ROWS} y WHERE y.conversation_id = {conversation}))"
    return (
        f"UPDATE {TAG_ROWS} SET in_total = NOT in_total WHERE conversation_id = {conversation} AND in_total <> {first};"
    )


def row_inserted(new: str) -> str:
    """A new report row: one tag row per tag of its conversation (the smallest tag's in the total), or one without a
    tag (in the total)."""
    smallest = f"(SELECT MIN(u.tag_id) FROM {TAGS} u WHERE u.conversation_id = {new}.conversation_id)"
    return f"""{INTO} SELECT {new}.conversation_id, t.tag_id, t.tag_id = {smallest}, {copied(new)} FROM {TAGS} t
            WHERE t.conversation_id = {new}.conversation_id;
        {INTO} SELECT {new}.conversation_id, NULL, TRUE, {copied(new)}
            WHERE NOT EXISTS (SELECT 1 FROM {TAGS} t WHERE t.conversation_id = {new}.conversation_id);"""


def row_updated(new: str) -> str:
    changes = ", ".join(f"{column} = {new}.{column}" for column in COPIED)
    return f"UPDATE {TAG_ROWS} SET {changes} WHERE conversation_id = {new}.conversation_id;"


def row_deleted(old: str) -> str:
    return f"DELETE FROM {TAG_ROWS} WHERE conversation_id = {old}.conversation_id;"


def tag_added(new: str) -> str:
    """A tag put on a conversation: its row (from the report row, when there is one) replaces the untagged row; the
    flags follow."""
    return f"""DELETE FROM {TAG_ROWS} WHERE conversation_id = {new}.conversation_id AND tag_id IS NULL;
        {INTO} SELECT r.conversation_id, {new}.tag_id, FALSE, {copied("r")} FROM {ROWS} r
            WHERE r.conversation_id = {new}.conversation_id;
        {reflag(f"{new}.conversation_id")}"""


def tag_removed(old: str) -> str:
    """A tag taken off: its row goes; the conversation's last tag gone, the untagged row comes back; the flags follow
    (also when the tag's rows went first, by the CASCADE of a deleted tag)."""
    return f"""DELETE FROM {TAG_ROWS} WHERE conversation_id = {old}.conversation_id AND tag_id = {old}.tag_id;
        {INTO} SELECT r.conversation_id, NULL, TRUE, {copied("r")} FROM {ROWS} r
            WHERE r.conversation_id = {old}.conversation_id
            AND NOT EXISTS (SELECT 1 FROM {TAGS} t WHERE t.conversation_id = {old}.conversation_id)
            AND NOT EXISTS (
                SELECT 1 FROM {TAG_ROWS} x WHERE x.conversation_id = {old}.conversation_id AND x.tag_id IS NULL
            );
        {reflag(f"{old}.conversation_id")}"""


def changed(old: str, new: str) -> str:
    return " OR ".join(f"{old}.{column} IS NOT {new}.{column}" for column in COPIED)


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER reports_rtr_row_insert AFTER INSERT ON {ROWS} BEGIN {row_inserted('NEW')} END",
    f"CREATE TRIGGER reports_rtr_row_update AFTER UPDATE ON {ROWS} WHEN {changed('OLD', 'NEW')} "
    f"BEGIN {row_updated('NEW')} END",
    f"CREATE TRIGGER reports_rtr_row_delete AFTER DELETE ON {ROWS} BEGIN {row_deleted('OLD')} END",
    f"CREATE TRIGGER reports_rtr_tag_insert AFTER INSERT ON {TAGS} BEGIN {tag_added('NEW')} END",
    f"CREATE TRIGGER reports_rtr_tag_delete AFTER DELETE ON {TAGS} BEGIN {tag_removed('OLD')} END",
    f"CREATE TRIGGER reports_rtr_tag_update AFTER UPDATE OF conversation_id, tag_id ON {TAGS} "
    f"BEGIN {tag_removed('OLD')} {tag_added('NEW')} END",
]
POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION reports_rtr_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            {row_inserted("NEW")}
        ELSIF TG_OP = 'UPDATE' THEN
            {row_updated("NEW")}
        ELSE
            {row_deleted("OLD")}
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER reports_rtr_row_change AFTER INSERT OR DELETE ON {ROWS}
    FOR EACH ROW EXECUTE FUNCTION reports_rtr_row()""",
    f"""CREATE TRIGGER reports_rtr_row_update AFTER UPDATE ON {ROWS} FOR EACH ROW
    WHEN (({", ".join(f"OLD.{c}" for c in COPIED)}) IS DISTINCT FROM ({", ".join(f"NEW.{c}" for c in COPIED)}))
    EXECUTE FUNCTION reports_rtr_row()""",
    f"""CREATE FUNCTION reports_rtr_tag() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            {tag_removed("OLD")}
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            {tag_added("NEW")}
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER reports_rtr_tag AFTER INSERT OR DELETE OR UPDATE OF conversation_id, tag_id ON {TAGS}
    FOR EACH ROW EXECUTE FUNCTION reports_rtr_tag()""",
]
# The existing rows: the column came with every row in the total; those after their conversation's smallest tag leave
# it.
BACKFILL = (
    f"UPDATE {TAG_ROWS} SET in_total = FALSE WHERE tag_id > "
    f"(SELECT MIN(y.tag_id) FROM {TAG_ROWS} y WHERE y.conversation_id = {TAG_ROWS}.conversation_id)"
)


def create_triggers(apps, schema_editor):
    statements = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}[schema_editor.connection.vendor]
    for statement in statements:
        schema_editor.execute(statement)


def backfill(apps, schema_editor):
    schema_editor.execute(BACKFILL)


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0009_report_covering_indexes"),
    ]

    operations = [
        # The triggers of 0006 write tag rows without the flag: dropped first (and back when this is reversed).
        migrations.RunPython(tag_rows_0006.drop_triggers, tag_rows_0006.create_triggers),
        migrations.RemoveIndex(
            model_name="reporttagrow",
            name="rtr_n",
        ),
        migrations.AddField(
            model_name="reporttagrow",
            name="in_total",
            field=models.BooleanField(
                default=True,
                help_text="The conversation's row counted in the total: that of its smallest tag id, or its untagged "
                "row.",
                verbose_name="counted in the total",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="reporttagrow",
            index=models.Index(
                fields=[
                    "tag",
                    "in_total",
                    "created_at",
                    "resolved",
                    "reopened",
                    "first_response_minutes",
                    "resolution_minutes",
                    "first_response_business_minutes",
                    "resolution_business_minutes",
                    "sla_targets",
                    "sla_breached",
                    "csat_answered",
                    "csat_score_sum",
                    "csat_satisfied",
                    "csat_commented",
                ],
                name="rtr_n",
            ),
        ),
        migrations.RunPython(create_triggers, tag_rows_0006.drop_triggers),
    ]
