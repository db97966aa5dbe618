"""The API token lookup compiled once per process (conversations.api.authentication.TokenLookup): every change to a
token, its user or the role groups counts on the very next request, however it was made."""

from __future__ import annotations

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from conversations.api import authentication
from conversations.roles import AGENTS_GROUP
from tests.support.people import client_for

pytestmark = pytest.mark.django_db


def raw(sql: str, *params) -> None:
    """A change made behind Django's back (no model, no signal), as another process or a DBA would make it."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_deleted_token_is_refused_on_the_next_request(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    Token.objects.filter(user=agent).delete()
    assert client.get("/api/conversations/").status_code == 401


def test_a_token_deleted_with_raw_sql_is_refused_on_the_next_request(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    raw("DELETE FROM authtoken_token WHERE user_id = %s", agent.pk)
    assert client.get("/api/conversations/").status_code == 401


def test_a_rotated_token_is_refused_and_the_new_one_works(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    agent.set_password("another-password-42")
    agent.save()  # a password change deletes the user's tokens (conversations.tokens)
    assert client.get("/api/conversations/").status_code == 401
    assert client_for(agent).get("/api/conversations/").status_code == 200


def test_a_removed_role_is_refused_on_the_next_request(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    agent.groups.clear()
    assert client.get("/api/conversations/").status_code == 403


def test_a_role_removed_with_raw_sql_is_refused_on_the_next_request(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    raw("DELETE FROM auth_user_groups WHERE user_id = %s", agent.pk)
    assert client.get("/api/conversations/").status_code == 403


def test_a_deleted_or_renamed_role_group_counts_on_the_next_request(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    Group.objects.filter(name=AGENTS_GROUP).update(name="Former agents")
    assert client.get("/api/conversations/").status_code == 403
    Group.objects.filter(name="Former agents").update(name=AGENTS_GROUP)
    assert client.get("/api/conversations/").status_code == 200
    Group.objects.filter(name=AGENTS_GROUP).delete()
    assert client.get("/api/conversations/").status_code == 403


def test_a_user_deactivated_without_signals_is_refused(agent):
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    type(agent).objects.filter(pk=agent.pk).update(is_active=False)
    response = client.get("/api/conversations/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_a_new_role_counts_on_the_next_request(agent, manager):
    client = client_for(agent)
    assert client.get("/api/sla-policies/").status_code == 403
    agent.groups.add(Group.objects.get(name="Support managers"))
    assert client.get("/api/sla-policies/").status_code == 200


def test_an_unknown_or_malformed_key_is_a_401(agent):
    client = client_for(agent)
    for key in ("0" * 40, "nope", "bad\x00key"):
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        assert client.get("/api/conversations/").status_code == 401


def test_the_lookup_is_compiled_once_and_costs_one_query(agent):
    client = client_for(agent)
    assert client.get("/api/teams/").status_code == 200
    compiled = dict(authentication._lookups)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/api/teams/").status_code == 200
    reads = [query["sql"] for query in captured.captured_queries]
    assert len(reads) == 2 and "authtoken_token" in reads[0]  # the token + user + roles read, then the (empty) count
    assert authentication._lookups == compiled
    assert all(value is compiled[key] for key, value in authentication._lookups.items())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_token_deleted_by_another_process_is_refused_on_the_next_request(agent):
    """Another connection (another process's, with no Python hook of ours) commits the delete."""
    client = client_for(agent)
    assert client.get("/api/conversations/").status_code == 200
    settings = connection.settings_dict
    with psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        autocommit=True,
    ) as other:
        other.execute("DELETE FROM authtoken_token WHERE user_id = %s", (agent.pk,))
    assert client.get("/api/conversations/").status_code == 401
