"""The `intents` filter of `message.created`: paraphrases match, hard negatives do not, the labelled set keeps its
precision and recall, matching is fast, and a workflow with intents runs end to end through the API."""
import statistics
import time

import pytest

from bench.intents import evaluate
from conversations import services
from workflows import intents
from workflows.definition import DefinitionError
from workflows.models import WorkflowRun
from tests.workflows.conftest import drain

CANCEL = ["I want to cancel"]


def test_labelled_set_meets_precision_and_recall_floors():
    # Floors sit just under the measured figures (precision 1.00, recall 0.91 over 113 utterances x 7 workflows),
    # above the compass (precision 0.9, recall 0.8), so a lexicon change that costs real accuracy fails here.
    report = evaluate()
    assert report.precision >= 0.95, report.errors
    assert report.recall >= 0.88, report.errors


def test_holdout_utterances_written_after_the_lexicon_keep_precision():
    # The holdout part was measured once, untuned: precision 1.00, recall 0.68 (misses are listed by the bench).
    tp, fp, fn = evaluate().per_split["holdout"]
    assert tp / (tp + fp) >= 0.9
    assert tp / (tp + fn) >= 0.65


@pytest.mark.parametrize("text", ["please cancel my subscription", "how do I shut down my account?",
                                  "I need to cancell my subscripton asap", "Can you get rid of my membership"])
def test_paraphrases_of_i_want_to_cancel_match(text):
    assert intents.matches(CANCEL, text)


@pytest.mark.parametrize("text", ["can I cancel the meeting invite I sent you?",
                                  "I don't want to cancel, I just want to pause",
                                  "Please close this ticket, the issue is solved", "I love your product"])
def test_hard_negatives_do_not_match_i_want_to_cancel(text):
    assert not intents.matches(CANCEL, text)


def test_per_workflow_threshold_decides_partial_matches():
    phrases = ["cancel my gym subscription"]
    assert intents.best_match(phrases, "cancel my subscription").score == pytest.approx(2 / 2.25, abs=1e-3)
    assert intents.matches(phrases, "cancel my subscription")
    assert not intents.matches(phrases, "cancel my subscription", threshold=0.95)


def test_matching_takes_well_under_a_few_milliseconds_per_message_per_workflow():
    texts = [f"hello, I would like to cancel my plan number {n}, the price went up" for n in range(200)]
    durations = []
    for text in texts:
        started = time.perf_counter()
        intents.matches(["cancel my subscription", "end my plan"], text)
        durations.append((time.perf_counter() - started) * 1000)
    assert statistics.median(durations) < 2.0


def test_phrase_without_meaning_is_refused_on_save(make_workflow):
    with pytest.raises(DefinitionError) as error:
        make_workflow("message.created", [], {"intents": ["cancel my plan", "the"]})
    assert list(error.value.errors) == ["trigger.config.intents[1]"]


@pytest.mark.parametrize("config", [{"intents": []}, {"intents": ["refund"], "intent_threshold": 1.5},
                                    {"intents": "refund"}])
def test_bad_intent_config_is_a_400_naming_the_key(manager_client, config):
    response = manager_client.post("/api/workflows/", {
        "name": "Bad", "trigger": {"type": "message.created", "config": config}, "steps": []}, format="json")
    assert response.status_code == 400
    assert any(key.startswith("trigger.config.intent") for key in response.json()), response.json()


def test_intent_workflow_runs_end_to_end_through_the_api(manager_client, agent_client, conversation):
    response = manager_client.post("/api/workflows/", {
        "name": "Retention", "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"], "intents": CANCEL}},
        "steps": [{"type": "add_tag", "config": {"tags": ["cancellation"]}}],
    }, format="json")
    assert response.status_code == 201, response.json()
    url = f"/api/conversations/{conversation.pk}/messages/"
    for body in ["can I cancel the meeting invite I sent you?", "how do I shut down my account?"]:
        assert agent_client.post(url, {"body": body, "sender_type": "customer"}, format="json").status_code == 201
    drain()
    runs = WorkflowRun.objects.filter(workflow_id=response.json()["id"])
    assert runs.count() == 1
    assert runs.get().status == "succeeded"
    assert list(conversation.tags.values_list("name", flat=True)) == ["cancellation"]


def test_intent_filter_combines_with_the_other_message_filters(make_workflow, conversation):
    workflow = make_workflow("message.created", [{"type": "add_tag", "config": {"tags": ["refund"]}}],
                             {"sender_types": ["customer"], "intents": ["I want a refund"]})
    services.message_create(conversation=conversation, body="I want a refund", sender_type="agent")
    services.message_create(conversation=conversation, body="Can I get my money back?", sender_type="customer")
    drain()
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1
