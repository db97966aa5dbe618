"""The renderer chosen per Accept header is remembered per process (conversations.api.negotiation): the answers are
DRF's own, whatever the order of the requests — JSON with the header's parameters, the browsable page on request,
406 for a type no renderer gives, every time."""

import json

import pytest
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from conversations.api.negotiation import RememberingContentNegotiation

URL = "/api/conversations/"


@pytest.fixture(autouse=True)
def nothing_remembered():
    RememberingContentNegotiation._chosen.clear()
    yield
    RememberingContentNegotiation._chosen.clear()


@pytest.mark.django_db
def test_the_same_header_gets_the_same_answer_twice(agent_client, conversation):
    for _ in range(2):
        response = agent_client.get(URL, HTTP_ACCEPT="*/*")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json()["results"][0]["id"] == conversation.pk


@pytest.mark.django_db
def test_media_type_parameters_follow_their_header(agent_client, conversation):
    indented = agent_client.get(URL, HTTP_ACCEPT="application/json; indent=4")
    plain = agent_client.get(URL, HTTP_ACCEPT="application/json")
    again = agent_client.get(URL, HTTP_ACCEPT="application/json; indent=4")
    assert indented.content == again.content
    assert b'\n    "count"' in indented.content and b"\n" not in plain.content
    assert json.loads(indented.content) == json.loads(plain.content)


@pytest.mark.django_db
def test_a_format_override_is_negotiated_each_time(agent_client, conversation):
    assert agent_client.get(URL, HTTP_ACCEPT="*/*")["Content-Type"] == "application/json"
    browsable = agent_client.get(f"{URL}?format=api", HTTP_ACCEPT="*/*")
    assert browsable.status_code == 200 and browsable["Content-Type"].startswith("text/html")
    assert agent_client.get(URL, HTTP_ACCEPT="*/*")["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_an_unacceptable_type_is_406_every_time(agent_client):
    for _ in range(2):
        assert agent_client.get(URL, HTTP_ACCEPT="text/csv").status_code == 406
    assert agent_client.get(URL, HTTP_ACCEPT="text/csv, application/json;q=0.5").status_code == 200


def test_the_table_stays_bounded(monkeypatch, rf):
    monkeypatch.setattr("conversations.api.negotiation.MAX_REMEMBERED", 3)
    negotiation = RememberingContentNegotiation()
    for n in range(10):
        request = Request(rf.get(URL, HTTP_ACCEPT=f"application/json; v={n}"))
        renderer, media_type = negotiation.select_renderer(request, [JSONRenderer()])
        assert isinstance(renderer, JSONRenderer) and media_type == f"application/json; v={n}"
    assert 1 <= len(RememberingContentNegotiation._chosen) <= 3
