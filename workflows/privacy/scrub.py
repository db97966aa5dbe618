"""Scrubbing copies of personal data out of free text and JSON (payloads, step inputs and outputs, logs).

Inside data that belongs to an erased conversation every string leaf goes, except codes (a status, a type, an id, a
timestamp: one word of letters, digits and `_.:+-`) that name none of the contact's values. Elsewhere (endpoint
logs, replay samples over many conversations) only strings that contain one of the contact's values go.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

ERASED = "[erased]"
_CODE = re.compile(r"^[A-Za-z0-9_.:+\-]{1,64}$")
# Keys whose text is personal whatever it looks like.
PERSONAL_KEYS = frozenset(
    {
        "body",
        "name",
        "email",
        "phone",
        "subject",
        "comment",
        "text",
        "title",
        "description",
        "full_text",
        "from",
        "to",
        "cc",
        "note",
        "value",
        "contact_name",
        "address",
        "username",
    }
)


class Scrubber:
    """Knows one contact's values (name and its parts, email, phone in both spellings) and removes them."""

    def __init__(self, values: Iterable[str]):
        tokens: set[str] = set()
        for value in values:
            value = (value or "").strip().lower()
            if len(value) < 3:
                continue
            tokens.add(value)
            tokens.update(part for part in re.split(r"[\s,;<>\"']+", value) if len(part) >= 3)
            if value.startswith("+") and value[1:].isdigit():
                tokens.add(value[1:])
        self.tokens = sorted(tokens, key=len, reverse=True)

    def names_the_contact(self, text: str) -> bool:
        lowered = text.lower()
        return any(token in lowered for token in self.tokens)

    def text(self, text: str) -> str:
        """Free text outside the erased conversations: gone only when it names the contact."""
        return ERASED if text and self.names_the_contact(text) else text

    def loose(self, value: Any) -> Any:
        """JSON outside the erased conversations: string leaves that name the contact go."""
        if isinstance(value, dict):
            return {key: self.loose(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.loose(item) for item in value]
        return self.text(value) if isinstance(value, str) else value

    def strict(self, value: Any, key: str | None = None) -> Any:
        """JSON of an erased conversation: every string leaf goes but codes that name nobody."""
        if isinstance(value, dict):
            return {name: self.strict(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self.strict(item, key) for item in value]
        if isinstance(value, str):
            keep = key not in PERSONAL_KEYS and _CODE.match(value) and not self.names_the_contact(value)
            return value if keep else ERASED
        return value
