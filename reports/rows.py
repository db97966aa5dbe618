"""Keeps `ReportRow` (one per conversation) equal to what the report's definitions give from the conversation and its
`ConversationFacts` (docs/reports.md "Report rows").

A row is recomputed whole by one `INSERT ... SELECT ... ON CONFLICT DO UPDATE` whose SELECT is built from the same
expressions as the definitions (`reports.facts`, `reports.groupings.agent_at_resolution`), so the stored minutes are
the very floats the database computes for them. `reports.projection` calls `row_refresh` in the transaction of each
event that moves a row's inputs (creation, assignment, status changes that stamp facts, the first agent reply,
merges); deleting a conversation deletes its row (CASCADE), deleting a team or a user empties the column
(SET_NULL, as on the conversation). `rows_rebuild` recomputes every row (the data migration, or a repair).

`ReportTagRow` (the tag grouping's rows: one per tag of a conversation, or one without a tag) follows the report rows
through database triggers (migration reports.0006): each insert, update or delete of a report row, by this module's
statements or by the SLA and survey triggers, and each change of a conversation's tags is copied in the same
statement, so a rebuild of the report rows rebuilds the tag rows too.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from conversations.models import Conversation, Survey
from reports.facts import (
    first_response_business_minutes,
    first_response_minutes,
    reopened,
    resolution_business_minutes,
    resolution_minutes,
    resolved,
)
from reports.groupings import agent_at_resolution
from reports.models import ROW_COUNTS, ROW_FIGURES, ConversationFacts, ReportRow, ReportTagRow
from sla.models import SlaTarget, TargetState

SATISFIED_SCORE = 4  # CSAT satisfied = a score of 4 or 5 (reports.selectors)

COLUMNS = (
    "conversation_id",
    "created_at",
    "created_day",
    "team_id",
    "channel",
    "agent_id",
    "resolved",
    "reopened",
    *(figure for figure, _ in ROW_FIGURES),
    *ROW_COUNTS,
)


def _flag(condition) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _targets(condition: Q | None = None) -> Coalesce:
    """The conversation's SLA targets (those meeting `condition`) counted by a correlated subquery."""
    targets = SlaTarget.objects.filter(conversation=OuterRef("pk"))
    if condition is not None:
        targets = targets.filter(condition)
    counted = targets.order_by().values("conversation").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _surveys(aggregate) -> Coalesce:
    """An aggregate of the conversation's answered surveys, by a correlated subquery."""
    answered = Survey.objects.filter(conversation=OuterRef("pk"), score__isnull=False).order_by()
    found = answered.values("conversation").annotate(n=aggregate).values("n")
    return Coalesce(Subquery(found, output_field=IntegerField()), Value(0))


def _source(conversations: QuerySet) -> tuple[str, list]:
    """The SELECT giving the rows of `conversations`, its columns in the order of COLUMNS."""
    expressions = {
        "r_conversation_id": F("pk"),
        "r_created_at": F("created_at"),
        "r_created_day": TruncDate("created_at", tzinfo=dt.UTC),
        "r_team_id": F("team_id"),
        "r_channel": F("channel"),
        "r_agent_id": agent_at_resolution(""),
        "r_resolved": _flag(resolved()),
        "r_reopened": _flag(reopened()),
        "r_first_response_minutes": first_response_minutes(),
        "r_resolution_minutes": resolution_minutes(),
        "r_first_response_business_minutes": first_response_business_minutes(),
        "r_resolution_business_minutes": resolution_business_minutes(),
        "r_sla_targets": _targets(),
        "r_sla_breached": _targets(Q(state=TargetState.BREACHED)),
        "r_csat_answered": _surveys(Count("pk")),
        "r_csat_score_sum": _surveys(Sum("score")),
        "r_csat_satisfied": _surveys(Count("pk", filter=Q(score__gte=SATISFIED_SCORE))),
        "r_csat_commented": _surveys(Count("pk", filter=~Q(comment=""))),
    }
    query = conversations.order_by().annotate(**expressions).values_list(*expressions).query
    return query.sql_with_params()


def _insert_sql(conversations: QuerySet, upsert: bool) -> tuple[str, list]:
    select, params = _source(conversations)
    quote = connection.ops.quote_name
    sql = f"INSERT INTO {quote(ReportRow._meta.db_table)} ({', '.join(map(quote, COLUMNS))}) {select}"
    if upsert:
        updates = ", ".join(f"{quote(column)} = excluded.{quote(column)}" for column in COLUMNS[1:])
        sql += f" ON CONFLICT ({quote('conversation_id')}) DO UPDATE SET {updates}"
    return sql, params


_compiled: dict[str, tuple[str, list]] = {}


def _refresh_sql() -> tuple[str, list]:
    """The refresh statement of this database, compiled once per process: the conversation's id is its last
    parameter (the WHERE of the SELECT), the others are constants of the expressions."""
    vendor = connection.vendor
    if vendor not in _compiled:
        sql, params = _insert_sql(Conversation.objects.filter(pk=0), upsert=True)
        assert params[-1] == 0, "the conversation id is the statement's last parameter"
        _compiled[vendor] = sql, list(params[:-1])
    return _compiled[vendor]


def row_refresh(*, conversation_id: int) -> None:
    """Recompute one conversation's row (insert it if missing), in the caller's transaction."""
    sql, params = _refresh_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, conversation_id])


def _secondary_indexes(cursor) -> list[tuple[str, str]]:
    """PostgreSQL: (name, definition) of the report rows' indexes that back no constraint (the primary key stays)."""
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = %s "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [ReportRow._meta.db_table],
    )
    return cursor.fetchall()


def rows_rebuild() -> int:
    """Recompute every row (one statement) and, through the triggers, every tag row; returns how many report rows
    there are.

    PostgreSQL: the statistics of the tables read are refreshed first (so the per-conversation subqueries run as
    index lookups: on just-loaded tables the planner would scan the targets and surveys once per conversation), and
    the report rows' secondary indexes are dropped for the insert and built once after it (a sort per index instead
    of two dozen index insertions per row). One transaction (a savepoint inside the caller's): readers of the report
    rows wait until the indexes are back."""
    sql, params = _insert_sql(Conversation.objects.filter(pk__isnull=False), upsert=False)
    tag_rows = ReportTagRow._meta.db_table in connection.introspection.table_names()
    with transaction.atomic(), connection.cursor() as cursor:
        if tag_rows:  # absent while migration reports.0005 runs this (its table comes with 0006)
            ReportTagRow.objects.all().delete()
        ReportRow.objects.all().delete()
        indexes: list[tuple[str, str]] = []
        if connection.vendor == "postgresql":
            tables = (Conversation, ConversationFacts, SlaTarget, Survey, Conversation.tags.through)
            cursor.execute(f"ANALYZE {', '.join(connection.ops.quote_name(model._meta.db_table) for model in tables)}")
            indexes = _secondary_indexes(cursor)
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cursor.execute(sql, params)
        if indexes:
            # An index cannot be built over rows with foreign-key checks pending (Django's are deferred): check the
            # new rows' now, then defer these constraints again as they were.
            cursor.execute(
                "SELECT string_agg(quote_ident(conname), ', ') FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype = 'f' AND condeferred",
                [ReportRow._meta.db_table],
            )
            constraints = cursor.fetchone()[0]
            if constraints:
                cursor.execute(f"SET CONSTRAINTS {constraints} IMMEDIATE")
            for _, definition in indexes:
                cursor.execute(definition)
            if constraints:
                cursor.execute(f"SET CONSTRAINTS {constraints} DEFERRED")
    return ReportRow.objects.count()
