"""Message sentiment in [0, 1] from VADER (lexicon shipped with the package, runs offline)."""
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def score_text(text: str) -> float:
    """Score `text` from 0 (negative) over 0.5 (neutral) to 1 (positive)."""
    compound = _analyzer().polarity_scores(text or "")["compound"]
    return round((compound + 1) / 2, 4)


def running_average(previous: float | None, count_before: int, new_score: float) -> float:
    """The average after adding `new_score` to `count_before` earlier scores averaging `previous`."""
    if previous is None or count_before <= 0:
        return new_score
    return round((previous * count_before + new_score) / (count_before + 1), 4)
