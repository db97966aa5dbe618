"""Conversation filters (docs/api.md), pagination (docs/api.md) and the list's constant query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conversations import services
from conversations.models import Conversation


def ids(client, query: str) -> set[int]:
    response = client.get(f"/api/conversations/?{query}")
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def board(open_conversation, agent, team, contact):
    """Four conversations that differ in every filtered field."""
    other_contact = services.contact_create(name="Bob Builder", email="bob@builder.org")
    chat = open_conversation(channel="live_chat", subject="Printer jam", priority="high", team=team)
    mail = open_conversation(channel="email", subject="Invoice question")
    sms = open_conversation(contact=other_contact, channel="sms", subject="Hello", priority="urgent")
    phone = open_conversation(channel="phone", subject="Call back")
    services.conversation_change_status(conversation=mail, status="pending")
    services.conversation_change_status(conversation=phone, status="closed")
    services.conversation_assign(conversation=chat, assignee=agent)
    services.conversation_add_tags(conversation=chat, tags=["vip", "hardware"])
    services.conversation_add_tags(conversation=mail, tags=["billing"])
    services.message_create(conversation=phone, body="My modem blinks red", sender_type="customer")
    services.message_create(conversation=phone, body="modem again", sender_type="customer")
    return {"chat": chat.pk, "mail": mail.pk, "sms": sms.pk, "phone": phone.pk}


def test_status_filter_single_repeated_and_comma(agent_client, board):
    assert ids(agent_client, "status=pending") == {board["mail"]}
    assert ids(agent_client, "status=pending&status=closed") == {board["mail"], board["phone"]}
    assert ids(agent_client, "status=new,closed") == {board["chat"], board["sms"], board["phone"]}


def test_channel_and_priority_filters(agent_client, board):
    assert ids(agent_client, "channel=sms,phone") == {board["sms"], board["phone"]}
    assert ids(agent_client, "priority=urgent&priority=high") == {board["chat"], board["sms"]}
    assert ids(agent_client, "channel=email&priority=normal") == {board["mail"]}


def test_assignee_filter_by_id_username_and_none(agent_client, agent, board):
    assert ids(agent_client, f"assignee={agent.pk}") == {board["chat"]}
    assert ids(agent_client, "assignee=agent") == {board["chat"]}
    assert ids(agent_client, "assignee=none") == {board["mail"], board["sms"], board["phone"]}
    assert ids(agent_client, "assignee=nobody") == set()


def test_team_filter_by_id_and_name(agent_client, team, board):
    assert ids(agent_client, f"team={team.pk}") == {board["chat"]}
    assert ids(agent_client, "team=Support") == {board["chat"]}


def test_tag_filter_any_of_names_without_duplicates(agent_client, board):
    assert ids(agent_client, "tag=vip") == {board["chat"]}
    response = agent_client.get("/api/conversations/?tag=vip,hardware,billing").json()
    assert sorted(row["id"] for row in response["results"]) == sorted([board["chat"], board["mail"]])
    assert response["count"] == 2


def test_contact_filter(agent_client, contact, board):
    assert ids(agent_client, f"contact={contact.pk}") == {board["chat"], board["mail"], board["phone"]}


def test_created_after_and_before(agent_client, board):
    Conversation.objects.filter(pk=board["sms"]).update(created_at=timezone.now() - timedelta(days=10))
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(agent_client, f"created_before={cutoff.replace('+', '%2B')}") == {board["sms"]}
    assert board["sms"] not in ids(agent_client, f"created_after={cutoff.replace('+', '%2B')}")
    assert ids(agent_client, "created_before=2000-01-01") == set()


def test_search_subject_contact_and_message_bodies(agent_client, board):
    assert ids(agent_client, "search=printer") == {board["chat"]}
    assert ids(agent_client, "search=builder") == {board["sms"]}
    assert ids(agent_client, "search=ada@") == {board["chat"], board["mail"], board["phone"]}
    response = agent_client.get("/api/conversations/?search=MODEM").json()
    assert response["count"] == 1  # two matching messages, one row
    assert [row["id"] for row in response["results"]] == [board["phone"]]


def test_filters_combine(agent_client, agent, board):
    assert ids(agent_client, f"status=new&assignee={agent.pk}&tag=vip&channel=live_chat") == {board["chat"]}
    assert ids(agent_client, "status=closed&tag=vip") == set()


@pytest.mark.parametrize(
    "query",
    [
        "status=bogus",
        "status=open,bogus",
        "channel=fax",
        "priority=meh",
        "contact=abc",
        "created_after=yesterday",
        "created_before=2026-13-45",
        "contact=1" + "0" * 30,
    ],
)
def test_bad_filter_values_are_400_naming_the_filter(agent_client, board, query):
    response = agent_client.get(f"/api/conversations/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_huge_ids_in_reference_filters_do_not_fail(agent_client, board):
    assert ids(agent_client, "team=" + "9" * 30) == set()
    assert ids(agent_client, "assignee=" + "9" * 18) == set()


def test_pagination_shape_and_page_size_cap(agent_client, open_conversation):
    for number in range(7):
        open_conversation(subject=f"c{number}")
    first = agent_client.get("/api/conversations/?page_size=3").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert (first["count"], len(first["results"]), first["previous"]) == (7, 3, None)
    assert "page=2" in first["next"]
    last = agent_client.get("/api/conversations/?page_size=3&page=3").json()
    assert (len(last["results"]), last["next"]) == (1, None)
    assert agent_client.get("/api/conversations/?page=99").status_code == 404
    newest_first = [row["subject"] for row in agent_client.get("/api/conversations/").json()["results"]]
    assert newest_first == [f"c{n}" for n in reversed(range(7))]


def test_page_size_is_capped_at_200(agent_client, contact):
    Conversation.objects.bulk_create(Conversation(contact=contact, channel="email") for _ in range(205))
    body = agent_client.get("/api/conversations/?page_size=1000").json()
    assert (body["count"], len(body["results"])) == (205, 200)


def list_queries(client, count: int, agent, team) -> int:
    """Queries of one list request over `count` conversations that each have an assignee, a team and tags."""
    contact = services.contact_create(name=f"Contact with {count}")
    for number in range(count):
        conversation = services.conversation_open(contact=contact, channel="email", subject=f"s{number}", team=team)
        services.conversation_assign(conversation=conversation, assignee=agent)
        services.conversation_add_tags(conversation=conversation, tags=[f"t{number % 3}", "all"])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/api/conversations/?page_size=100&contact={contact.pk}")
    assert len(response.json()["results"]) == count
    return len(captured.captured_queries)


def test_list_query_count_does_not_grow_with_rows(agent_client, agent, team):
    assert list_queries(agent_client, 5, agent, team) == list_queries(agent_client, 50, agent, team)


def test_list_query_count_is_small(agent_client, contact, agent, team, django_assert_max_num_queries):
    services.conversation_open(contact=contact, channel="email")
    # token + role check + count + page + tags
    with django_assert_max_num_queries(5):
        agent_client.get("/api/conversations/?status=new&tag=x,y&search=abc")
