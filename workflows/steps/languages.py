"""Texts in the customer's language: customer-facing steps (auto reply, email, survey) may carry `translations`,
`{"de": {"text": "Hallo {{ contact.name }}"}, "fr": {...}}`, beside their own text. The run picks the contact's
language (`pt-br`, then `pt`), else the site's LANGUAGE_CODE, else the step's own text, like Zendesk's dynamic
content; the step's recorded input is the text that was chosen.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

LANGUAGE_TAG = "^[a-z]{2,3}(-[a-z0-9]{2,8})?$"


def translations_schema(*keys: str, max_length: int = 20000) -> dict[str, Any]:
    """The JSON Schema of a step's `translations`: language tag -> {key: text} for the translatable keys."""
    text = {"type": "string", "minLength": 1, "maxLength": max_length}
    return {
        "type": "object",
        "propertyNames": {"pattern": LANGUAGE_TAG},
        "additionalProperties": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {key: text for key in keys},
        },
    }


def _candidates(language: str) -> list[str]:
    site = (settings.LANGUAGE_CODE or "").lower()
    ordered = [language, language.split("-")[0], site, site.split("-")[0]]
    return [tag for tag in dict.fromkeys(ordered) if tag]


def chosen_translation(translations: dict[str, dict[str, Any]], language: str) -> dict[str, str]:
    """The texts for a contact speaking `language` ("" = unknown): its own, its primary language's, the site's, or
    none (the step's own texts stand)."""
    by_tag = {tag.lower(): texts for tag, texts in (translations or {}).items()}
    for tag in _candidates((language or "").lower()):
        if tag in by_tag:
            return by_tag[tag]
    return {}


def localized(config: dict[str, Any], language: str) -> dict[str, Any]:
    """The config with the chosen translation in place of the step's own texts, and no `translations` key."""
    if "translations" not in config:
        return config
    texts = chosen_translation(config["translations"], language)
    return {**{key: value for key, value in config.items() if key != "translations"}, **texts}
