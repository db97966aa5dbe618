"""`ReportRow` (reports.rows) and the index-walk percentiles (reports.walks) give the report exactly what the plain
computation over conversations and their facts gives: a generated history (ties, answered-never-resolved and never
answered conversations, reopens and reassignments, a merge, a deleted team and conversation, the Berlin DST day) is
reported by both, in several time zones and periods, for every grouping; and the backfill rebuilds the rows the
projector kept. The tag grouping's rows (`ReportTagRow`, kept by database triggers) follow every way a conversation's
tags or figures change: services, the m2m manager, renaming and deleting a tag, deleting and merging conversations,
surveys; and the report per tag stays byte-identical to the plain computation."""

import datetime as dt
import json
import random
import zoneinfo
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.models import Conversation, Tag, Team
from conversations.roles import AGENTS_GROUP
from reports import selectors, walks
from reports.models import TAG_ROW_COLUMNS, ReportRow, ReportTagRow
from reports.periods import Period
from reports.rows import COLUMNS, rows_rebuild
from reports.selectors import conversation_report
from reports.walks import walk_scope
from sla.policies import sla_policy_save
from tests.reports import reference_selectors
from tests.support.people import make_user
from tests.support.reports import History

GROUPINGS = ("day", "agent", "team", "channel", "tag")
START = dt.datetime(2026, 10, 23, 12, tzinfo=dt.UTC)


@pytest.fixture
def generated(frozen, roles, contact):
    """About forty conversations from 10-23 to 11-02 (the Berlin and New York DST changes), built through the
    services in time order. Creation minutes and reply/resolution offsets come from small sets, so values tie."""
    rng = random.Random(22)
    agents = [make_user(f"agent{n}", AGENTS_GROUP) for n in range(3)]
    teams = [Team.objects.create(name=f"Team {n}") for n in range(3)]
    # SLA targets met and breached (by the sweep's bulk update, which the row's triggers follow).
    sla_policy_save(
        name="Fast",
        position=1,
        match={},
        targets={"first_response": 15, "resolution": 120},
        pause_on=[],
        warning_percent=None,
    )
    history, made = History(frozen), {}
    minute = dt.timedelta(minutes=1)
    for n in range(40):
        name = f"c{n}"
        created = START + dt.timedelta(hours=rng.choice(range(0, 10 * 24, 5)), minutes=rng.choice((0, 0, 30)))
        channel = rng.choice(("email", "live_chat", "sms"))
        team = rng.choice((*teams, None))
        tags = rng.sample(["billing", "vip", "bug"], rng.choice((0, 1, 1, 2)))

        def open_(name=name, channel=channel, team=team, tags=tags):
            made[name] = services.conversation_open(contact=contact, channel=channel, subject=name, team=team)
            if tags:
                services.conversation_add_tags(conversation=made[name], tags=tags)

        history.at(created, open_)
        agent = rng.choice((*agents, None))
        if agent is not None:
            history.at(
                created + minute,
                lambda name=name, agent=agent: services.conversation_assign(
                    conversation=made[name], assignee=agent, actor=agent
                ),
            )
        if rng.random() < 0.2:
            history.at(
                created + 2 * minute,
                lambda name=name: services.message_create(
                    conversation=made[name], body="note", sender_type="agent", author=agents[0], internal=True
                ),
            )
        if rng.random() < 0.75:
            reply = created + rng.choice((5, 10, 10, 30, 90)) * minute
            history.at(
                reply,
                lambda name=name: services.message_create(
                    conversation=made[name], body="Hello", sender_type="agent", author=agents[0]
                ),
            )
            if rng.random() < 0.7:
                resolved = reply + rng.choice((20, 60, 60, 600)) * minute
                history.at(
                    resolved,
                    lambda name=name: services.conversation_change_status(
                        conversation=made[name], status="resolved", actor=agents[0]
                    ),
                )
                if rng.random() < 0.6:
                    score, comment = rng.choice((1, 2, 4, 5, 5, None)), rng.choice(("", "", "Thanks"))

                    def survey(name=name, score=score, comment=comment):
                        sent = services.survey_create(conversation=made[name], question="How did we do?")
                        if score is not None:  # some are never answered
                            services.survey_answer(survey=sent, score=score, comment=comment)

                    history.at(resolved + 10 * minute, survey)
                if rng.random() < 0.3:
                    again = resolved + 30 * minute
                    history.at(
                        again,
                        lambda name=name: services.message_create(
                            conversation=made[name], body="Still broken", sender_type="customer"
                        ),
                    )
                    other = rng.choice(agents)
                    history.at(
                        again + minute,
                        lambda name=name, other=other: services.conversation_assign(
                            conversation=made[name], assignee=other, team=rng.choice(teams), actor=other
                        ),
                    )
                    history.at(
                        again + 60 * minute,
                        lambda name=name: services.conversation_change_status(
                            conversation=made[name], status="resolved", actor=agents[1]
                        ),
                    )
    history.play()
    services.conversation_merge(source=made["c3"], target=made["c4"], actor=agents[0])
    made["c5"].delete()
    teams[2].delete()
    return made


def _zones_and_periods():
    for zone in ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"):
        tz = zoneinfo.ZoneInfo(zone)
        yield Period(since=dt.date(2026, 10, 22), until=dt.date(2026, 11, 3), zone=tz)
        yield Period(since=dt.date(2026, 10, 25), until=dt.date(2026, 10, 25), zone=tz)
        yield Period(since=dt.date(2026, 10, 27), until=dt.date(2026, 10, 30), zone=tz)


def test_every_grouping_equals_the_plain_computation(generated):
    compared = 0
    for period in _zones_and_periods():
        for group_by in GROUPINGS:
            new = conversation_report(period=period, group_by=group_by)
            plain = reference_selectors.conversation_report(period=period, group_by=group_by)
            assert json.dumps(new, sort_keys=True, default=str) == json.dumps(plain, sort_keys=True, default=str), (
                period,
                group_by,
            )
            compared += bool(new["rows"])
    assert compared >= 50  # the periods are not empty
    whole = conversation_report(period=next(_zones_and_periods()), group_by="agent")["total"]
    assert whole["reopened"] > 0 and whole["first_response_minutes"]["median"] is not None
    assert whole["sla"]["targets"] > whole["sla"]["breached"] > 0
    assert whole["csat"]["answered"] > whole["csat"]["commented"] > 0


def test_the_projector_keeps_each_row_as_the_backfill_computes_it(generated):
    kept = sorted(ReportRow.objects.values_list(*COLUMNS))
    assert len(kept) == Conversation.objects.count() == 39
    assert rows_rebuild() == 39
    assert sorted(ReportRow.objects.values_list(*COLUMNS)) == kept


def _expected_tag_rows() -> list[tuple]:
    """What the tag rows must be: each report row once per tag of its conversation, or once without a tag; in the
    total (`in_total`) the row of the conversation's smallest tag id, or its untagged row."""
    tags = defaultdict(list)
    for conversation_id, tag_id in Conversation.tags.through.objects.values_list("conversation_id", "tag_id"):
        tags[conversation_id].append(tag_id)
    return sorted(
        (
            (conversation_id, tag_id, tag_id is None or tag_id == min(tags[conversation_id]), *values)
            for conversation_id, *values in ReportRow.objects.values_list("conversation_id", *TAG_ROW_COLUMNS)
            for tag_id in tags.get(conversation_id) or [None]
        ),
        key=lambda row: (row[0], row[1] or 0),
    )


def _tag_rows() -> list[tuple]:
    return sorted(
        ReportTagRow.objects.values_list("conversation_id", "tag_id", "in_total", *TAG_ROW_COLUMNS),
        key=lambda row: (row[0], row[1] or 0),
    )


def _tag_reports_equal_the_plain_computation() -> dict:
    """Every period's tag report equals the reference's; returns the first (widest) Berlin one."""
    reports = []
    for period in _zones_and_periods():
        new = conversation_report(period=period, group_by="tag")
        plain = reference_selectors.conversation_report(period=period, group_by="tag")
        assert json.dumps(new, sort_keys=True, default=str) == json.dumps(plain, sort_keys=True, default=str), period
        reports.append(new)
    return reports[0]


def _tag_keys(report: dict) -> dict:
    return {row["key"]: row["created"] for row in report["rows"]}


def test_tag_rows_follow_every_change_of_tags_and_rows(generated, frozen):
    assert _tag_rows() == _expected_tag_rows()
    assert ReportTagRow.objects.filter(tag=None).exists()  # untagged conversations: the "No tag" group
    before = _tag_keys(_tag_reports_equal_the_plain_computation())
    assert set(before) == {"billing", "vip", "bug", None}

    # Services: add to an untagged conversation (its untagged row goes), remove the last tag of another (it comes back).
    untagged = next(c for c in generated.values() if c.pk and not c.tags.exists() and c.merged_into_id is None)
    services.conversation_add_tags(conversation=untagged, tags=["vip", "new-tag"])
    tagged_once = next(c for c in Conversation.objects.all() if c.tags.count() == 1 and c.merged_into_id is None)
    services.conversation_remove_tags(
        conversation=tagged_once, tags=list(tagged_once.tags.values_list("name", flat=True))
    )
    assert not ReportTagRow.objects.filter(conversation=untagged, tag=None).exists()
    assert ReportTagRow.objects.filter(conversation=tagged_once, tag=None).count() == 1
    assert _tag_rows() == _expected_tag_rows()
    after = _tag_keys(_tag_reports_equal_the_plain_computation())
    assert after["new-tag"] == 1 and after["vip"] == before["vip"] + 1

    # The m2m manager directly (admin forms, bulk paths): set, clear.
    billing = Tag.objects.get(name="billing")
    some = list(Conversation.objects.filter(merged_into=None).order_by("pk")[:6])
    billing.conversations.add(*some[:3])
    some[3].tags.set([billing])
    some[4].tags.clear()
    assert _tag_rows() == _expected_tag_rows()

    # Renaming a tag renames its group; deleting one moves conversations left without tags to "No tag".
    Tag.objects.filter(name="bug").update(name="defect")
    Tag.objects.get(name="new-tag").delete()
    assert _tag_rows() == _expected_tag_rows()
    keys = _tag_keys(_tag_reports_equal_the_plain_computation())
    assert "defect" in keys and "bug" not in keys and "new-tag" not in keys

    # A survey answered and a resolution on tagged conversations move their tag rows' figures.
    frozen.now = dt.datetime(2026, 11, 3, 12, tzinfo=dt.UTC)
    agent = get_user_model().objects.get(username="agent0")
    target = some[0]
    services.survey_answer(survey=services.survey_create(conversation=target, question="How did we do?"), score=5)
    services.message_create(conversation=some[1], body="Hello", sender_type="agent", author=agent)
    services.conversation_change_status(conversation=some[1], status="resolved", actor=agent)
    # Merging moves the source's tags to the target; deleting a conversation deletes its tag rows.
    services.conversation_merge(source=some[1], target=some[2], actor=agent)
    deleted = some[0].pk
    some[0].delete()
    assert not ReportTagRow.objects.filter(conversation_id=deleted).exists()
    assert _tag_rows() == _expected_tag_rows()
    _tag_reports_equal_the_plain_computation()

    # The backfill rebuilds the very rows the triggers kept.
    kept = _tag_rows()
    rows_rebuild()
    assert _tag_rows() == kept


@pytest.mark.postgres
@pytest.mark.parametrize("scope", ["wide", "range"])
def test_postgresql_walks_and_sorts_equal_the_plain_computation(generated, monkeypatch, scope):
    """PostgreSQL reads percentiles by index walks over a wide period (reports.pgwalks: keyed groups, local days
    across two UTC dates, the Kolkata half-hour offset and the DST day) and by percentile_cont over a narrow one;
    forced either way for every period, both give the plain computation's report."""
    monkeypatch.setattr(selectors, "walk_scope", lambda created, period=None: scope)
    for period in _zones_and_periods():
        for group_by in GROUPINGS:
            new = conversation_report(period=period, group_by=group_by)
            plain = reference_selectors.conversation_report(period=period, group_by=group_by)
            assert json.dumps(new, sort_keys=True, default=str) == json.dumps(plain, sort_keys=True, default=str), (
                scope,
                period,
                group_by,
            )


@pytest.mark.postgres
def test_postgresql_walks_skip_the_creation_bounds_only_when_the_period_holds_every_row(generated, monkeypatch):
    whole = next(_zones_and_periods())
    assert walk_scope(0, whole) == "range"  # forty conversations: sorted, not walked
    monkeypatch.setattr(walks, "WALK_MIN_ROWS", 0)
    assert walk_scope(0, whole) == "all"
    one_day = Period(since=dt.date(2026, 10, 25), until=dt.date(2026, 10, 25), zone=zoneinfo.ZoneInfo("UTC"))
    assert walk_scope(0, one_day) in ("wide", "range")


@pytest.mark.postgres
def test_the_rebuild_on_postgresql_builds_the_indexes_it_dropped(generated):
    def indexes():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [ReportRow._meta.db_table])
            return sorted(row[0] for row in cursor.fetchall())

    before = indexes()
    assert len(before) > 20
    assert rows_rebuild() == 39
    assert indexes() == before


@pytest.mark.postgres
@pytest.mark.parametrize("scope", ["all", "wide"])
def test_postgresql_tag_percentiles_are_walks_over_the_tag_rows(generated, monkeypatch, scope):
    """group_by=tag over a wide period: each tag's median and p90 are read by the batched walks over the tag rows'
    indexes (no percentile_cont sort), the "No tag" group's too, and equal the plain computation's figures."""
    monkeypatch.setattr(selectors, "walk_scope", lambda created, period=None: scope)
    periods = list(_zones_and_periods())
    for period in periods[:1] if scope == "all" else periods:
        with CaptureQueriesContext(connection) as queries:
            new = conversation_report(period=period, group_by="tag")
        plain = reference_selectors.conversation_report(period=period, group_by="tag")
        assert json.dumps(new, sort_keys=True, default=str) == json.dumps(plain, sort_keys=True, default=str), period
        statements = [query["sql"] for query in queries.captured_queries]
        assert not any("percentile_cont" in sql.lower() for sql in statements)
        walked = [sql for sql in statements if "LATERAL" in sql and ReportTagRow._meta.db_table in sql]
        if any(row["first_response_minutes"]["median"] is not None and row["key"] for row in new["rows"]):
            assert len(walked) == 1  # one statement for every walk
        if scope == "all":
            assert any(row["key"] is None for row in new["rows"]) and len(new["rows"]) == 4
