"""`ReportTagRow.in_total` (migration reports.0010): exactly one tag row of each conversation is counted in the total,
that of its smallest tag id or its untagged row, whatever changes its tags (services, the m2m manager, a deleted tag,
a deleted conversation); the tag report counts its total from those rows in the same pass as its groups, and that
total is the one every other grouping gives."""

import datetime as dt
import importlib
import json
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation, Tag
from reports import selectors
from reports.models import ReportRow, ReportTagRow
from reports.periods import Period
from reports.selectors import conversation_report
from tests.reports import reference_selectors

in_total_migration = importlib.import_module("reports.migrations.0010_tag_rows_in_total")


def _flags(conversation) -> dict:
    """{tag name or None: in_total} of the conversation's tag rows."""
    names = dict(Tag.objects.values_list("pk", "name"))
    return {
        names.get(tag_id): flag
        for tag_id, flag in ReportTagRow.objects.filter(conversation=conversation).values_list("tag_id", "in_total")
    }


@pytest.fixture
def tags(db):
    """Three tags created in the order alpha, beta, gamma (so their ids are in that order)."""
    return {name: Tag.objects.create(name=name) for name in ("alpha", "beta", "gamma")}


def test_one_row_per_conversation_is_in_the_total_whatever_happens_to_its_tags(contact, tags):
    first = services.conversation_open(contact=contact, channel="email", subject="first")
    second = services.conversation_open(contact=contact, channel="email", subject="second")
    assert _flags(first) == {None: True}

    # Tags added in an order other than their ids': the smallest id's row is the one in the total.
    services.conversation_add_tags(conversation=first, tags=["gamma"])
    assert _flags(first) == {"gamma": True}
    services.conversation_add_tags(conversation=first, tags=["beta", "alpha"])
    assert _flags(first) == {"alpha": True, "beta": False, "gamma": False}

    # The total's tag removed: the next smallest takes over; a later one removed: nothing moves.
    services.conversation_remove_tags(conversation=first, tags=["alpha"])
    assert _flags(first) == {"beta": True, "gamma": False}
    services.conversation_remove_tags(conversation=first, tags=["gamma"])
    assert _flags(first) == {"beta": True}

    # Re-tagging through the m2m manager (admin forms): set, clear.
    first.tags.set([tags["gamma"], tags["alpha"]])
    assert _flags(first) == {"alpha": True, "gamma": False}
    first.tags.clear()
    assert _flags(first) == {None: True}
    first.tags.set([tags["beta"], tags["gamma"]])
    second.tags.set([tags["alpha"], tags["beta"]])
    assert _flags(first) == {"beta": True, "gamma": False}

    # Deleting a conversation's smallest tag (its rows go by CASCADE and by the m2m trigger).
    tags["beta"].delete()
    assert _flags(first) == {"gamma": True}
    assert _flags(second) == {"alpha": True}

    # Deleting a conversation deletes its tag rows; the others keep theirs.
    deleted = first.pk
    first.delete()
    assert not ReportTagRow.objects.filter(conversation_id=deleted).exists()
    assert _flags(second) == {"alpha": True}
    assert ReportTagRow.objects.filter(in_total=True).count() == ReportRow.objects.count()


def test_the_migration_flags_the_rows_that_existed_before_it(contact, tags):
    """The backfill of migration 0010: the column came with every existing row in the total; only each conversation's
    first tag row stays in it."""
    for subject, names in (("none", []), ("one", ["beta"]), ("three", ["gamma", "alpha", "beta"])):
        conversation = services.conversation_open(contact=contact, channel="email", subject=subject)
        if names:
            services.conversation_add_tags(conversation=conversation, tags=names)
    kept = sorted(ReportTagRow.objects.values_list("conversation_id", "tag_id", "in_total"), key=str)
    ReportTagRow.objects.update(in_total=True)
    with connection.cursor() as cursor:
        cursor.execute(in_total_migration.BACKFILL)
    assert sorted(ReportTagRow.objects.values_list("conversation_id", "tag_id", "in_total"), key=str) == kept
    assert ReportTagRow.objects.filter(in_total=False).count() == 2


@pytest.mark.parametrize("scope", ["all", "wide"])
def test_the_tag_total_counts_each_conversation_once_from_its_tag_rows(story, monkeypatch, scope):
    """The story's C has two tags: per tag it counts in both groups, in the total once; the total equals the other
    groupings' and the plain computation's, and no count statement reads the report rows (both backends: the walks'
    path, forced as a wide period would take it)."""
    monkeypatch.setattr(selectors, "walk_scope", lambda created, period=None: scope)
    period = Period(since=dt.date(2026, 10, 24), until=dt.date(2026, 10, 25), zone=zoneinfo.ZoneInfo("Europe/Berlin"))
    with CaptureQueriesContext(connection) as queries:
        report = conversation_report(period=period, group_by="tag")
    plain = reference_selectors.conversation_report(period=period, group_by="tag")
    assert json.dumps(report, sort_keys=True, default=str) == json.dumps(plain, sort_keys=True, default=str)
    assert {row["key"]: row["created"] for row in report["rows"]} == {"billing": 2, "vip": 1, None: 1}
    assert report["total"]["created"] == 3 and report["total"]["resolved"] == 2
    assert report["total"] == conversation_report(period=period, group_by="agent")["total"]
    counted = [query["sql"] for query in queries.captured_queries if "GROUP BY" in query["sql"]]
    assert counted and all(ReportRow._meta.db_table not in sql for sql in counted)
    assert Conversation.objects.filter(tags__name="billing").count() == 2
