"""Survey triggers (docs/managers.md): a contact answered a CSAT survey, filtered by a score range."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from conversations import payloads
from conversations.choices import EventType
from conversations.models import Event
from workflows.triggers.registry import Filter, TriggerType, from_payload, schema, trigger_types

SCORE = {"type": "integer", "minimum": 1, "maximum": 5}


def _score(event: Event) -> float | None:
    score = payloads.payload_of(event, payloads.SurveyAnswered).get("score")
    return score if isinstance(score, (int, float)) and not isinstance(score, bool) else None


def _at_least(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    score = _score(event)
    return score is not None and score >= config["score_min"]


def _at_most(config: dict[str, Any], event: Event, data: dict[str, Any]) -> bool:
    score = _score(event)
    return score is not None and score <= config["score_max"]


def _validate(config: dict[str, Any]) -> list[tuple[str, str]]:
    low, high = config.get("score_min"), config.get("score_max")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        return [("score_min", "score_min is more than score_max: no answer could match.")]
    return []


trigger_types.register(
    TriggerType(
        EventType.SURVEY_ANSWERED,
        _("Survey answered"),
        schema({"score_min": SCORE, "score_max": SCORE}),
        (
            Filter(
                "score_min",
                _at_least,
                from_payload("score"),
                describe=lambda config, score: f"the score {score} is below {config['score_min']}",
            ),
            Filter(
                "score_max",
                _at_most,
                from_payload("score"),
                describe=lambda config, score: f"the score {score} is above {config['score_max']}",
            ),
        ),
        validate=_validate,
    ),
)
