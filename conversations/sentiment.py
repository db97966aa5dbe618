"""Message sentiment in [0, 1] from VADER (lexicon shipped with the package, runs offline).

VADER comes with the `[sentiment]` extra. Without it messages get no score (`None`, as a conversation before its
first customer message) and `manage.py check` says how to turn it on (helpdesk.W003).
"""

from functools import lru_cache
from typing import Any

from conversations import extras


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    if not extras.available("sentiment"):
        return None
    return extras.require("sentiment", "vaderSentiment.vaderSentiment").SentimentIntensityAnalyzer()


def score_text(text: str) -> float | None:
    """Score `text` from 0 (negative) over 0.5 (neutral) to 1 (positive); None without the [sentiment] extra."""
    analyzer = _analyzer()
    if analyzer is None:
        return None
    compound = analyzer.polarity_scores(text or "")["compound"]
    return round((compound + 1) / 2, 4)


def running_average(previous: float | None, count_before: int, new_score: float) -> float:
    """The average after adding `new_score` to `count_before` earlier scores averaging `previous`."""
    if previous is None or count_before <= 0:
        return new_score
    return round((previous * count_before + new_score) / (count_before + 1), 4)
