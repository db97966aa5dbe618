"""The `intents` filter of `message.created`: paraphrases match, hard negatives do not, the labelled set keeps its
precision and recall, matching is fast, and a workflow with intents runs end to end through the API."""

import statistics
import time

import pytest

from bench.intents import evaluate
from conversations import services
from tests.support.runs import drain
from tests.workflows.runs_api import runs_through_api, step_summary
from workflows.engine.definition import DefinitionError
from workflows.models import WorkflowRun
from workflows.triggers import intents

CANCEL = ["I want to cancel"]


def test_labelled_set_meets_precision_and_recall_floors():
    # Floors sit just under the measured figures (precision 0.99, recall 0.98 over 141 utterances x 7 workflows)
    # and above the compass (precision 0.9, recall 0.8), so a lexicon change that costs real accuracy fails here.
    report = evaluate()
    assert report.precision >= 0.97, report.errors
    assert report.recall >= 0.95, report.errors


@pytest.mark.parametrize(("split", "precision", "recall"), [("holdout", 0.95, 0.85), ("holdout2", 0.9, 0.9)])
def test_utterances_written_after_the_lexicon_keep_the_compass(split, precision, recall):
    # `holdout` was measured once untuned (precision 1.00, recall 0.68), then its misses extended the lexicon;
    # `holdout2` was never used for tuning (precision 0.95, recall 1.00). Both must stay above the compass.
    tp, fp, fn = evaluate().per_split[split]
    assert tp / (tp + fp) >= precision
    assert tp / (tp + fn) >= recall


@pytest.mark.parametrize(
    "text",
    [
        "please cancel my subscription",
        "how do I shut down my account?",
        "I need to cancell my subscripton asap",
        "Can you get rid of my membership",
    ],
)
def test_paraphrases_of_i_want_to_cancel_match(text):
    assert intents.matches(CANCEL, text)


@pytest.mark.parametrize(
    "text",
    [
        "can I cancel the meeting invite I sent you?",
        "I don't want to cancel, I just want to pause",
        "Please close this ticket, the issue is solved",
        "I love your product",
    ],
)
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


@pytest.mark.parametrize(
    "config", [{"intents": []}, {"intents": ["refund"], "intent_threshold": 1.5}, {"intents": "refund"}]
)
def test_bad_intent_config_is_a_400_naming_the_key(manager_client, config):
    response = manager_client.post(
        "/api/workflows/",
        {"name": "Bad", "trigger": {"type": "message.created", "config": config}, "steps": []},
        format="json",
    )
    assert response.status_code == 400
    assert any(key.startswith("trigger.config.intent") for key in response.json()), response.json()


def test_intent_workflow_runs_end_to_end_through_the_api(manager_client, agent_client, conversation):
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Retention",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"], "intents": CANCEL}},
            "steps": [{"type": "add_tag", "config": {"tags": ["cancellation"]}}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    url = f"/api/conversations/{conversation.pk}/messages/"
    for body in ["can I cancel the meeting invite I sent you?", "how do I shut down my account?"]:
        assert agent_client.post(url, {"body": body, "sender_type": "customer"}, format="json").status_code == 201
    drain()
    [run] = runs_through_api(manager_client, response.json()["id"])
    assert (run["status"], run["conversation"], run["version"]) == ("succeeded", conversation.pk, 1)
    assert step_summary(run) == [(0, "add_tag", "succeeded")]
    matched = WorkflowRun.objects.get(pk=run["id"]).event
    assert matched.payload["message_id"] == conversation.messages.get(body__startswith="how do I").pk
    assert list(conversation.tags.values_list("name", flat=True)) == ["cancellation"]


def test_intent_filter_combines_with_the_other_message_filters(make_workflow, conversation):
    workflow = make_workflow(
        "message.created",
        [{"type": "add_tag", "config": {"tags": ["refund"]}}],
        {"sender_types": ["customer"], "intents": ["I want a refund"]},
    )
    services.message_create(conversation=conversation, body="I want a refund", sender_type="agent")
    services.message_create(conversation=conversation, body="Can I get my money back?", sender_type="customer")
    drain()
    assert WorkflowRun.objects.filter(workflow=workflow).count() == 1


def test_intent_threshold_is_chosen_per_workflow_with_a_default(make_workflow, conversation):
    phrases = ["cancel my gym subscription"]  # "cancel my subscription" covers 2 of its 2.25 weight: 0.89
    tag = [{"type": "add_tag", "config": {"tags": ["cancel"]}}]
    default = make_workflow("message.created", tag, {"intents": phrases}, name="default threshold")
    strict = make_workflow("message.created", tag, {"intents": phrases, "intent_threshold": 0.95}, name="strict")
    loose = make_workflow("message.created", tag, {"intents": phrases, "intent_threshold": 0.5}, name="loose")
    services.message_create(conversation=conversation, body="please cancel my subscription", sender_type="customer")
    services.message_create(conversation=conversation, body="what does the gym cost?", sender_type="customer")
    drain()
    counts = {wf.name: WorkflowRun.objects.filter(workflow=wf).count() for wf in (default, strict, loose)}
    assert intents.DEFAULT_THRESHOLD == 0.7
    assert counts == {"default threshold": 1, "strict": 0, "loose": 1}


def test_phrase_index_is_built_when_the_workflow_is_saved_not_per_message(manager_client, agent_client, conversation):
    phrases = [f"pause my subscription for {conversation.pk} months", "freeze my membership"]  # not cached yet
    intents.compile_phrases.cache_clear()
    response = manager_client.post(
        "/api/workflows/",
        {
            "name": "Pause",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"intents": phrases}},
            "steps": [],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    after_save = intents.compile_phrases.cache_info()
    assert after_save.misses == 1  # compiled once, by the save's validation
    url = f"/api/conversations/{conversation.pk}/messages/"
    for body in ["Can I freeze my membership?", "hello", "pause the subscription please", "where is my parcel"]:
        agent_client.post(url, {"body": body, "sender_type": "customer"}, format="json")
    drain()
    after_messages = intents.compile_phrases.cache_info()
    assert after_messages.misses == after_save.misses
    assert after_messages.hits >= after_save.hits + 4
    assert len(runs_through_api(manager_client, response.json()["id"])) == 2
