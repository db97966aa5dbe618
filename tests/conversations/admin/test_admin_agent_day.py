"""The agent's day in admin (docs/agent_day.md): saved views in the list, snooze presets, links, merge confirmation, the
live poll, notifications and the shortcuts panel."""

import datetime as dt
import json
import zoneinfo

import pytest
from django.urls import reverse

from conversations import clock, services
from conversations.models import Conversation, Event, Message, SavedView, UserPreference
from conversations.roles import AGENTS_GROUP
from tests.support.people import browser_for, make_user

LIST = "/admin/conversations/conversation/"


def page(conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def test_the_list_shows_saved_views_with_counts_and_saves_the_current_filters(agent, conversation, contact):
    services.conversation_change_status(conversation=conversation, status="open")
    services.conversation_open(contact=contact, channel="email", subject="other")
    browser = browser_for(agent)
    saved = browser.post(
        reverse("admin:conversations_conversation_save_view"),
        {"name": "Open ones", "query": "status__exact=open&q=Printer"},
    )
    view = SavedView.objects.get(name="Open ones")
    assert view.filters == {"status": "open", "search": "Printer"}
    assert saved.url.endswith(f"?saved_view={view.pk}")
    listing = browser.get(f"{LIST}?saved_view={view.pk}")
    html = listing.content.decode()
    assert 'aria-label="1 conversations"' in html and "Open ones" in html
    assert list(listing.context["cl"].result_list) == [conversation]


def test_an_agent_cannot_share_a_view_from_admin(agent):
    browser_for(agent).post(
        reverse("admin:conversations_conversation_save_view"), {"name": "Ours", "query": "", "shared_with": "everyone"}
    )
    assert not SavedView.objects.exists()


def test_snooze_presets_use_the_agents_time_zone(agent, conversation):
    UserPreference.objects.create(user=agent, time_zone="Asia/Tokyo")
    browser_for(agent).post(
        reverse("admin:conversations_conversation_snooze", args=[conversation.pk]), {"preset": "tomorrow"}
    )
    conversation.refresh_from_db()
    local = conversation.snoozed_until.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    today = clock.now().astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")).date()
    assert (local.date(), local.hour, local.minute) == (today + dt.timedelta(days=1), 9, 0)
    assert conversation.status == "pending"
    html = browser_for(agent).get(page(conversation)).content.decode()
    assert "Snoozed until" in html


def test_next_monday_preset_is_a_monday_at_nine(agent, conversation):
    browser_for(agent).post(
        reverse("admin:conversations_conversation_snooze", args=[conversation.pk]), {"preset": "monday"}
    )
    conversation.refresh_from_db()
    assert conversation.snoozed_until.weekday() in (0, 6, 1)  # Monday 9:00 in the site zone, seen in UTC
    assert conversation.snoozed_until > clock.now()


def test_the_live_poll_beats_presence_and_returns_new_messages(agent, conversation, roles):
    alice = make_user("alice", AGENTS_GROUP)
    live = reverse("admin:conversations_conversation_live", args=[conversation.pk])
    browser_for(alice).post(live, {"state": "replying", "after": "0"})
    first = services.message_create(conversation=conversation, body="Hello?", sender_type="customer")
    answer = browser_for(agent).post(live, {"state": "viewing", "after": "0"}).json()
    assert answer["presence"] == [{"username": "alice", "state": "replying"}]
    assert [m["body"] for m in answer["messages"]] == ["Hello?"]
    later = browser_for(agent).post(live, {"state": "viewing", "after": str(first.pk)}).json()
    assert later["messages"] == []


def test_the_conversation_page_has_the_panels_and_labels(agent, conversation, roles):
    make_user("alice", AGENTS_GROUP)
    html = browser_for(agent).get(page(conversation)).content.decode()
    for text in (
        "Tomorrow 9:00",
        "Next Monday 9:00",
        "Linked conversations",
        "Keyboard",
        "aria-keyshortcuts",
        'id="ws-presence"',
        'id="ws-usernames"',
        "unread",
    ):
        assert text in html
    assert "alice" in json.loads(html.split('id="ws-usernames" type="application/json">')[1].split("</script>")[0])


def test_linking_from_the_page(agent, conversation, contact):
    other = services.conversation_open(contact=contact, channel="email", subject="Child")
    browser_for(agent).post(
        reverse("admin:conversations_conversation_link", args=[conversation.pk]),
        {"other": f"#{other.pk}", "kind": "child"},
    )
    assert services.links_of(conversation)[0]["conversation"] == other.pk
    assert f"#{other.pk} Child" in browser_for(agent).get(page(conversation)).content.decode()


def test_merge_action_confirms_what_moves_then_merges(agent, contact):
    source = services.conversation_open(contact=contact, channel="email", subject="Again")
    target = services.conversation_open(contact=contact, channel="email", subject="First")
    services.message_create(conversation=source, body="one more", sender_type="customer")
    services.message_create(conversation=source, body="a note", sender_type="agent", internal=True)
    browser = browser_for(agent)
    form = {"action": "merge_into", "_selected_action": [source.pk], "into": target.pk}
    confirm = browser.post(LIST, form)
    html = confirm.content.decode()
    assert "Confirm merge" in html and "<td>1</td><td>1</td>" in html
    assert Message.objects.filter(conversation=target).count() == 0
    browser.post(LIST, {**form, "confirm": "1"})
    source.refresh_from_db()
    assert (source.status, source.merged_into_id) == ("closed", target.pk)
    assert Message.objects.filter(conversation=target).count() == 2
    assert Event.objects.filter(type="conversation.merged").count() == 2


def test_notifications_page_lists_only_mine(agent, conversation, roles):
    alice = make_user("alice", AGENTS_GROUP)
    services.message_create(
        conversation=conversation, body="@alice please", sender_type="agent", author=agent, internal=True
    )
    alice_page = browser_for(alice).get("/admin/conversations/notification/").content.decode()
    assert "agent mentioned you" in alice_page and "1 unread" in alice_page
    assert "agent mentioned you" not in browser_for(agent).get("/admin/conversations/notification/").content.decode()


@pytest.mark.parametrize("with_inputs", [True, False])
def test_apply_macro_bulk_action_asks_inputs_and_lists_outcomes(agent, manager, contact, with_inputs):
    from workflows.engine import macros

    inputs = [{"key": "order", "label": "Order number", "type": "text"}] if with_inputs else []
    macro = macros.macro_create(
        name="Tag order",
        inputs=inputs,
        steps=[{"type": "add_tag", "config": {"tags": ["order-{{ inputs.order or 'none' }}"]}}],
    )
    one = services.conversation_open(contact=contact, channel="email", subject="one")
    two = services.conversation_open(contact=contact, channel="email", subject="two")
    browser = browser_for(agent)
    base = {"action": "apply_macro", "_selected_action": [one.pk, two.pk]}
    assert "Choose a macro" in browser.post(LIST, base).content.decode()
    second = browser.post(LIST, {**base, "apply": "1", "macro": macro.pk})
    if with_inputs:
        assert "Order number" in second.content.decode()
        browser.post(LIST, {**base, "apply": "1", "macro": macro.pk, "inputs_shown": "1", "input_order": "A-9"})
    expected = "order-A-9" if with_inputs else "order-none"
    assert [
        list(c.tags.values_list("name", flat=True)) for c in Conversation.objects.filter(pk__in=[one.pk, two.pk])
    ] == [[expected], [expected]]


def test_a_manager_shares_a_view_with_a_team_from_admin(manager, team):
    browser_for(manager).post(
        reverse("admin:conversations_conversation_save_view"),
        {"name": "Billing escalations", "query": "priority__exact=urgent", "shared_with": f"team:{team.pk}"},
    )
    view = SavedView.objects.get(name="Billing escalations")
    assert (view.shared_with, view.filters) == (f"team:{team.pk}", {"priority": "urgent"})
    assert f'value="team:{team.pk}"' in browser_for(manager).get(LIST).content.decode()


def test_the_list_marks_snoozed_conversations(agent, conversation):
    services.conversation_snooze(conversation=conversation, until=clock.now() + dt.timedelta(hours=3), actor=agent)
    html = browser_for(agent).get(f"{LIST}?view=snoozed").content.decode()
    assert "snoozed until" in html
