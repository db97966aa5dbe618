"""A pseudo-locale ("xx") built at test time, and a reader that finds English left on a page rendered in it.

The catalog holds every msgid the installed apps ship (their `locale/de` catalogs: ours, Django's, DRF's, ...),
each "translated" to the same words with look-alike accented letters between ⟦ and ⟧, placeholders and markup
kept. A string that reaches the page without passing through gettext stays plain ASCII, and `english_words` finds
it once the pseudo text, user data (every string stored in the database) and identifiers are taken out.
"""

from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import polib
from django.apps import apps
from django.conf import settings

PSEUDO_LANGUAGE = "xx"
OPEN, CLOSE = "⟦", "⟧"
_LOWER = "àƀçđéƒĝĥîĵķĺɱñöþʠŕšţûṽŵẋýž"
_UPPER = "ÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŢÛṼŴẊÝŽ"
_LETTERS = str.maketrans("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", _LOWER + _UPPER)
# Kept as they are: %(name)s / %s / %d, {name}, <tags>, &entities; and URLs.
_KEEP = re.compile(
    r"(%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifrxX%]|\{[^{}]*\}"
    r"|<[^>]+>|&[a-zA-Z#0-9]+;|https?://\S+)"
)


def pseudo(text: str) -> str:
    """The pseudo translation of one msgid."""
    if not text:
        return text
    parts = _KEEP.split(text)
    body = "".join(part if index % 2 else part.translate(_LETTERS) for index, part in enumerate(parts))
    return OPEN + body + CLOSE


def _catalogs(domain: str) -> list[Path]:
    """Every `<app>/locale/de/LC_MESSAGES/<domain>.po` of the installed apps and Django's own."""
    roots = [Path(__import__("django").__file__).parent / "conf"]
    roots += [Path(config.path) for config in apps.get_app_configs()]
    roots += [Path(path).parent for path in settings.LOCALE_PATHS]
    found = []
    for root in roots:
        po = root / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po"
        mo = po.with_suffix(".mo")  # some apps (DRF) ship only the compiled catalog
        found += [po] if po.exists() else [mo] if mo.exists() else []
    return found


def build_catalog(locale_dir: Path) -> None:
    """Write `xx` django.mo and djangojs.mo under `locale_dir` from every shipped msgid."""
    target = locale_dir / PSEUDO_LANGUAGE / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    for domain in ("django", "djangojs"):
        catalog = polib.POFile()
        catalog.metadata = {
            "Content-Type": "text/plain; charset=UTF-8",
            "Plural-Forms": "nplurals=2; plural=(n != 1);",
            "Language": PSEUDO_LANGUAGE,
        }
        seen = set()
        for path in _catalogs(domain):
            entries = polib.pofile(str(path)) if path.suffix == ".po" else polib.mofile(str(path))
            for entry in entries:
                key = (entry.msgctxt, entry.msgid, entry.msgid_plural)
                if entry.obsolete or key in seen:
                    continue
                seen.add(key)
                copy = polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid, msgid_plural=entry.msgid_plural)
                if entry.msgid_plural:
                    copy.msgstr_plural = {0: pseudo(entry.msgid), 1: pseudo(entry.msgid_plural)}
                else:
                    copy.msgstr = pseudo(entry.msgid)
                catalog.append(copy)
        catalog.save_as_mofile(str(target / f"{domain}.mo"))


class _VisibleText(html.parser.HTMLParser):
    """Text a person sees: element text outside script/style, and the words of title, placeholder,
    aria-label and button values."""

    HIDDEN = {"script", "style", "template", "noscript", "textarea"}
    # (not alt: Django's own admin writes alt="Search" and alt="True" untranslated)
    SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self._hidden += 1
        values = dict(attrs)
        for name in self.SHOWN_ATTRIBUTES:
            if values.get(name):
                self.pieces.append(values[name])
        if tag == "input" and values.get("type") in {"submit", "button", "reset"} and values.get("value"):
            self.pieces.append(values["value"])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.pieces.append(data)


def visible_text(page: str) -> str:
    parser = _VisibleText()
    parser.feed(page)
    return "\n".join(parser.pieces)


# Names that are the same in every language: products, protocols (the HTTP method DELETE), units, acronyms (all
# caps, up to 5 letters).
NOT_WORDS = {
    "Django",
    "OpenAPI",
    "Swagger",
    "Helpdesk",
    "Markdown",
    "Deutsch",
    "English",
    "Français",
    "Español",
    "Slack",
    "Teams",
    "Zapier",
    "Twilio",
    "Gmail",
    "Outlook",
    "Postmark",
    "Mailgun",
    "SendGrid",
    "Anymail",
    "Jinja",
    "Prometheus",
    "Webhook",
    "IANA",
    "Pseudo",
    "WhatsApp",
    "DELETE",
}
# Identifiers: paths, addresses, dotted names; acronyms; words with a digit; UUIDs (whose groups may be all letters).
_IDENTIFIER = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\S*[/_@.:=\\][^\s,;()]*|\b[A-Z]{1,5}s?\b|\b\w*\d\w*\b"
)
_WORD = re.compile(r"\b[A-Za-z]{2,}\b")


def remove_pseudo(text: str) -> str:
    """Text with every ⟦…⟧ span (nested ones too) taken out."""
    innermost = re.compile(re.escape(OPEN) + "[^" + OPEN + CLOSE + "]*" + re.escape(CLOSE))
    while True:
        shorter = innermost.sub(" ", text)
        if shorter == text:
            return text
        text = shorter


def phrases_pattern(phrases: list[str]) -> re.Pattern:
    """One regex matching any of the phrases as whole words, longest first."""
    ordered = sorted({phrase for phrase in phrases if phrase.strip()}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, ordered or ["\0never"])) + r")(?!\w)")


def english_words(text: str, user_data: re.Pattern | list[str]) -> list[str]:
    """Plain-ASCII words left in `text` outside pseudo spans, user data (whole words) and identifiers."""
    if not isinstance(user_data, re.Pattern):
        user_data = phrases_pattern(user_data)
    text = user_data.sub(" ", remove_pseudo(text))
    text = _IDENTIFIER.sub(" ", text)
    return sorted({word for word in _WORD.findall(text) if word not in NOT_WORDS})


def _leaves(value) -> set[str]:
    if isinstance(value, dict):  # values only: keys are our own words ("priority"), not user data
        return set().union(*(_leaves(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_leaves(item) for item in value)) if value else set()
    return {str(value)} if value is not None else set()


def database_strings(min_length: int = 2) -> list[str]:
    """Every string value stored in our tables (names, subjects, bodies, ...), longest first: user data."""
    values: set[str] = set()
    for model in apps.get_models():
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if field.get_internal_type()
            in {"CharField", "TextField", "SlugField", "EmailField", "URLField", "JSONField"}
        ]
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for value in row:
                if isinstance(value, str) and len(value) >= min_length:
                    values.add(value)
                elif isinstance(value, (dict, list)) and value:  # shown as JSON, or value by value
                    values.update({json.dumps(value, sort_keys=True), json.dumps(value, sort_keys=True, indent=2)})
                    values.update(_leaves(value))
    lines = {line.strip() for value in values for line in value.splitlines() if len(line.strip()) >= min_length}
    return sorted(values | lines, key=len, reverse=True)
