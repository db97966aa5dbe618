"""An agent's day in a real browser (headless chromium at 1440x900, sidebar open): find the conversation in the list
(SLA column, quick views, search by message text), reply, add an internal note, assign it to themselves and apply a
macro, each with one click and no Save. Screenshots go to tests/browser/artifacts/ (and SHOTS_DIR when set)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conversations import services
from conversations.models import Message
from sla.policies import sla_policy_save
from tests.support.browser import log_in
from tests.support.people import make_user
from workflows.engine import macros

VIEWPORT = {"width": 1440, "height": 900}


def table_fits(page) -> bool:
    """The list's table is not wider than the space it has (nothing clipped or scrolled sideways)."""
    return page.evaluate("""() => {
        const results = document.querySelector('#changelist .results');
        return results.scrollWidth <= results.clientWidth
            && document.documentElement.scrollWidth <= window.innerWidth;
    }""")


@pytest.fixture
def screen(chromium, shot):
    """A 1440x900 page; `save(page, name)` also copies the screenshot to SHOTS_DIR when that is set."""
    context = chromium.new_context(viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()

    def save(name: str) -> Path:
        path = shot(page, name)
        if os.environ.get("SHOTS_DIR"):
            shutil.copy(path, Path(os.environ["SHOTS_DIR"]) / path.name)
        return path

    yield page, save
    context.close()


@pytest.mark.django_db(transaction=True)
def test_agent_replies_notes_assigns_and_applies_macro(live_server, screen, roles):
    page, save = screen
    agent = make_user("agent", "Agents")
    sla_policy_save(
        name="Default",
        position=10,
        match={},
        targets={"first_response": 60, "resolution": 480},
        pause_on=["pending"],
        warning_percent=80,
    )
    contact = services.contact_create(name="Ada Lovelace", email="ada@example.com")
    conversation = services.conversation_open(contact=contact, channel="email", subject="Refund for order 1042")
    services.message_create(
        conversation=conversation, body="I was charged twice for the blue kettle.", sender_type="customer"
    )
    other = services.conversation_open(contact=contact, channel="live_chat", subject="Where is my parcel?")
    services.conversation_assign(conversation=other, assignee=agent)
    macros.macro_create(
        name="Refund issued",
        steps=[
            {"type": "add_tag", "config": {"tags": ["refund"]}},
            {"type": "auto_reply", "config": {"text": "Hi {{ contact.name }}, the refund is on its way."}},
            {"type": "change_status", "config": {"status": "pending"}},
        ],
    )
    base = live_server.url
    log_in(page, base, "agent")

    # 1. The list: SLA column, quick views, everything fits at 1440 with the sidebar open.
    page.goto(f"{base}/admin/conversations/conversation/")
    assert page.locator("#nav-sidebar").is_visible()
    assert page.locator("th.column-sla_column").count() == 1
    save("agent-01-list")
    assert table_fits(page)
    page.click(".ws-views >> text=Unassigned")
    page.wait_for_url(re.compile(r"view=unassigned"))
    assert page.locator("#result_list tbody tr").count() == 1
    page.fill("#searchbar", "blue kettle")
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r"q=blue"))
    assert page.locator("#result_list tbody tr").count() == 1
    save("agent-02-search-message-text")

    # 2. The conversation: reply, note, assign, macro — each one click, no Save.
    page.click("text=Refund for order 1042")
    page.wait_for_url(re.compile(r"/change/"))
    assert page.locator(".sla-badge").first.is_visible()
    page.fill("#ws-body", "Sorry about that, I am checking the payment.")
    page.click("button[value=reply]")
    page.wait_for_load_state()
    assert page.locator(".ws-msg.ws-agent").count() == 1
    page.fill("#ws-body", "Charged twice by the PSP, see ticket 88.")
    page.click("button[value=note]")
    page.wait_for_load_state()
    assert page.locator(".ws-msg.ws-note").count() == 1
    page.click("button[value=assign_to_me]")
    page.wait_for_load_state()
    assert "Assigned to agent" in page.locator(".ws-bar").inner_text()
    save("agent-03-replied-noted-assigned")
    page.click(".ws-macros >> text=Refund issued")
    # The macro previews first (docs/agent_day.md): its reply fills the reply box to edit, then "Apply and send".
    page.locator(".ws-macro-preview", has_text="Add tag").wait_for()
    assert page.input_value("#ws-body") == "Hi Ada Lovelace, the refund is on its way."
    page.click("text=Apply and send")
    page.wait_for_load_state()
    assert "Applied the macro" in page.locator(".messagelist").inner_text()
    assert page.locator(".ws-msg.ws-agent").count() == 2
    save("agent-04-macro-applied")

    conversation.refresh_from_db()
    assert (conversation.status, conversation.assignee) == ("pending", agent)
    assert list(conversation.tags.values_list("name", flat=True)) == ["refund"]
    bodies = list(Message.objects.filter(conversation=conversation).values_list("internal", "body"))
    assert (True, "Charged twice by the PSP, see ticket 88.") in bodies
    assert (False, "Hi Ada Lovelace, the refund is on its way.") in bodies
