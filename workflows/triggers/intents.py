"""Intent matching for the `intents` filter of `message.created` (docs/reference/triggers.md): does a customer message
mean the same as one of a workflow's example phrases, not only contain its words?

A pure-Python lexical/semantic hybrid that runs offline on a CPU in well under a millisecond per message: text is
normalised (accents, contractions), misspellings of known words are corrected (one edit away), words are stemmed
(Snowball), and a paraphrase lexicon of support concepts maps "cancel", "shut down", "get rid of", "unsubscribe"…
to the same concept. A phrase is the weighted set of concepts (and, with a low weight, other content words) it
contains; a message matches when it covers at least `threshold` of one phrase's weight. Two guards keep precision:
a request verb that is negated ("I don't want to cancel") does not count, nor one whose object is outside the
support vocabulary ("cancel the meeting invite"). Phrase indexes are compiled when the workflow is validated on save
and cached by their phrases (a new version with new phrases gets a new index; equal phrases share one).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import snowballstemmer

DEFAULT_THRESHOLD = 0.7
CONCEPT_WEIGHT = 1.0
WORD_WEIGHT = 0.25  # a non-lexicon word of a phrase that also has concepts: a hint, not a requirement
BOUNDARY = "|"
NEGATION_WINDOW = 4
OBJECT_WINDOW = 3

# Concept(s) a surface form stands for. Multi-word forms are matched before single words; a form may stand for two
# concepts ("unsubscribe" = terminate + subscription). Actions are the verbs a customer asks for.
LEXICON: dict[str, list[str]] = {
    "TERMINATE": [
        "cancel",
        "cancellation",
        "close",
        "closure",
        "stop",
        "end",
        "terminate",
        "termination",
        "discontinue",
        "quit",
        "deactivate",
        "delete",
        "deletion",
        "remove",
        "erase",
        "shut down",
        "shut off",
        "get rid of",
        "turn off",
        "opt out",
        "not renew",
        "no longer want",
    ],
    "TERMINATE SUBSCRIPTION": ["unsubscribe", "stop paying"],
    "SUBSCRIPTION": [
        "subscription",
        "subscribe",
        "membership",
        "member",
        "plan",
        "renewal",
        "auto renewal",
        "autorenewal",
        "recurring payment",
        "trial",
    ],
    "ACCOUNT": ["account", "profile", "user account", "my data"],
    "REFUND": [
        "refund",
        "reimburse",
        "reimbursement",
        "money back",
        "chargeback",
        "charge back",
        "repay",
        "compensation",
        "compensate",
        "money returned",
        "return my money",
    ],
    "BILLING": [
        "bill",
        "billing",
        "invoice",
        "charge",
        "fee",
        "payment",
        "price",
        "pricing",
        "receipt",
        "statement",
        "vat",
        "tax",
        "cost",
        "credit card",
        "debit card",
        "overcharge",
        "subscription fee",
    ],
    "RESET": ["reset", "forgot", "forget", "not remember", "change", "recover", "recovery", "new password"],
    "PASSWORD": ["password", "passcode", "passphrase", "pin", "credentials", "pass word"],
    "LOGIN_PROBLEM": [
        "not log in",
        "not login",
        "not log on",
        "not sign in",
        "not signin",
        "unable to log in",
        "unable to login",
        "unable to sign in",
        "lock out",
        "locked out",
        "login fail",
        "login not work",
        "log in fail",
        "sign in fail",
        "access denied",
    ],
    "LOGIN_PROBLEM PASSWORD": ["credentials are invalid", "invalid credentials", "invalid password", "wrong password"],
    "TALK": [
        "talk",
        "speak",
        "chat",
        "call",
        "call me back",
        "contact",
        "connect",
        "transfer",
        "reach",
        "get in touch",
        "put me through",
        "escalate",
        "phone me",
        "ring me",
    ],
    "HUMAN": [
        "human",
        "person",
        "agent",
        "representative",
        "rep",
        "someone",
        "somebody",
        "anyone",
        "anybody",
        "operator",
        "manager",
        "supervisor",
        "staff",
        "customer service",
        "customer support",
        "support team",
    ],
    "TALK HUMAN": [
        "live agent",
        "real person",
        "real human",
        "actual person",
        "actual human",
        "human agent",
        "is anyone there",
        "is anybody there",
        "is someone there",
    ],
    "ORDER": ["order", "purchase", "item"],
    "SHIPPING": ["ship", "shipping", "courier", "postage", "dispatch", "in transit"],
    "SHIPPING ORDER": ["shipment", "delivery", "deliver", "package", "parcel"],
    "TRACK": ["track", "trace"],
    "TRACK SHIPPING ORDER": ["tracking number", "tracking code", "tracking link", "tracking id"],
    "STATUS": ["status", "where is", "where are", "when will", "eta", "yet", "how long until", "update on"],
    "NOT_ARRIVED STATUS": [
        "not arrive",
        "never arrive",
        "not receive",
        "never receive",
        "not come",
        "never came",
        "still noth",
        "still not",
        "still wait",
        "not here",
        "not show up",
        "lost in the post",
    ],
}
ACTIONS = {"TERMINATE", "REFUND", "RESET", "TALK", "TRACK"}

# Words that carry no meaning for intent; SKIPPABLE ones may stand between a verb and its object.
SKIPPABLE = set(
    [
        "the",
        "a",
        "an",
        "my",
        "our",
        "your",
        "his",
        "her",
        "their",
        "its",
        "this",
        "that",
        "these",
        "those",
        "all",
        "any",
        "some",
        "entire",
        "whole",
        "current",
        "existing",
        "please",
        "pls",
        "plz",
        "now",
        "just",
        "asap",
        "immediately",
        "also",
        "right",
        "away",
        "today",
        "really",
    ]
)
STOPWORDS = SKIPPABLE | set(
    [
        "i",
        "me",
        "you",
        "he",
        "she",
        "we",
        "they",
        "it",
        "them",
        "us",
        "him",
        "to",
        "from",
        "with",
        "for",
        "of",
        "on",
        "in",
        "at",
        "about",
        "by",
        "and",
        "or",
        "but",
        "because",
        "since",
        "so",
        "if",
        "then",
        "than",
        "as",
        "is",
        "am",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "done",
        "have",
        "has",
        "had",
        "having",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "want",
        "wanna",
        "need",
        "like",
        "love",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "ok",
        "okay",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "how",
        "when",
        "where",
        "yes",
        "no",
        "not",
        "never",
        "please",
        "kindly",
        "help",
        "question",
        "again",
        "up",
        "out",
        "off",
        "over",
        "into",
        "more",
        "very",
        "much",
        "many",
        "lot",
        "bit",
        "get",
        "got",
        "go",
        "going",
        "make",
        "let",
        "know",
    ]
)
NEGATIONS = {"not", "never", "no"}
DETERMINERS = {"a", "an", "the", "my", "our", "your", "this", "that"}

GLUED_NEGATIONS = {
    "cant": "can not",
    "wont": "will not",
    "dont": "do not",
    "didnt": "did not",
    "doesnt": "does not",
    "hasnt": "has not",
    "havent": "have not",
    "isnt": "is not",
    "wasnt": "was not",
    "wouldnt": "would not",
    "couldnt": "could not",
}
CONTRACTIONS = [
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"n't\b", " not"),
    (r"'re\b", " are"),
    (r"'m\b", " am"),
    (r"'d\b", " would"),
    (r"'ll\b", " will"),
    (r"'ve\b", " have"),
    (r"'s\b", ""),
]


@lru_cache(maxsize=20000)
def _stem(word: str) -> str:
    """Snowball's English stem; stop words stay as written so the stop lists and patterns can name them."""
    return word if word in STOPWORDS else _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer() -> Any:  # snowballstemmer ships no types
    return snowballstemmer.stemmer("english")


def _words(text: str) -> list[str]:
    """Lower-case ASCII words, contractions expanded, clause punctuation kept as a BOUNDARY token."""
    text = (text or "").replace("\u2019", "'").replace("`", "'")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    for pattern, replacement in CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    text = re.sub(r"[.,!?;:()\n]+", f" {BOUNDARY} ", text)
    words = re.findall(r"[a-z0-9]+|\|", text)
    return [part for word in words for part in GLUED_NEGATIONS.get(word, word).split()]


@dataclass(frozen=True)
class _Lexicon:
    patterns: dict[tuple[str, ...], tuple[str, ...]]  # stemmed words -> concepts
    longest: int
    vocabulary: frozenset[str]  # raw lexicon words, targets of spelling correction
    near: dict[str, str]  # one deletion of a vocabulary word -> the word


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    patterns: dict[tuple[str, ...], tuple[str, ...]] = {}
    vocabulary: set[str] = set()
    for concepts, forms in LEXICON.items():
        for form in forms:
            words = _words(form)
            patterns[tuple(_stem(w) for w in words)] = tuple(concepts.split())
            vocabulary.update(w for w in words if len(w) >= 4 and w not in STOPWORDS)
    near: dict[str, str] = {}
    for word in sorted(vocabulary):
        for variant in _deletions(word) | {word}:
            near.setdefault(variant, word)
    return _Lexicon(patterns, max(len(p) for p in patterns), frozenset(vocabulary), near)


def _correct(word: str, lexicon: _Lexicon) -> str:
    """The lexicon word one edit away from an unknown word of five letters or more (SymSpell-style), else the word."""
    if len(word) < 5 or word in STOPWORDS or word in lexicon.vocabulary or (_stem(word),) in lexicon.patterns:
        return word
    if word in lexicon.near:
        return lexicon.near[word]
    return next((lexicon.near[d] for d in sorted(_deletions(word)) if d in lexicon.near), word)


@dataclass(frozen=True)
class _Unit:
    key: str  # a concept name or a stemmed content word
    start: int
    end: int
    concept: bool


def _units(text: str) -> tuple[list[str], list[_Unit]]:
    """The stemmed tokens of a text and its meaning units, longest lexicon form first at each position."""
    lexicon = _lexicon()
    tokens = [token if token == BOUNDARY else _stem(_correct(token, lexicon)) for token in _words(text)]
    units, position = [], 0
    while position < len(tokens):
        for size in range(min(lexicon.longest, len(tokens) - position), 0, -1):
            concepts = lexicon.patterns.get(tuple(tokens[position : position + size]))
            if concepts:
                units += [_Unit(c, position, position + size, True) for c in concepts]
                position += size
                break
        else:
            token = tokens[position]
            if token != BOUNDARY and token not in STOPWORDS and not token.isdigit():
                units.append(_Unit(token, position, position + 1, False))
            position += 1
    return tokens, units


def _negated(tokens: list[str], unit: _Unit) -> bool:
    for token in reversed(tokens[max(0, unit.start - NEGATION_WINDOW) : unit.start]):
        if token == BOUNDARY:
            return False
        if token in NEGATIONS:
            return True
    return False


def _foreign_object(tokens: list[str], unit: _Unit, units: list[_Unit]) -> bool:
    """True when the words right after a verb name something outside the support vocabulary and no concept."""
    if unit.start and tokens[unit.start - 1] in DETERMINERS:
        return False  # "a refund", "the cancellation": a noun, not a verb taking an object
    if any(other.concept and other.end == unit.start for other in units):
        return False  # a compound such as "password reset" or "account deletion": the object comes first
    concept_at = {other.start for other in units if other.concept}
    content = 0
    for position in range(unit.end, len(tokens)):
        token = tokens[position]
        if position in concept_at:
            return False
        if token in SKIPPABLE:
            continue
        if token == BOUNDARY or token in STOPWORDS or content == OBJECT_WINDOW:
            break
        content += 1
    return content > 0


@lru_cache(maxsize=2048)
def message_meaning(text: str) -> frozenset[str]:
    """The concepts and content words a message asserts (negated or misdirected requests left out); cached per text
    so several workflows reading the same message analyse it once."""
    tokens, units = _units(text)
    kept = set()
    for unit in units:
        if unit.key in ACTIONS and (_negated(tokens, unit) or _foreign_object(tokens, unit, units)):
            continue
        kept.add(unit.key)
    return frozenset(kept)


@dataclass(frozen=True)
class Phrase:
    text: str
    weights: tuple[tuple[str, float], ...]
    total: float


@lru_cache(maxsize=1024)
def compile_phrases(phrases: tuple[str, ...]) -> tuple[Phrase, ...]:
    """The index of a workflow's example phrases, built once per distinct phrase list (at save time)."""
    return tuple(_compile_phrase(text) for text in phrases)


def _compile_phrase(text: str) -> Phrase:
    units = _units(text)[1]
    has_concepts = any(unit.concept for unit in units)
    weights: dict[str, float] = {}
    for unit in units:
        weight = CONCEPT_WEIGHT if unit.concept or not has_concepts else WORD_WEIGHT
        weights[unit.key] = max(weight, weights.get(unit.key, 0.0))
    return Phrase(text, tuple(sorted(weights.items())), sum(weights.values()))


@dataclass(frozen=True)
class IntentMatch:
    score: float
    phrase: str | None


def best_match(phrases: list[str] | tuple[str, ...], text: str) -> IntentMatch:
    """The phrase a message comes closest to, with the share of that phrase's weight the message covers (0–1)."""
    meaning = message_meaning(text or "")
    best = IntentMatch(0.0, None)
    for phrase in compile_phrases(tuple(phrases)):
        if not phrase.total:
            continue
        score = sum(weight for key, weight in phrase.weights if key in meaning) / phrase.total
        if score > best.score:
            best = IntentMatch(round(score, 4), phrase.text)
    return best


def matches(phrases: list[str], text: str, threshold: float | None = None) -> bool:
    """True when the message means one of the phrases (score at or above the threshold, default 0.7)."""
    limit = DEFAULT_THRESHOLD if threshold is None else threshold
    return best_match(phrases, text).score >= max(limit, 1e-9)


def phrase_errors(phrases: list[str]) -> list[tuple[str, str]]:
    """Phrases that carry no meaning at all (only stop words): they could never match, so saving them is an error."""
    return [
        (f"intents[{index}]", f'"{phrase.text}" has no meaningful words to match on.')
        for index, phrase in enumerate(compile_phrases(tuple(phrases)))
        if not phrase.total
    ]
