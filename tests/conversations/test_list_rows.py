"""The conversation list read as rows (conversations.api.rows) answers the same bytes as the serializer path, for a
rich set of conversations (tags, SLA targets on and off a business calendar, custom fields, assignee, team,
dispositions, snoozes, sentiment), on the first page, deeper pages, and filtered and search pages."""

from __future__ import annotations

import datetime as dt

import pytest

from conversations import services
from conversations.api.rows import conversation_rows
from conversations.api.serializers import ConversationSerializer
from conversations.api.views import ConversationViewSet
from conversations.services.fields import conversation_field_create, conversation_set_fields
from conversations.services.snooze import conversation_snooze
from tests.support.people import client_for
from tests.support.sla import make_policy

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "page_size=3",
    "page=2&page_size=4",
    "status=open,pending",
    "search=invoice",
    "tag=vip",
    "priority=high&channel=email",
    "assignee=none",
    "team=Billing&page_size=2",
    "snoozed=true",
    "sla_breached=false",
    "field.order_id=A-1",
    "unknown=ignored",
]


@pytest.fixture
def rich_conversations(clock, office_hours, agent, team):
    """Conversations with every kind of column filled in some and empty in others."""
    make_policy(
        "Urgent on office hours",
        position=1,
        match={"all": [{"field": "conversation.priority", "op": "eq", "value": "high"}]},
        business_hours=office_hours,
    )
    make_policy("Everyone", position=2)
    billing = services.team_create(name="Billing")
    conversation_field_create(key="order_id", label="Order", type="text")
    customers = [
        services.contact_create(name=f"Customer {n}", email=f"c{n}@example.com", segment="smb") for n in range(3)
    ]
    opened = []
    for n in range(12):
        clock.advance(minutes=7)
        conversation = services.conversation_open(
            contact=customers[n % 3],
            channel=("email", "live_chat", "web")[n % 3],
            subject=f"Invoice question {n}",
            priority=("high", "normal", "low", "urgent")[n % 4],
            team=(None, team, billing)[n % 3],
        )
        opened.append(conversation)
        services.message_create(
            conversation=conversation, body=f"My invoice {n} is wrong, this is terrible", sender_type="customer"
        )
        if n % 2:
            services.conversation_set_tags(conversation=conversation, tags=["vip", "billing", "zeta"][: 1 + n % 3])
        if n % 3 == 1:
            services.conversation_assign(conversation=conversation, assignee=agent)
            clock.advance(minutes=3)
            services.message_create(conversation=conversation, body="On it", sender_type="agent", author=agent)
            services.message_create(conversation=conversation, body="Thanks!", sender_type="customer")
        if n % 4 == 2:
            conversation_set_fields(conversation=conversation, fields={"order_id": f"A-{n % 3}"})
        if n == 5:
            services.conversation_change_status(conversation=conversation, status="resolved")
        if n == 7:
            services.conversation_set_disposition(conversation=conversation, disposition="answer_provided")
        if n == 8:
            conversation_snooze(conversation=conversation, until=clock.now + dt.timedelta(days=1))
    clock.advance(hours=30)  # some targets run overdue: negative time left, breaches pending the sweep
    return opened


def page(client, query: str) -> bytes:
    response = client.get(f"/api/conversations/?{query}")
    assert response.status_code == 200, (query, response.content)
    return response.content


def test_the_rows_path_answers_the_same_bytes_as_the_serializer(rich_conversations, agent, monkeypatch):
    assert conversation_rows(ConversationSerializer, ConversationSerializer.page_loaders) is not None
    client = client_for(agent)
    from_rows = {query: page(client, query) for query in QUERIES}
    monkeypatch.setattr(ConversationViewSet, "list_from_rows", False)
    from_serializer = {query: page(client, query) for query in QUERIES}
    for query in QUERIES:
        assert from_rows[query] == from_serializer[query], query
    first = client.get("/api/conversations/?page_size=200").json()["results"]
    assert {tuple(row["tags"]) for row in first} >= {("billing", "vip"), ("billing", "vip", "zeta"), ("vip",)}
    assert any(row["sla"] for row in first) and any(row["fields"] for row in first)
    assert any(row["assignee"] for row in first) and any(row["snoozed_until"] for row in first)
    assert any(row["disposition"] for row in first) and any(row["sentiment"] is not None for row in first)


def test_a_list_page_costs_the_same_queries_whatever_its_size(rich_conversations, agent, django_assert_num_queries):
    client = client_for(agent)
    # the token, the count, the page's rows, its tags, its SLA targets
    for size in (2, 12):
        with django_assert_num_queries(5):
            assert len(client.get(f"/api/conversations/?page_size={size}").json()["results"]) == size


def test_a_bad_filter_is_still_a_400(rich_conversations, agent):
    response = client_for(agent).get("/api/conversations/?status=nope")
    assert response.status_code == 400 and "status" in response.json()


def test_an_empty_list_is_an_empty_page(agent):
    assert client_for(agent).get("/api/conversations/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_times_are_rendered_in_the_sites_time_zone_as_the_serializer_does(
    rich_conversations, agent, settings, monkeypatch
):
    settings.TIME_ZONE = "America/New_York"
    client = client_for(agent)
    from_rows = page(client, "page_size=5")
    assert b"-04:00" in from_rows or b"-05:00" in from_rows
    monkeypatch.setattr(ConversationViewSet, "list_from_rows", False)
    assert from_rows == page(client, "page_size=5")
