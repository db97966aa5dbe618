"""`manage.py load_demo_data`: the demo `make run` shows, made through the services and safe to load twice."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.utils import timezone

from conversations.choices import Channel
from conversations.models import AgentProfile, Contact, Conversation, Event, Message, Tag, Team
from conversations.roles import AGENTS_GROUP, MANAGERS_GROUP
from tests.support.people import client_for

COUNTED = [User, Group, Team, AgentProfile, Contact, Conversation, Message, Tag, Event]


def load() -> str:
    out = StringIO()
    call_command("load_demo_data", "--demo", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.fixture
def demo(db) -> str:
    return load()


def test_loading_twice_creates_nothing_new(demo):
    first = row_counts()

    output = load()

    assert row_counts() == first
    assert "nothing new" in output


def test_prints_logins_and_they_work(demo):
    assert "admin / admin" in demo and "manager / manager" in demo
    admin = authenticate(username="admin", password="admin")
    assert admin is not None and admin.is_superuser
    manager = authenticate(username="manager", password="manager")
    assert manager.groups.filter(name=MANAGERS_GROUP).exists() and manager.is_staff


def test_agents_teams_and_contacts_are_ready_for_routing(demo):
    agents = User.objects.filter(groups__name=AGENTS_GROUP, is_staff=True)
    assert agents.count() == 4
    profiles = AgentProfile.objects.filter(user__in=agents)
    assert profiles.count() == 4 and all(profile.teams.exists() for profile in profiles)
    assert profiles.filter(status="away").exists() and profiles.filter(status="online").count() == 3
    assert set(Team.objects.values_list("name", flat=True)) >= {"Support", "Billing", "Retention", "VIP"}
    assert Contact.objects.count() == 20
    assert all(phone.startswith("+") for phone in Contact.objects.values_list("phone", flat=True))
    assert Contact.objects.filter(attributes__vip=True, attributes__plan="enterprise").exists()


def test_conversations_vary_and_have_messages_and_events(demo):
    conversations = Conversation.objects.all()
    assert conversations.count() == 50
    assert set(conversations.values_list("status", flat=True)) == {
        "new",
        "open",
        "pending",
        "on_hold",
        "resolved",
        "closed",
    }
    assert len(set(conversations.values_list("channel", flat=True))) == len(Channel.choices)
    assert len(set(conversations.values_list("priority", flat=True))) >= 3
    assert conversations.exclude(disposition="").exists() and Tag.objects.filter(name="vip").exists()
    for conversation in conversations:
        assert 1 <= conversation.messages.count() <= 5
    assert Event.objects.filter(type="conversation.created").count() == 50
    assert Event.objects.filter(type="message.created").count() == Message.objects.count()


def test_without_demo_or_debug_it_refuses_to_create_admin_admin(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="creates the superuser admin/admin"):
        call_command("load_demo_data", stdout=StringIO())
    assert not User.objects.filter(username="admin").exists()


def test_the_demo_is_a_history_the_reports_can_measure(demo):
    """Conversations open over the last two weeks, answers and resolutions come minutes to hours later, and
    customers answer surveys: the Reports page shows real medians and CSAT, not zeros."""
    now = timezone.now()
    opened = sorted(Conversation.objects.values_list("created_at", flat=True))
    assert opened[-1] <= now and now - opened[0] > dt.timedelta(days=7)
    assert len({moment.date() for moment in opened}) >= 8
    assert not Message.objects.filter(created_at__gt=now).exists()
    assert all(
        message.created_at >= message.conversation.created_at
        for message in Message.objects.select_related("conversation")
    )
    manager = User.objects.get(username="manager")

    total = client_for(manager).get("/api/analytics/conversations/", {"group_by": "agent"}).json()["total"]

    assert total["created"] == 50
    assert total["first_response_minutes"]["median"] > 1
    assert total["resolution_minutes"]["median"] > 10
    assert total["csat"]["answered"] >= 5
    assert 1 <= total["csat"]["average"] <= 5
