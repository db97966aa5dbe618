"""Customer-facing steps answer in the contact's language: `translations` beside the step's own text, the contact's
language first (`de-at` falls back to `de`), then the site's language, then the step's own text."""

from __future__ import annotations

import pytest

from conversations import services
from tests.support.people import client_for
from tests.support.runs import drain

REPLY = {
    "type": "auto_reply",
    "config": {
        "text": "Hello {{ contact.name }}, we are on it.",
        "translations": {
            "de": {"text": "Hallo {{ contact.name }}, wir kümmern uns."},
            "fr": {"text": "Bonjour {{ contact.name }}, nous nous en occupons."},
        },
    },
}


@pytest.mark.parametrize(
    "language, expected",
    [
        ("de", "Hallo Jonas, wir kümmern uns."),
        ("de-at", "Hallo Jonas, wir kümmern uns."),
        ("fr", "Bonjour Jonas, nous nous en occupons."),
        ("es", "Hello Jonas, we are on it."),
        ("", "Hello Jonas, we are on it."),
    ],
)
def test_the_reply_speaks_the_contacts_language(make_workflow, language, expected):
    make_workflow("message.created", [REPLY], {"sender_types": ["customer"]})
    contact = services.contact_create(name="Jonas", email="jonas@example.de", language=language)
    conversation = services.conversation_open(contact=contact, channel="web", subject="Drucker")
    services.message_create(conversation=conversation, body="Mein Drucker brennt", sender_type="customer")
    drain()
    assert conversation.messages.get(sender_type="ai").body == expected


def test_the_site_language_is_the_fallback(make_workflow, settings):
    settings.LANGUAGE_CODE = "fr-fr"
    make_workflow("message.created", [REPLY], {"sender_types": ["customer"]})
    contact = services.contact_create(name="Jonas", email="jonas@example.it", language="it")
    conversation = services.conversation_open(contact=contact, channel="web", subject="Stampante")
    services.message_create(conversation=conversation, body="La stampante", sender_type="customer")
    drain()
    assert conversation.messages.get(sender_type="ai").body == "Bonjour Jonas, nous nous en occupons."


def test_a_bad_language_tag_or_key_is_a_400_naming_it(manager):
    api = client_for(manager)
    for translations, key in [
        ({"German": {"text": "Hallo"}}, "steps[0].config.translations"),
        ({"de": {"subject": "Hallo"}}, "steps[0].config.translations"),
    ]:
        response = api.post(
            "/api/workflows/",
            {
                "name": "Reply",
                "status": "active",
                "trigger": {"type": "message.created", "config": {}},
                "steps": [{"type": "auto_reply", "config": {"text": "Hello", "translations": translations}}],
            },
            format="json",
        )
        assert response.status_code == 400
        assert any(name.startswith(key) for name in _error_keys(response.json())), response.json()


def _error_keys(body, prefix="") -> list[str]:
    if isinstance(body, dict):
        return [key for name, value in body.items() for key in ([prefix + name] + _error_keys(value, prefix + name))]
    return []
