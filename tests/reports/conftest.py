"""Report fixtures: a hand-made history around the end of summer time in Berlin (2026-10-25, a 25-hour day), built
through the services at controlled moments, and the figures it must give, computed by hand in the tests."""

import datetime as dt

import pytest
from django.utils import timezone

from conversations import services
from conversations.preferences import preference_save
from conversations.roles import AGENTS_GROUP
from sla.policies import sla_policy_save
from tests.support.clock import Clock
from tests.support.people import make_user
from tests.support.reports import UTC, History, utc


@pytest.fixture
def frozen(monkeypatch) -> Clock:
    clock = Clock(dt.datetime(2026, 10, 20, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", clock)
    return clock


@pytest.fixture
def berlin_manager(manager):
    preference_save(user=manager, time_zone="Europe/Berlin")
    return manager


@pytest.fixture
def story(frozen, roles, team, contact):
    """Five conversations (UTC times; Berlin is UTC+2 until 2026-10-25 01:00 UTC, then UTC+1):

    A  10-23 21:59 (Berlin 10-23 23:59)       before the period
    B  10-23 22:00 (Berlin 10-24 00:00)       email, Support, tag billing; assigned ann; reply +10; resolved +60;
                                               CSAT 5
    C  10-24 22:30 (Berlin 10-25 00:30 CEST)  live chat, no team, tags billing + vip; assigned ann; reply +20;
                                               resolved +120; customer writes +180 (reopened); assigned bob +200;
                                               resolved +240; CSAT 2
    D  10-25 22:59 (Berlin 10-25 23:59 CET)   email, Support, no tag; assigned ann; internal note +5; reply +30;
                                               never resolved
    E  10-25 23:00 (Berlin 10-26 00:00 CET)   after the period
    An SLA policy gives each conversation one first-response target of 15 minutes: C and D breach it.
    """
    ann = make_user("ann", AGENTS_GROUP)
    ann.first_name, ann.last_name = "Ann", "Agent"
    ann.save()
    bob = make_user("bob", AGENTS_GROUP)
    sla_policy_save(
        name="Fast", position=1, match={}, targets={"first_response": 15}, pause_on=[], warning_percent=None
    )
    history, made = History(frozen), {}
    minutes = dt.timedelta(minutes=1)

    def open_(name, channel, team_=None, tags=()):
        def act():
            made[name] = services.conversation_open(contact=contact, channel=channel, subject=name, team=team_)
            if tags:
                services.conversation_add_tags(conversation=made[name], tags=list(tags))

        return act

    def reply(name, internal=False, sender="agent"):
        return lambda: services.message_create(
            conversation=made[name],
            body="Hello",
            sender_type=sender,
            author=ann if sender == "agent" else None,
            internal=internal,
        )

    def status(name, value):
        return lambda: services.conversation_change_status(conversation=made[name], status=value, actor=ann)

    def assign(name, user):
        return lambda: services.conversation_assign(conversation=made[name], assignee=user, actor=ann)

    def survey(name, score):
        def act():
            services.survey_answer(
                survey=services.survey_create(conversation=made[name], question="How did we do?"), score=score
            )

        return act

    history.at(utc(23, 21, 59), open_("A", "email", team))
    start_b = utc(23, 22)
    history.at(start_b, open_("B", "email", team, ["billing"]))
    history.at(start_b + 1 * minutes, assign("B", ann))
    history.at(start_b + 10 * minutes, reply("B"))
    history.at(start_b + 60 * minutes, status("B", "resolved"))
    history.at(start_b + 70 * minutes, survey("B", 5))
    start_c = utc(24, 22, 30)
    history.at(start_c, open_("C", "live_chat", None, ["billing", "vip"]))
    history.at(start_c + 1 * minutes, assign("C", ann))
    history.at(start_c + 20 * minutes, reply("C"))
    history.at(start_c + 120 * minutes, status("C", "resolved"))
    history.at(start_c + 180 * minutes, reply("C", sender="customer"))
    history.at(start_c + 200 * minutes, assign("C", bob))
    history.at(start_c + 240 * minutes, status("C", "resolved"))
    history.at(start_c + 250 * minutes, survey("C", 2))
    start_d = utc(25, 22, 59)
    history.at(start_d, open_("D", "email", team))
    history.at(start_d + 0.5 * minutes, assign("D", ann))
    history.at(start_d + 5 * minutes, reply("D", internal=True))
    history.at(start_d + 30 * minutes, reply("D"))
    history.at(utc(25, 23), open_("E", "sms", team))
    history.play()
    for conversation in made.values():
        conversation.refresh_from_db()
    return {"ann": ann, "bob": bob, "team": team, **made}
