"""The mail corpus (tests/data/mail/, 65 mails in the shapes Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, Proton,
German and French clients, Postfix and Exchange produce), imported in order through `import_raw_mail` and checked
file by file against expected.json: the thread each mail joins (or opens), the sender, auto-reply/bounce, the start
of the reply text, the files, and for bounces the delivery they fail. Threading accuracy is printed and must be
at least 98 %."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.db import transaction

from conversations import services
from conversations.choices import EmailDirection
from conversations.models import Delivery, EmailHeaders
from inboxes.inbound import import_raw_mail
from inboxes.services import inbox_create

CORPUS = Path(__file__).resolve().parents[1] / "data" / "mail"
STEPS = json.loads((CORPUS / "expected.json").read_text())["steps"]
FILES = [step for step in STEPS if "file" in step]
PLACEHOLDER = re.compile(r"\{\{conv:(\w+)\}\}")
# The marker makes pytest-django create the test database; the corpus itself is imported once per module.
pytestmark = pytest.mark.django_db


def _fill(text: str, threads: dict) -> str:
    return PLACEHOLDER.sub(lambda m: str(threads[m.group(1)]), text)


def _record_sent(step: dict, threads: dict, inbox) -> None:
    """An answer we sent, as the outbound side leaves it: the message, its outbound headers, its delivery."""
    conversation = services.conversation_ref(threads[step["thread"]])
    message = services.message_create(conversation=conversation, body="Our answer.", sender_type="agent")
    EmailHeaders.objects.create(
        message=message,
        inbox=inbox,
        direction=EmailDirection.OUTBOUND,
        message_id_header=step["sent"],
        subject=_fill(step["subject"], threads),
    )
    Delivery.objects.get_or_create(
        message=message, defaults={"inbox": inbox, "external_id": step["sent"], "status": "sent"}
    )


def _import(step: dict, threads: dict, inbox, by_file: dict) -> dict:
    raw = PLACEHOLDER.sub(
        lambda m: str(threads[m.group(1)]).encode().decode(), (CORPUS / step["file"]).read_bytes().decode("latin-1")
    ).encode("latin-1")
    known_before = set(threads.values())
    result = import_raw_mail(inbox=inbox, raw=raw)
    conversation, message = result.conversation, result.message
    label = step["thread"]
    if step.get("duplicate_of"):
        joined = not result.created and message.pk == by_file[step["duplicate_of"]]["message"]
    elif step["new"]:
        joined = label not in threads and conversation.pk not in known_before
    else:
        joined = threads.get(label) == conversation.pk
    threads.setdefault(label, conversation.pk)
    headers = message.email
    outcome = {
        "joined": joined,
        "message": message.pk,
        "conversation": conversation.pk,
        "created": result.created,
        "sender": headers.from_address,
        "sender_type": message.sender_type,
        "auto": headers.auto_submitted,
        "body": message.body,
        "attachments": sorted(a.filename for a in message.attachments.all()),
        "status": conversation.status,
        "contact": conversation.contact_id,
        "cc": headers.cc,
    }
    if step.get("bounces"):
        delivery = Delivery.objects.get(message__email__message_id_header=step["bounces"])
        outcome["delivery"] = (delivery.status, delivery.error)
    return outcome


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker) -> dict:
    """Import the whole corpus once, in order, inside a transaction rolled back at the end; per-file outcomes."""
    by_file: dict[str, dict] = {}
    with django_db_blocker.unblock(), transaction.atomic():
        team = services.team_create(name="Corpus team")
        inbox, _ = inbox_create(name="Corpus", channel="email", team=team, address="support@helpdesk.test")
        threads: dict[str, int] = {}
        for step in STEPS:
            if "sent" in step:
                _record_sent(step, threads, inbox)
            elif "set_status" in step:
                services.conversation_change_status(
                    conversation=services.conversation_ref(threads[step["thread"]]), status=step["set_status"]
                )
            else:
                by_file[step["file"]] = _import(step, threads, inbox, by_file)
        by_file["__threads__"] = threads
        transaction.set_rollback(True)
    return by_file


def test_the_corpus_has_at_least_60_mails():
    assert len(FILES) >= 60
    assert {p.name for p in CORPUS.glob("*.eml")} == {step["file"] for step in FILES}


@pytest.mark.parametrize("step", FILES, ids=[step["file"] for step in FILES])
def test_each_mail(corpus, step):
    got = corpus[step["file"]]
    assert got["joined"], f"{step['file']}: expected thread {step['thread']} ({'new' if step['new'] else 'existing'})"
    assert got["sender"] == step["sender"]
    expected_type = "customer" if step["kind"] == "customer" else "system"
    assert (got["sender_type"], got["auto"]) == (expected_type, step["kind"] != "customer")
    assert got["body"].startswith(step["body_start"]), got["body"][:200]
    assert len(got["attachments"]) == step["attachments"], got["attachments"]
    for name in step.get("filenames", []):
        assert name in got["attachments"]
    if step.get("bounces"):
        status, error = got["delivery"]
        assert status == "failed" and step["reason_contains"] in error, error
    if step.get("reopens"):
        assert got["status"] == "open"
    if step.get("duplicate_of"):
        assert got["created"] is False
    for address in step.get("cc", []):
        assert any(address in cc for cc in got["cc"])


def test_quoted_history_stays_in_the_full_text(corpus):
    assert "We are looking into it" not in corpus["002_gmail_reply_in_reply_to.eml"]["body"]
    assert "Von: Helpdesk Support" not in corpus["011_outlook_de_reply_von_gesendet.eml"]["body"]
    assert "De : Helpdesk Support" not in corpus["016_outlook_fr_reply_de_envoye.eml"]["body"]
    assert "support@helpdesk.test" not in corpus["020_references_only_reply.eml"]["body"]
    assert "____" not in corpus["057_outlook_ios_fr_reply.eml"]["body"]
    assert "alert(" not in corpus["025_html_only_new_with_style_script.eml"]["body"]
    assert "Segoe UI" not in corpus["025_html_only_new_with_style_script.eml"]["body"]


def test_one_contact_per_address_case_insensitive(corpus):
    assert (
        corpus["040_same_subject_no_headers_is_new.eml"]["contact"] == corpus["001_gmail_new_order_late.eml"]["contact"]
    )


def test_threading_accuracy_is_at_least_98_percent(corpus, capsys):
    right = sum(1 for step in FILES if corpus[step["file"]]["joined"])
    accuracy = right / len(FILES)
    with capsys.disabled():
        print(f"\ncorpus threading accuracy: {right}/{len(FILES)} = {accuracy:.1%}")
    assert accuracy >= 0.98
