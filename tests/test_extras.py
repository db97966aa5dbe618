"""Optional features and their pip extras (conversations/extras.py): without the extra's library the feature says
which extra to install, at start-up (`manage.py check`) or when it is used, and the rest of the helpdesk works."""

from __future__ import annotations

import sys

import pytest

from conversations import sentiment
from conversations.models import Conversation, Message
from conversations.setting_checks import check_helpdesk_settings
from tests.support.outbound import BearerApi, TokenEndpoint, call, oauth
from workflows.integrations import speech
from workflows.outbound.client import OutboundError


def without(monkeypatch, *modules: str) -> None:
    """As if the modules were not installed (an import of a module set to None raises ImportError)."""
    for name in list(sys.modules):
        if any(name == module or name.startswith(module + ".") for module in modules):
            monkeypatch.delitem(sys.modules, name)
    for module in modules:
        monkeypatch.setitem(sys.modules, module, None)


def messages(check_id: str) -> list[str]:
    return [message.msg for message in check_helpdesk_settings() if message.id == check_id]


@pytest.fixture
def no_vader(monkeypatch):
    without(monkeypatch, "vaderSentiment")
    sentiment._analyzer.cache_clear()
    yield
    sentiment._analyzer.cache_clear()


def test_without_the_sentiment_extra_messages_are_taken_unscored_and_check_says_how(
    no_vader, agent_client, conversation
):
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "This is terrible, I am furious", "sender_type": "customer"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Message.objects.get(pk=response.json()["id"]).sentiment is None
    assert Conversation.objects.get(pk=conversation.pk).sentiment is None
    assert messages("helpdesk.W003") == [
        "Customer messages get no sentiment score. The sentiment score of customer "
        "messages needs the [sentiment] extra: pip install "
        '"django-helpdesk-workflows[sentiment]"'
    ]


def test_with_the_sentiment_extra_there_is_no_warning_and_messages_are_scored(agent_client, conversation):
    assert messages("helpdesk.W003") == []
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "This is terrible, I am furious", "sender_type": "customer"},
        format="json",
    )
    assert Message.objects.get(pk=response.json()["id"]).sentiment < 0.5


def test_without_the_speech_extra_check_refuses_the_pocketsphinx_backend_and_the_step_names_the_extra(
    monkeypatch, settings
):
    without(monkeypatch, "pocketsphinx")
    speech._decoder.cache_clear()
    settings.HELPDESK_SPEECH_BACKEND = "pocketsphinx"
    install = 'pip install "django-helpdesk-workflows[speech]"'
    assert messages("helpdesk.E006") == [
        f'Offline transcription of recordings (HELPDESK_SPEECH_BACKEND = "pocketsphinx") needs the [speech] extra: '
        f"{install}"
    ]
    with pytest.raises(speech.SpeechError, match=r"\[speech\] extra"):
        speech.get_backend("pocketsphinx").transcribe(speech.Audio(pcm=b"\0\0" * 1600), speech.TranscriptionOptions())
    speech._decoder.cache_clear()


def test_without_the_redis_extra_a_redis_broker_is_refused(monkeypatch, settings):
    without(monkeypatch, "redis")
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:6379/0"}
    assert messages("helpdesk.E006") == [
        'Redis as django-q2\'s broker (Q_CLUSTER["redis"]) needs the [redis] extra: '
        'pip install "django-helpdesk-workflows[redis]"'
    ]


def test_without_the_oauth2_extra_an_oauth2_integration_fails_naming_it(db, monkeypatch, httpserver, allow_loopback):
    tokens = TokenEndpoint("cid", "csecret")
    integration = oauth(httpserver, tokens, BearerApi(tokens, {"ok": True}))
    without(monkeypatch, "authlib")
    with pytest.raises(OutboundError, match=r'pip install "django-helpdesk-workflows\[oauth2\]"') as failure:
        call(integration)
    assert not failure.value.transient and tokens.issued == []
