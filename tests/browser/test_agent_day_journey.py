"""The agent's day in a real browser (docs/agent_day.md): two agents on one conversation see each other ("alice is
replying") and a new customer message without a reload; snooze with a preset; a saved view from the current
filters; the keyboard (assign to me, send, next conversation); @mention autocomplete. Screenshots go to
tests/browser/artifacts/agent-day-*.png."""

from __future__ import annotations

import re

import pytest

from conversations import services
from conversations.models import Conversation, Notification, SavedView
from tests.support.browser import log_in, open_page
from tests.support.people import make_user


@pytest.mark.django_db(transaction=True)
def test_presence_and_live_thread_between_two_agents(live_server, chromium, shot, roles):
    make_user("alice", "Agents")
    make_user("bob", "Agents")
    contact = services.contact_create(name="Ada Lovelace", email="ada@example.com")
    conversation = services.conversation_open(contact=contact, channel="email", subject="Charged twice")
    services.message_create(conversation=conversation, body="I was charged twice.", sender_type="customer")
    url = f"{live_server.url}/admin/conversations/conversation/{conversation.pk}/change/"
    alice, bob = open_page(chromium), open_page(chromium)
    log_in(alice, live_server.url, "alice")
    log_in(bob, live_server.url, "bob")
    alice.goto(url)
    alice.fill("#ws-body", "Checking the payment now")
    bob.goto(url)
    presence = bob.locator("#ws-presence")
    presence.wait_for(state="visible", timeout=5_000)  # within 5 s (a poll every 3 s)
    assert re.search(r"alice is (replying|viewing)", presence.inner_text())
    bob.wait_for_function(
        "document.querySelector('#ws-presence').textContent.includes('alice is replying')", timeout=5_000
    )
    services.message_create(conversation=conversation, body="Any news? Order A-17.", sender_type="customer")
    bob.locator(".ws-thread li", has_text="Any news? Order A-17.").wait_for(timeout=5_000)  # no reload
    shot(bob, "agent-day-01-presence-live-thread")
    assert bob.locator("#ws-presence").get_attribute("aria-live") == "polite"


@pytest.mark.django_db(transaction=True)
def test_snooze_saved_view_keyboard_and_mentions(live_server, chromium, shot, roles):
    agent = make_user("agent", "Agents")
    make_user("alice", "Agents")
    contact = services.contact_create(name="Ada Lovelace", email="ada@example.com")
    first = services.conversation_open(contact=contact, channel="email", subject="Refund for order 1042")
    services.message_create(conversation=first, body="Where is my refund?", sender_type="customer")
    second = services.conversation_open(contact=contact, channel="email", subject="Parcel missing")
    base = live_server.url
    page = open_page(chromium)
    log_in(page, base, "agent")

    # A saved view from the current filters: filter, type a name, Save (2 clicks and a name).
    page.goto(f"{base}/admin/conversations/conversation/?status__exact=new")
    page.fill("#ws-view-name", "New ones")
    page.click("text=Save view")
    page.wait_for_url(re.compile(r"saved_view="))
    assert SavedView.objects.get(name="New ones").filters == {"status": "new"}
    assert page.locator(".ws-saved a.current .ws-count").inner_text() == "2"
    shot(page, "agent-day-02-saved-view")

    # Keyboard: assign to me (Alt+A), reply (Ctrl+Enter), next conversation (Alt+J).
    page.goto(f"{base}/admin/conversations/conversation/{first.pk}/change/")
    page.keyboard.press("Alt+A")
    page.wait_for_load_state()
    page.locator(".ws-badge", has_text="Assigned to agent").wait_for()
    page.keyboard.press("Alt+R")
    page.keyboard.type("Sorry, checking it now.")
    page.keyboard.press("Control+Enter")
    page.locator(".ws-thread li", has_text="Sorry, checking it now.").wait_for()
    first.refresh_from_db()
    assert first.assignee_id == agent.pk and first.status == "open"

    # @mention autocomplete in a note: type "@al", Enter picks alice, Ctrl+Shift+Enter adds the note.
    page.fill("#ws-body", "")
    page.click("#ws-body")
    page.keyboard.type("Finance, please check @al")
    page.locator("#ws-mentions li", has_text="@alice").wait_for()
    shot(page, "agent-day-03-mention-autocomplete")
    page.keyboard.press("Enter")
    assert page.input_value("#ws-body") == "Finance, please check @alice "
    page.keyboard.press("Control+Shift+Enter")
    page.locator(".ws-thread li.ws-note", has_text="@alice").wait_for()
    assert Notification.objects.filter(user__username="alice").count() == 1

    # Snooze with a preset: pending, a badge, gone from Mine, listed under Snoozed.
    page.click("button[name=preset][value=tomorrow]")
    page.locator(".ws-snoozed").wait_for()
    shot(page, "agent-day-04-snoozed")
    first.refresh_from_db()
    assert first.status == "pending" and first.snoozed_until is not None
    page.goto(f"{base}/admin/conversations/conversation/?view=mine")
    assert (
        page.locator("#result_list tbody tr").count() == 0
        or "Refund for order 1042" not in page.locator("#changelist").inner_text()
    )
    page.goto(f"{base}/admin/conversations/conversation/?view=snoozed")
    assert "Refund for order 1042" in page.locator("#result_list").inner_text()

    # Next conversation (Alt+J) from the snoozed one: the oldest unassigned one waiting.
    page.goto(f"{base}/admin/conversations/conversation/{first.pk}/change/")
    page.keyboard.press("Alt+J")
    page.wait_for_url(re.compile(rf"/{second.pk}/change/"))
    shot(page, "agent-day-05-next-conversation")
    assert Conversation.objects.get(pk=second.pk).status == "new"


@pytest.mark.django_db(transaction=True)
def test_a_macro_with_an_input_previews_in_the_reply_box_then_applies(live_server, chromium, shot, roles):
    from workflows.engine import macros

    agent = make_user("agent", "Agents")
    contact = services.contact_create(name="Ada Lovelace", email="ada@example.com")
    conversation = services.conversation_open(contact=contact, channel="email", subject="Refund please")
    macros.macro_create(
        name="Refund issued",
        inputs=[{"key": "order", "label": "Order number", "type": "text"}],
        steps=[
            {"type": "add_tag", "config": {"tags": ["refund"]}},
            {"type": "auto_reply", "config": {"text": "Hi {{ contact.name }}, order {{ inputs.order }} is refunded."}},
            {"type": "change_status", "config": {"status": "pending"}},
        ],
    )
    page = open_page(chromium)
    log_in(page, live_server.url, "agent")
    page.goto(f"{live_server.url}/admin/conversations/conversation/{conversation.pk}/change/")
    page.fill("[name=input_order]", "A-17")
    page.click(".ws-macro-inputs button")
    page.locator(".ws-macro-preview", has_text="Change status").wait_for()
    assert page.input_value("#ws-body") == "Hi Ada Lovelace, order A-17 is refunded."
    page.fill("#ws-body", "Hi Ada, order A-17 is refunded. Sorry for the wait!")
    shot(page, "agent-day-06-macro-preview")
    page.keyboard.press("Control+Enter")  # after a preview: apply the macro with the edited reply
    page.locator(".messagelist", has_text="Applied the macro").wait_for()
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    assert list(conversation.tags.values_list("name", flat=True)) == ["refund"]
    assert [m.body for m in conversation.messages.filter(sender_type="agent")] == [
        "Hi Ada, order A-17 is refunded. Sorry for the wait!"
    ]
    assert conversation.messages.get(sender_type="agent").author_id == agent.pk
