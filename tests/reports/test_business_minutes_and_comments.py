"""Business minutes (on the business calendar of the conversation's SLA policy) and CSAT comments per group in
`GET /api/analytics/conversations/`, against figures computed by hand (docs/reports.md).

The calendar is Berlin, Monday to Friday 09:00-17:00; summer time ends on Sunday 2026-10-25 (CEST, UTC+2, before;
CET, UTC+1, after), between the two conversations' Friday and Monday:

F  email, created Fri 10-23 16:00 CEST (14:00 UTC); reply Mon 10-26 09:30 CET (08:30 UTC); resolved Mon 11:00 CET
   (10:00 UTC); CSAT 4 "Quick, thanks".
   First response: 3,990 calendar minutes; business 60 (Fri 16-17) + 30 (Mon 09:00-09:30, 08:00 UTC: the CET hour)
   = 90. Resolution: 4,080 calendar; business 60 + 120 = 180.
G  live chat, created Mon 10-26 08:00 CET (07:00 UTC, before opening); reply 09:10 CET; resolved 10:00 CET; the
   customer writes 10:30 (reopened); resolved again 18:00 CET (17:00 UTC, after closing); CSAT 1 "Took all day".
   First response: 70 calendar, 10 business. Resolution (to the last): 600 calendar, 480 business (09:00-17:00).
H  email, created Mon 10-26 12:00 CET (11:00 UTC), never answered; CSAT 3 without a comment.

Totals (linear interpolation): first response business [10, 90] → median 50, p90 10 + 0.9 × 80 = 82; calendar
[70, 3990] → median 2030, p90 70 + 0.9 × 3920 = 3598. Resolution business [180, 480] → median 330, p90 450;
calendar [600, 4080] → median 2340, p90 600 + 0.9 × 3480 = 3732.
"""

import datetime as dt
import importlib

import pytest
from django.apps import apps

from conversations import services
from reports.models import ConversationFacts
from sla.policies import business_hours_save, sla_policy_save
from tests.support.people import client_for
from tests.support.reports import History, utc

URL = "/api/analytics/conversations/"
PERIOD = {"since": "2026-10-23", "until": "2026-10-26"}
backfill = importlib.import_module("reports.migrations.0003_business_minutes").backfill


@pytest.fixture
def office_story(frozen, roles, contact, manager):
    hours = business_hours_save(
        name="Office Berlin",
        timezone="Europe/Berlin",
        intervals=[{"weekday": day, "start": "09:00", "end": "17:00"} for day in range(5)],
    )
    sla_policy_save(
        name="Office",
        position=1,
        match={},
        targets={"first_response": 60},
        pause_on=[],
        warning_percent=None,
        business_hours=hours,
    )
    history, made = History(frozen), {}

    def open_(name, channel):
        def act():
            made[name] = services.conversation_open(contact=contact, channel=channel, subject=name)

        return act

    def write(name, sender="agent"):
        return lambda: services.message_create(
            conversation=made[name], body="Hello", sender_type=sender, author=manager if sender == "agent" else None
        )

    def status(name, value):
        return lambda: services.conversation_change_status(conversation=made[name], status=value, actor=manager)

    def survey(name, score, comment=""):
        def act():
            services.survey_answer(
                survey=services.survey_create(conversation=made[name], question="How did we do?"),
                score=score,
                comment=comment,
            )

        return act

    history.at(utc(23, 14), open_("F", "email"))
    history.at(utc(26, 7), open_("G", "live_chat"))
    history.at(utc(26, 8, 10), write("G"))
    history.at(utc(26, 8, 30), write("F"))
    history.at(utc(26, 9), status("G", "resolved"))
    history.at(utc(26, 9, 30), write("G", sender="customer"))
    history.at(utc(26, 10), status("F", "resolved"))
    history.at(utc(26, 10, 30), survey("F", 4, "Quick, thanks"))
    history.at(utc(26, 11), open_("H", "email"))
    history.at(utc(26, 11, 30), survey("H", 3))
    history.at(utc(26, 17), status("G", "resolved"))
    history.at(utc(26, 17, 15), survey("G", 1, "Took all day"))
    history.play()
    return made


def report(user, **params):
    response = client_for(user).get(URL, {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()


def minutes(row):
    return {
        name: row[name]
        for name in (
            "first_response_minutes",
            "resolution_minutes",
            "first_response_business_minutes",
            "resolution_business_minutes",
        )
    }


def comment(conversation, score, text, answered_at):
    return {"conversation": conversation.pk, "score": score, "comment": text, "answered_at": answered_at.isoformat()}


def test_business_minutes_count_the_policy_calendar_across_the_dst_weekend(office_story, berlin_manager):
    body = report(berlin_manager, group_by="channel")
    assert minutes(body["total"]) == {
        "first_response_minutes": {"median": 2030.0, "p90": 3598.0},
        "resolution_minutes": {"median": 2340.0, "p90": 3732.0},
        "first_response_business_minutes": {"median": 50.0, "p90": 82.0},
        "resolution_business_minutes": {"median": 330.0, "p90": 450.0},
    }
    rows = {row["key"]: row for row in body["rows"]}
    assert minutes(rows["email"]) == {  # F only: H was never answered nor resolved
        "first_response_minutes": {"median": 3990.0, "p90": 3990.0},
        "resolution_minutes": {"median": 4080.0, "p90": 4080.0},
        "first_response_business_minutes": {"median": 90.0, "p90": 90.0},
        "resolution_business_minutes": {"median": 180.0, "p90": 180.0},
    }
    assert minutes(rows["live_chat"])["resolution_business_minutes"] == {"median": 480.0, "p90": 480.0}
    assert rows["live_chat"]["reopened"] == 1


def test_csat_comments_per_group_newest_first(office_story, berlin_manager):
    f, g = office_story["F"], office_story["G"]
    body = report(berlin_manager, group_by="channel")
    rows = {row["key"]: row for row in body["rows"]}
    assert rows["email"]["csat"] == {
        "answered": 2,
        "average": 3.5,
        "satisfied_share": 0.5,
        "commented": 1,
        "comments": [comment(f, 4, "Quick, thanks", utc(26, 10, 30))],
    }
    assert rows["live_chat"]["csat"] == {
        "answered": 1,
        "average": 1.0,
        "satisfied_share": 0.0,
        "commented": 1,
        "comments": [comment(g, 1, "Took all day", utc(26, 17, 15))],
    }
    assert body["total"]["csat"]["commented"] == 2
    assert body["total"]["csat"]["comments"] == [
        comment(g, 1, "Took all day", utc(26, 17, 15)),
        comment(f, 4, "Quick, thanks", utc(26, 10, 30)),
    ]


def test_the_backfill_gives_the_business_minutes_the_projector_stored(office_story):
    def stored():
        return sorted(
            ConversationFacts.objects.values_list(
                "conversation__subject", "first_response_business_minutes", "resolution_business_minutes"
            )
        )

    assert stored() == [("F", 90.0, 180.0), ("G", 10.0, 480.0)]
    ConversationFacts.objects.update(first_response_business_minutes=None, resolution_business_minutes=None)
    ConversationFacts.objects.filter(conversation__subject="G").delete()  # as before G was ever resolved
    backfill(apps, None)
    # G's row comes back for its first response; its resolution is restored by 0002's backfill from events.
    assert stored() == [("F", 90.0, 180.0), ("G", 10.0, None)]


def test_calendar_minutes_without_a_calendar_on_the_policy(frozen, roles, contact, manager, berlin_manager):
    sla_policy_save(
        name="Plain", position=1, match={}, targets={"first_response": 60}, pause_on=[], warning_percent=None
    )
    frozen.now = utc(23, 14)
    conversation = services.conversation_open(contact=contact, channel="email", subject="P")
    frozen.now = utc(23, 14) + dt.timedelta(minutes=45)
    services.message_create(conversation=conversation, body="Hi", sender_type="agent", author=manager)
    assert ConversationFacts.objects.get(pk=conversation.pk).first_response_business_minutes == 45.0


def test_the_reports_page_shows_business_minutes_and_the_comments_linking_their_conversations(
    office_story, berlin_manager
):
    from tests.support.people import browser_for

    response = browser_for(berlin_manager).get("/admin/reports/conversationreport/", {**PERIOD, "group_by": "channel"})
    assert response.status_code == 200
    content = response.content.decode()
    f, g = office_story["F"], office_story["G"]
    assert 'class="fig-first-response-business"' in content and ">90.0 / 90.0</a>" in content
    assert ">480.0 / 480.0</a>" in content  # G's business resolution, on the live chat row
    assert (
        f'<a class="fig-comment" href="/admin/conversations/conversation/{g.pk}/change/">#{g.pk}</a> '
        "<b>1/5</b> Took all day"
    ) in content
    assert f'href="/admin/conversations/conversation/{f.pk}/change/">#{f.pk}</a> <b>4/5</b> Quick, thanks' in content


@pytest.mark.parametrize("group_by", ["day", "agent", "team", "tag"])
def test_total_business_minutes_and_comments_are_the_same_whatever_the_grouping(office_story, berlin_manager, group_by):
    """The total of a grouping summed from its groups (day, agent, team) or computed on its own (tag) equals the
    channel grouping's, whose figures are checked by hand above (latest comments newest first across groups)."""
    assert report(berlin_manager, group_by=group_by)["total"] == report(berlin_manager, group_by="channel")["total"]
