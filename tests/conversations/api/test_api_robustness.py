"""Hostile input never makes a 500: every writable field of every conversations endpoint is fed wrong types, huge
strings and numbers, NUL bytes, lone surrogates and nested JSON, and the API answers 400 with a message naming the
field (or accepts the value when it is harmless text), without writing a half-made change. Also bodies that are not
JSON at all, deeply nested JSON and hostile query strings."""

import json

import pytest

from conversations.models import Contact, Conversation, Event, Message, Team

HUGE_TEXT = "x" * 100_000
HOSTILE_VALUES = [
    HUGE_TEXT,
    10**40,
    -1,
    1.5,
    True,
    None,
    [],
    {},
    ["a", "b"],
    {"a": {"b": [1]}},
    "nul\x00byte",
    "💥" * 5_000,
    "",
    {"note": ["nul\x00"]},
    {"nul\x00key": 1},
]


def endpoints(conversation, contact, team) -> dict[str, tuple[str, str, dict]]:
    """Writable endpoints: (method, url, a valid body the hostile value is put into)."""
    return {
        "contact-create": ("post", "/api/contacts/", {"name": "Grace", "email": "grace@example.com"}),
        "contact-patch": ("patch", f"/api/contacts/{contact.pk}/", {}),
        "contact-put": ("put", f"/api/contacts/{contact.pk}/", {"name": "Ada"}),
        "team-create": ("post", "/api/teams/", {"name": "Billing"}),
        "team-patch": ("patch", f"/api/teams/{team.pk}/", {}),
        "conversation-create": ("post", "/api/conversations/", {"contact": contact.pk, "channel": "email"}),
        "conversation-patch": ("patch", f"/api/conversations/{conversation.pk}/", {}),
        "message-create": (
            "post",
            f"/api/conversations/{conversation.pk}/messages/",
            {"body": "Hello", "sender_type": "customer"},
        ),
    }


FIELDS = [
    ("contact-create", "name"),
    ("contact-create", "email"),
    ("contact-create", "phone"),
    ("contact-create", "segment"),
    ("contact-create", "attributes"),
    ("contact-patch", "name"),
    ("contact-patch", "phone"),
    ("contact-patch", "attributes"),
    ("contact-put", "email"),
    ("contact-put", "attributes"),
    ("team-create", "name"),
    ("team-create", "email"),
    ("team-patch", "name"),
    ("conversation-create", "contact"),
    ("conversation-create", "channel"),
    ("conversation-create", "subject"),
    ("conversation-create", "priority"),
    ("conversation-create", "team"),
    ("conversation-patch", "status"),
    ("conversation-patch", "priority"),
    ("conversation-patch", "assignee"),
    ("conversation-patch", "team"),
    ("conversation-patch", "disposition"),
    ("conversation-patch", "tags"),
    ("message-create", "body"),
    ("message-create", "sender_type"),
    ("message-create", "internal"),
]

# Values a field may legitimately take among the hostile ones (anything else must be a 400).
ACCEPTED = {
    "segment": lambda v: isinstance(v, str) and "\x00" not in v and len(v) <= 100,
    "attributes": lambda v: isinstance(v, dict) and "\\u0000" not in json.dumps(v),
    "phone": lambda v: v == "",
    "email": lambda v: v == "",
    "subject": lambda v: isinstance(v, str) and "\x00" not in v and len(v) <= 300,
    "team": lambda v: v is None,
    "assignee": lambda v: v is None,
    "tags": lambda v: isinstance(v, list) and all(isinstance(i, str) and i for i in v),
    "internal": lambda v: isinstance(v, bool),
    "name": lambda v: isinstance(v, str) and 0 < len(v) <= 100 and "\x00" not in v,
    "body": lambda v: isinstance(v, str) and 0 < len(v) <= 20_000 and "\x00" not in v,
}


def domain_rows() -> tuple[int, ...]:
    return (
        Contact.objects.count(),
        Team.objects.count(),
        Conversation.objects.count(),
        Message.objects.count(),
        Event.objects.count(),
    )


@pytest.mark.parametrize(("endpoint", "field"), FIELDS, ids=[f"{e}.{f}" for e, f in FIELDS])
def test_hostile_values_are_400_naming_the_field_never_500(
    manager_client, conversation, contact, team, endpoint, field
):
    method, url, valid = endpoints(conversation, contact, team)[endpoint]
    for value in HOSTILE_VALUES:
        before = domain_rows()
        response = getattr(manager_client, method)(url, {**valid, field: value}, format="json")
        shown = repr(value)[:60]
        assert response.status_code < 500, (shown, response.content[:300])
        body = response.json()
        if response.status_code == 400:
            assert isinstance(body, dict) and field in body, (shown, body)
            assert domain_rows() == before, shown
        else:
            assert response.status_code in (200, 201), (shown, response.status_code, body)
            assert ACCEPTED.get(field, lambda v: False)(value), f"{endpoint}.{field} accepted {shown}"


def raw_body(valid: dict, field: str, raw_value: str) -> str:
    """`valid` with `field` set to a JSON fragment typed as is (a test client cannot encode a lone surrogate)."""
    return json.dumps({**valid, field: "@@"}).replace('"@@"', raw_value)


# JSON fragments that decode to text no database row may hold: lone surrogates (alone, in a list, as an object key
# or value) and JSON nested past the parser's depth limit.
UNSTORABLE_FRAGMENTS = [
    '"\\ud83d"',
    '"x\\udc00"',
    '["\\ud800"]',
    '{"note": "\\ud83d"}',
    '{"\\ud83d": 1}',
    '{"a": ' + "[" * 900 + "]" * 900 + "}",
]


@pytest.mark.parametrize(("endpoint", "field"), FIELDS, ids=[f"{e}.{f}" for e, f in FIELDS])
def test_lone_surrogates_and_deep_nesting_are_400_naming_the_field(
    manager_client, conversation, contact, team, endpoint, field
):
    method, url, valid = endpoints(conversation, contact, team)[endpoint]
    for fragment in UNSTORABLE_FRAGMENTS:
        before = domain_rows()
        response = manager_client.generic(
            method.upper(), url, raw_body(valid, field, fragment), content_type="application/json"
        )
        assert response.status_code == 400, (fragment[:40], response.content[:300])
        assert field in response.json(), (fragment[:40], response.json())
        assert domain_rows() == before, fragment[:40]
    for url in (f"/api/contacts/{contact.pk}/", "/api/contacts/", f"/api/conversations/{conversation.pk}/"):
        assert manager_client.get(url).status_code == 200


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "{",
        "[]",
        "null",
        "42",
        '"just text"',
        "{'single': 'quotes'}",
        '{"name": "A",}',
        "\ufeff{}",
        '{"attributes": ' + "[" * 50_000 + "]" * 50_000 + "}",
        '{"name": "A", "attributes": ' + '{"a":' * 50_000 + "1" + "}" * 50_000 + "}",
        b'{"name": "\xff\xfe"}',
    ],
)
@pytest.mark.parametrize("url", ["/api/contacts/", "/api/conversations/", "/api/teams/"])
def test_bodies_that_are_not_a_json_object_are_400(manager_client, contact, raw, url):
    before = domain_rows()
    response = manager_client.generic("POST", url, raw, content_type="application/json")
    assert response.status_code == 400, (raw[:40], response.content[:200])
    assert isinstance(response.json(), dict)
    assert domain_rows() == before


def test_wrong_content_type_is_415_not_500(agent_client, contact):
    response = agent_client.generic("POST", "/api/contacts/", "<contact/>", content_type="application/xml")
    assert response.status_code == 415
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "query",
    [
        "search=" + "x" * 5_000,
        "status=" + ",".join(["open"] * 500),
        "tag=" + ",".join(f"t{n}" for n in range(500)),
        "assignee=" + "a" * 500,
        "team=%00",
        "contact=-1",
        "created_after=" + "9" * 40,
        "page=abc",
        "page=-1",
        "page=" + "9" * 40,
        "page_size=abc",
        "page_size=-5",
        "ordering=password",
        "search=%00",
    ],
)
def test_hostile_query_strings_never_500(agent_client, conversation, query):
    response = agent_client.get(f"/api/conversations/?{query}")
    assert response.status_code in (200, 400, 404), (query[:40], response.status_code)
    body = response.json()
    if response.status_code == 200:
        assert set(body) == {"count", "next", "previous", "results"}
    else:
        assert isinstance(body, dict) and body


def test_huge_message_is_refused_but_the_limit_itself_is_accepted(agent_client, conversation):
    url = f"/api/conversations/{conversation.pk}/messages/"
    too_long = agent_client.post(url, {"body": "y" * 20_001, "sender_type": "customer"}, format="json")
    assert too_long.status_code == 400
    assert "body" in too_long.json()
    at_limit = agent_client.post(url, {"body": "y" * 20_000, "sender_type": "customer"}, format="json")
    assert at_limit.status_code == 201
    assert len(Message.objects.get().body) == 20_000


def test_oversized_attributes_are_refused(agent_client, contact):
    attributes = {f"key{n}": "v" * 1_000 for n in range(80)}
    response = agent_client.patch(f"/api/contacts/{contact.pk}/", {"attributes": attributes}, format="json")
    assert response.status_code == 400
    assert "attributes" in response.json()
    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "plan": "enterprise"}


def test_unknown_status_value_in_a_patch_lists_the_allowed_ones(agent_client, conversation):
    response = agent_client.patch(f"/api/conversations/{conversation.pk}/", {"status": "archived"}, format="json")
    assert response.status_code == 400
    assert "archived" in json.dumps(response.json())
    conversation.refresh_from_db()
    assert conversation.status == "new"
