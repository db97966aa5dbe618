"""The admin in German in a real browser (chromium with locale de-DE, so Accept-Language: de): the conversation
list, an agent's workspace and the SLA policy form with its condition builder (words from the JavaScript catalog).
Screenshots: tests/browser/artifacts/de-*.png (and SHOTS_DIR when set)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conversations import services
from sla.policies import sla_policy_save
from tests.support.browser import log_in
from tests.support.people import make_user

VIEWPORT = {"width": 1440, "height": 900}


@pytest.fixture
def german_screen(chromium, shot):
    """A 1440x900 page whose browser speaks German; `save(name)` keeps a full-page screenshot."""
    context = chromium.new_context(viewport=VIEWPORT, locale="de-DE")
    context.set_default_timeout(15_000)
    page = context.new_page()

    def save(name: str) -> Path:
        path = shot(page, name)
        if os.environ.get("SHOTS_DIR"):
            shutil.copy(path, Path(os.environ["SHOTS_DIR"]) / path.name)
        return path

    yield page, save
    context.close()


@pytest.fixture
def support_day(roles):
    """A manager, an agent and a few German conversations under an SLA policy."""
    manager = make_user("leiterin", "Support managers")
    agent = make_user("jonas", "Agents")
    sla_policy_save(
        name="Standard",
        position=10,
        match={},
        targets={"first_response": 60, "resolution": 480},
        pause_on=["pending"],
        warning_percent=80,
    )
    contact = services.contact_create(name="Erika Mustermann", email="erika@example.de", language="de")
    first = services.conversation_open(contact=contact, channel="email", subject="Rückerstattung für Bestellung 1042")
    services.message_create(
        conversation=first, body="Mir wurde der Wasserkocher doppelt berechnet.", sender_type="customer"
    )
    second = services.conversation_open(contact=contact, channel="live_chat", subject="Wo bleibt mein Paket?")
    services.conversation_assign(conversation=second, assignee=agent)
    return manager, first


@pytest.mark.django_db(transaction=True)
def test_conversation_list_and_workspace_in_german(live_server, german_screen, support_day):
    page, save = german_screen
    manager, conversation = support_day
    log_in(page, live_server.url, manager.username)
    page.goto(f"{live_server.url}/admin/conversations/conversation/")
    assert page.locator("html").get_attribute("lang") == "de"
    text = page.locator("#content").inner_text()
    assert "Konversation" in text and "Nicht zugewiesen" in text and "Bearbeiter" in text
    save("de-conversation-list")
    page.goto(f"{live_server.url}/admin/conversations/conversation/{conversation.pk}/change/")
    assert page.get_by_role("button", name="Antworten", exact=True).is_visible()
    assert page.get_by_role("button", name="Interne Notiz hinzufügen").is_visible()
    assert page.get_by_role("button", name="Mir zuweisen").is_visible()
    save("de-workspace")


@pytest.mark.django_db(transaction=True)
def test_sla_policy_builder_in_german(live_server, german_screen, support_day):
    page, save = german_screen
    manager, _conversation = support_day
    log_in(page, live_server.url, manager.username)
    page.goto(f"{live_server.url}/admin/sla/slapolicy/add/")
    builder = page.locator(".hd-condition")
    assert builder.get_by_role("button", name="+ Bedingung").is_visible()
    assert "Keine Bedingungen: Jede Konversation passt." in builder.inner_text()
    assert "Gilt für" in page.locator("#content").inner_text()
    save("de-sla-policy")
