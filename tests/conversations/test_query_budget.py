"""The write endpoints of the conversations API keep their SQL budget, and the shortcuts that buy it change nothing
a client sees: the POST response equals a fresh GET, unknown conversations are still 404, roles still hold.

Counts are taken with the test client inside the test's transaction, so BEGIN/COMMIT are savepoints and the
after-commit queue insert does not run; over HTTP each write costs those on top.
"""

from collections import Counter

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.roles import AGENTS_GROUP, MANAGERS_GROUP
from tests.support.people import client_for, make_user

# opening a conversation, its report row included (reports.rows, one upsert)
OPEN_CONVERSATION_SQL = 8
# token + roles, savepoint, lock (conversation + contact), message, conversation update, event, SLA state, release
CUSTOMER_MESSAGE_SQL = 8
# as above, plus the status change to open it brings (update, event, SLA clocks and policy) without a second lock,
# and the first response's business minutes for the reports (the policy's calendar, one upsert), and the report row
# (reports.rows, one upsert)
FIRST_AGENT_REPLY_SQL = 15


def count_sql(call):
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return response, len(queries.captured_queries)


@pytest.mark.django_db
def test_opening_a_conversation_stays_within_its_query_budget(agent_client, contact):
    response, sql = count_sql(
        lambda: agent_client.post(
            "/api/conversations/", {"contact": contact.pk, "channel": "email", "subject": "Order"}, format="json"
        )
    )
    assert response.status_code == 201, response.content
    assert sql <= OPEN_CONVERSATION_SQL


@pytest.mark.django_db
def test_posting_messages_stays_within_its_query_budget(agent_client, open_conversation):
    conversation = open_conversation()
    url = f"/api/conversations/{conversation.pk}/messages/"
    response, customer_sql = count_sql(
        lambda: agent_client.post(url, {"body": "Where is my order?", "sender_type": "customer"}, format="json")
    )
    assert response.status_code == 201, response.content
    response, agent_sql = count_sql(
        lambda: agent_client.post(url, {"body": "On its way.", "sender_type": "agent"}, format="json")
    )
    assert response.status_code == 201, response.content
    assert (customer_sql <= CUSTOMER_MESSAGE_SQL, agent_sql <= FIRST_AGENT_REPLY_SQL) == (True, True), (
        customer_sql,
        agent_sql,
    )
    conversation.refresh_from_db()
    assert (conversation.status, conversation.first_response_at is not None) == ("open", True)
    assert Counter(conversation.events.exclude(type="conversation.created").values_list("type", flat=True)) == {
        "message.created": 2,
        "conversation.status_changed": 1,
    }


@pytest.mark.django_db
def test_the_created_conversation_reads_back_as_a_fresh_get_does(agent_client, contact):
    body = agent_client.post(
        "/api/conversations/", {"contact": contact.pk, "channel": "live_chat"}, format="json"
    ).json()
    assert (body["tags"], body["sla"], body["status"]) == ([], [], "new")
    assert agent_client.get(f"/api/conversations/{body['id']}/").json() == body


@pytest.mark.django_db
def test_the_created_conversation_reads_back_its_new_sla_clocks(agent_client, contact):
    from sla.policies import sla_policy_save

    sla_policy_save(
        name="All",
        position=1,
        match={},
        targets={"first_response": 60, "resolution": 480},
        pause_on=["pending"],
        warning_percent=80,
    )
    body = agent_client.post(
        "/api/conversations/", {"contact": contact.pk, "channel": "live_chat"}, format="json"
    ).json()
    assert [target["metric"] for target in body["sla"]] == ["first_response", "resolution"]
    fresh = agent_client.get(f"/api/conversations/{body['id']}/").json()
    # `remaining_seconds` counts down between the two reads; everything else is the same
    strip = [{key: value for key, value in target.items() if key != "remaining_seconds"} for target in body["sla"]]
    assert strip == [
        {key: value for key, value in target.items() if key != "remaining_seconds"} for target in fresh["sla"]
    ]


@pytest.mark.django_db
def test_tags_set_after_opening_are_not_hidden_by_the_remembered_empty_set(contact):
    conversation = services.conversation_open(contact=contact, channel="email")
    assert list(conversation.tags.all()) == []
    services.conversation_add_tags(conversation=conversation, tags=["vip"])
    assert [tag.name for tag in conversation.tags.all()] == ["vip"]


@pytest.mark.django_db
def test_clocks_moved_after_opening_are_not_hidden_by_the_remembered_ones(contact):
    from sla.policies import sla_policy_save

    sla_policy_save(
        name="All",
        position=1,
        match={},
        targets={"first_response": 60, "resolution": 480},
        pause_on=["pending"],
        warning_percent=80,
    )
    conversation = services.conversation_open(contact=contact, channel="email")
    assert {target.state for target in conversation.sla_targets.all()} == {"active"}
    services.conversation_change_status(conversation=conversation, status="pending")
    assert {target.state for target in conversation.sla_targets.all()} == {"paused"}


@pytest.mark.django_db
@pytest.mark.parametrize("conversation_id", ["999999", "abc", "99999999999999999999999"])
def test_a_message_to_an_unknown_conversation_is_a_404(agent_client, conversation_id):
    ok = agent_client.post(
        f"/api/conversations/{conversation_id}/messages/", {"body": "Hi", "sender_type": "customer"}, format="json"
    )
    refused_by_service = agent_client.post(
        f"/api/conversations/{conversation_id}/messages/",
        {"body": "Hi", "sender_type": "customer", "internal": True},
        format="json",
    )
    assert (ok.status_code, refused_by_service.status_code) == (404, 404)


@pytest.mark.django_db
def test_a_customer_internal_note_on_a_known_conversation_is_still_a_400(agent_client, open_conversation):
    conversation = open_conversation()
    response = agent_client.post(
        f"/api/conversations/{conversation.pk}/messages/",
        {"body": "Hi", "sender_type": "customer", "internal": True},
        format="json",
    )
    assert (response.status_code, list(response.json())) == (400, ["internal"])


@pytest.mark.django_db
def test_roles_read_with_the_token_decide_each_request(roles):
    user = User.objects.create_user(username="shifting", password="pw-shifting")
    client = client_for(user)
    assert client.get("/api/conversations/").status_code == 403
    user.groups.add(Group.objects.get(name=AGENTS_GROUP))
    assert client.get("/api/conversations/").status_code == 200
    assert client.get("/api/workflows/").status_code == 403  # an agent does not manage configuration
    user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
    assert client.get("/api/workflows/").status_code == 200
    user.groups.clear()
    assert client.get("/api/conversations/").status_code == 403


@pytest.mark.django_db
def test_a_bad_or_inactive_token_is_still_a_401(roles):
    user = make_user("gone", AGENTS_GROUP)
    client = client_for(user)
    user.is_active = False
    user.save()
    assert client.get("/api/conversations/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get("/api/conversations/").status_code == 401
