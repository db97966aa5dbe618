"""The API's version and body rules as a client meets them (docs/api-versioning.md): every answer, errors included,
carries `API-Version: 1`; a view being retired adds `Deprecation` and `Sunset`; bodies are JSON, and multipart is
read only where files travel."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from conversations.api.base import HelpdeskAPIMixin
from conversations.models import Contact


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/conversations/", 200),
        ("post", "/api/contacts/", 400),
        ("get", "/api/conversations/999999/", 404),
        ("get", "/api/no-such-thing/", 404),
        ("get", "/api/health/live/", 200),
    ],
)
def test_every_answer_names_the_api_version(agent_client, method, path, status):
    response = getattr(agent_client, method)(path)
    assert response.status_code == status
    assert response["API-Version"] == "1"
    assert "Deprecation" not in response


def test_an_anonymous_refusal_names_the_version_too(anon_client):
    response = anon_client.get("/api/conversations/")
    assert (response.status_code, response["API-Version"]) == (401, "1")


def test_a_retired_view_announces_its_deprecation_and_sunset():
    class Retiring(HelpdeskAPIMixin, APIView):
        authentication_classes: list = []
        permission_classes: list = []
        deprecated_at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        sunset_at = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)

        def get(self, request):
            return Response({"ok": True})

    response = Retiring.as_view()(APIRequestFactory().get("/api/retiring/"))
    assert response["API-Version"] == "1"
    assert response["Deprecation"] == "@1780272000"
    assert response["Sunset"] == "Fri, 01 Jan 2027 00:00:00 GMT"


def test_bodies_are_json_and_a_form_post_is_415(agent_client):
    form = agent_client.post(
        "/api/contacts/", "name=Ada&email=ada%40example.com", content_type="application/x-www-form-urlencoded"
    )
    multipart = agent_client.post("/api/contacts/", {"name": "Ada", "email": "ada@example.com"}, format="multipart")
    assert (form.status_code, multipart.status_code) == (415, 415)
    assert not Contact.objects.exists()
    created = agent_client.post("/api/contacts/", {"name": "Ada", "email": "ada@example.com"}, format="json")
    assert created.status_code == 201, created.json()


def test_messages_read_json_and_multipart(agent_client, conversation):
    url = f"/api/conversations/{conversation.pk}/messages/"
    as_json = agent_client.post(url, {"body": "As JSON", "sender_type": "customer"}, format="json")
    as_multipart = agent_client.post(url, {"body": "As a form", "sender_type": "customer"}, format="multipart")
    assert (as_json.status_code, as_multipart.status_code) == (201, 201), as_multipart.content
    listing = agent_client.get(url).json()["results"]
    assert [message["body"] for message in listing] == ["As JSON", "As a form"]


def test_recordings_read_multipart_only(agent_client, conversation):
    url = f"/api/conversations/{conversation.pk}/recordings/"
    audio = SimpleUploadedFile("call.wav", b"RIFF....WAVEfmt ", content_type="audio/wav")
    assert agent_client.post(url, {"file": audio}, format="multipart").status_code == 201
    assert agent_client.post(url, {"file": "call.wav"}, format="json").status_code == 415
