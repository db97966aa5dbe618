"""The "Try on history" pages in a real browser (headless chromium against the live server): the editor's button, the period
form, the results page's progress bar moving as the worker finishes chunks, and the figures and examples in words.

No worker runs here: the queue is the ORM broker (not the in-process one), and the test plays the worker by running
the chunk task itself, one chunk at a time, so the page is seen mid-way. Screenshots at 1440x900 go to
tests/browser/artifacts/ (and to SHOTS_DIR when it is set).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conversations import services as conversation_services
from tests.support.browser import log_in
from tests.support.people import make_user
from workflows import services
from workflows.models import WorkflowReplay
from workflows.tasks import replay_chunk_task

DEFINITION = {
    "name": "Refund requests",
    "status": "draft",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"], "content_contains": ["refund"]}},
    "steps": [
        {
            "type": "condition",
            "on_false": "stop",
            "config": {"all": [{"field": "contact.attributes.vip", "op": "eq", "value": True}]},
        },
        {"type": "add_tag", "config": {"tags": ["refund"]}},
        {"type": "send_email", "config": {"subject": "Your refund", "body": "Hi {{ contact.name }}"}},
    ],
}
BODIES = ["I want a refund", "Where is my parcel?", "Refund my order please", "Thanks!", "refund now", "refund?"]


@pytest.fixture
def no_in_process_queue(monkeypatch):
    """Tasks go to the database queue, where no worker takes them: the test runs the chunk task itself."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)


def save(page, name: str, shot) -> None:
    path = shot(page, name)
    if os.environ.get("SHOTS_DIR"):
        page.screenshot(path=str(Path(os.environ["SHOTS_DIR"]) / f"{name}.png"))
    assert path.exists()


@pytest.mark.django_db(transaction=True)
def test_manager_tries_a_workflow_on_history_and_watches_it_finish(
    live_server, chromium, shot, roles, settings, no_in_process_queue
):
    settings.HELPDESK_REPLAY_CHUNK_EVENTS = 2
    make_user("manager", "Support managers")
    vip = conversation_services.contact_create(name="Vera VIP", email="vera@example.com", attributes={"vip": True})
    other = conversation_services.contact_create(name="Otto", email="otto@example.com")
    for index, body in enumerate(BODIES):
        conversation = conversation_services.conversation_open(
            contact=vip if index % 2 == 0 else other, channel="live_chat", subject=f"Question {index}"
        )
        conversation_services.message_create(conversation=conversation, body=body, sender_type="customer")
    workflow = services.workflow_create(definition=DEFINITION)
    page = chromium.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, "manager")

    page.goto(f"{live_server.url}/admin/workflows/workflow/{workflow.pk}/change/")
    page.get_by_role("link", name="Try on history").click()
    page.wait_for_url(re.compile(r"/replay/$"))
    save(page, "replay-form", shot)
    page.get_by_role("button", name="Try on history").click()
    page.wait_for_url(re.compile(r"/replays/\d+/$"))
    replay = WorkflowReplay.objects.get()
    bar = page.locator("#replay-progress")
    page.wait_for_function("document.getElementById('replay-status').textContent.includes('0 of 6')")
    assert bar.get_attribute("aria-valuenow") == "0"

    assert replay_chunk_task(replay.pk) is True  # the worker finishes one chunk of two events
    page.wait_for_function("document.getElementById('replay-status').textContent.includes('2 of 6')")
    assert bar.get_attribute("aria-valuenow") == "33"
    assert page.locator("#replay-results").is_hidden()
    save(page, "replay-progress", shot)

    while replay_chunk_task(replay.pk):
        pass
    page.wait_for_function("document.getElementById('replay-status').textContent.startsWith('Done')")
    assert bar.get_attribute("aria-valuenow") == "100"
    summary = page.locator("#replay-summary").inner_text()
    assert summary == ("Of 6 recorded New message events, 4 matched the trigger and 4 would have started the workflow.")
    outcomes = page.locator("#replay-outcomes").inner_text()
    assert re.search(r"3\s+would run to the end", outcomes) and re.search(r"1\s+would stop at a condition", outcomes)
    assert re.search(r"2\s+did not match the trigger", outcomes)
    rows = [row.split("\t")[1:] for row in page.locator("#replay-steps tbody tr").all_inner_texts()]
    assert rows == [["4", "0", "0"], ["3", "1", "0"], ["3", "1", "0"]]  # condition, add tag, send email
    samples = page.locator("#replay-samples").inner_text()
    assert "This event would run to the end" in samples and "This event did not match the trigger" in samples
    assert "Condition holds" in samples and "Contact attribute vip is yes? It was yes" in samples
    assert "The trigger filter content contains (refund) does not match this event." in samples
    assert re.search(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC\b", samples)  # the one time format, with its zone
    assert "message.created" not in samples and "content_contains" not in samples
    assert "Where is my parcel?" in samples
    results = page.locator("#replay-results").inner_text()
    assert "{" not in results and '":' not in results  # figures and examples in words, no raw JSON
    save(page, "replay-results", shot)
