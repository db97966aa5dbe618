"""User-supplied regular expressions cannot stall a worker (issue 11, finding 2).

`(a+)+$` over a 40-character message that almost matches takes Python's backtracking `re` about 2^40 steps
(hours); RE2 answers in microseconds. A runaway match is detected without timing anything precise: the match runs
in a forked child, and a child still busy after a generous bound is killed and fails the test. Patterns RE2 cannot
run (back-references, look-around) are refused when saving, with a 400 naming the step and key.
"""

import multiprocessing

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from conversations.models import Conversation, Event
from sla.matching import validate_condition
from workflows.engine import conditions
from workflows.triggers import registry as triggers

CATASTROPHIC = "(a+)+$"
NEARLY_MATCHING = "a" * 40 + "!"
BOUND_SECONDS = 20  # RE2 needs microseconds; backtracking needs hours: any bound in between tells them apart


def finishes(function, *args):
    """Run `function(*args)` in a forked child; its result, or a failure when it is still running at the bound."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=lambda: sender.send(function(*args)), daemon=True)
    child.start()
    ready = receiver.poll(BOUND_SECONDS)
    if not ready:
        child.kill()
        child.join()
        pytest.fail(f"{function.__name__} was still running after {BOUND_SECONDS}s: the regex backtracks")
    result = receiver.recv()
    child.join()
    return result


def message_matches(pattern: str, body: str) -> bool:
    kind = triggers.trigger_type("message.created")
    event = Event(type="message.created", payload={"sender_type": "customer", "channel": "web"})
    return kind.matches({"content_regex": pattern}, event, {"message": {"body": body}})


def condition_matches(pattern: str, body: str) -> bool:
    return conditions.evaluate(
        {"all": [{"field": "message.body", "op": "matches", "value": pattern}]}, {"message": {"body": body}}
    )


def test_a_catastrophic_content_regex_answers_at_once():
    assert finishes(message_matches, CATASTROPHIC, NEARLY_MATCHING) is False
    assert finishes(message_matches, CATASTROPHIC, "A" * 40) is True  # case-insensitive, as before


def test_a_catastrophic_matches_condition_answers_at_once():
    assert finishes(condition_matches, CATASTROPHIC, NEARLY_MATCHING) is False
    assert finishes(condition_matches, "^refund", "Refund please") is True


def _subjects_matching(pattern: str) -> list[str]:
    tree = {"all": [{"field": "conversation.subject", "op": "matches", "value": pattern}]}
    return list(Conversation.objects.filter(conditions.to_q(tree)).values_list("subject", flat=True))


@pytest.mark.django_db
def test_a_catastrophic_pattern_in_a_database_query_answers_at_once(contact):
    """On SQLite Django's REGEXP is Python's `re`, replaced by RE2 (checked in a forked child). PostgreSQL's `~*` is
    its own automaton-based engine, kept: a statement timeout bounds the query there instead of a child."""
    Conversation.objects.create(contact=contact, channel="web", subject=NEARLY_MATCHING)
    Conversation.objects.create(contact=contact, channel="web", subject="AAAA")
    if connection.vendor == "sqlite":
        assert finishes(_subjects_matching, CATASTROPHIC) == ["AAAA"]
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = '{BOUND_SECONDS}s'")
    assert _subjects_matching(CATASTROPHIC) == ["AAAA"]


BODY = {"name": "Regex", "status": "draft", "trigger": {"type": "message.created", "config": {}}, "steps": []}
UNSUPPORTED = ["(ab)\\1", "refund(?=now)", "(?<!no )refund", "(?!x)y"]


@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_a_content_regex_re2_cannot_run_is_a_400_naming_the_key(manager_client, pattern):
    body = {**BODY, "trigger": {"type": "message.created", "config": {"content_regex": pattern}}}
    response = manager_client.post("/api/workflows/", body, format="json")
    assert response.status_code == 400, response.content
    message = " ".join(response.json()["trigger.config.content_regex"])
    assert "RE2" in message and "back-references" in message


@pytest.mark.parametrize("pattern", UNSUPPORTED)
def test_a_matches_condition_re2_cannot_run_is_a_400_naming_the_step(manager_client, pattern):
    leaf = {"field": "message.body", "op": "matches", "value": pattern}
    body = {
        **BODY,
        "steps": [{"type": "add_tag", "config": {"tags": ["x"]}}, {"type": "condition", "config": {"all": [leaf]}}],
    }
    response = manager_client.post("/api/workflows/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["steps[1].config.all[0].value"]
    assert "RE2" in " ".join(response.json()["steps[1].config.all[0].value"])


def test_a_pattern_too_large_for_re2_is_refused(manager_client):
    leaf = {"field": "message.body", "op": "matches", "value": "((a{100}){100}){100}"}
    response = manager_client.post(
        "/api/workflows/", {**BODY, "steps": [{"type": "condition", "config": {"all": [leaf]}}]}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "steps[0].config.all[0].value" in response.json()


def test_an_sla_policy_pattern_re2_cannot_run_is_refused():
    with pytest.raises(ValidationError, match="RE2"):
        validate_condition({"all": [{"field": "contact.segment", "op": "matches", "value": "(a)\\1"}]})
