"""The create path's cheaper response (issue 24, item 4): a conversation is rendered by the list's row renderer from
the instance (`ConversationSerializer.render`), and an empty relation a service remembers costs no query. The JSON
must be exactly DRF's, for every kind of conversation, and the remembered relations must read as the database does."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations import services
from conversations.api.serializers import ConversationCreateSerializer, ConversationSerializer
from conversations.models import Conversation, Tag
from conversations.prefetch import remember_related
from conversations.services.fields import conversation_field_create, conversation_set_fields
from conversations.services.snooze import conversation_snooze
from tests.support.people import client_for
from tests.support.sla import make_policy

pytestmark = pytest.mark.django_db


def _drf(conversation: Conversation) -> dict:
    """What DRF's own serializer gives (a fresh serializer, its fields looked up per attribute)."""
    return ConversationSerializer(conversation).data


@pytest.fixture
def varied(clock, office_hours, agent, team):
    """Conversations with every kind of column filled in some and empty in others."""
    make_policy(
        "Urgent on office hours",
        position=1,
        match={"all": [{"field": "conversation.priority", "op": "eq", "value": "high"}]},
        business_hours=office_hours,
    )
    make_policy("Email", position=2, match={"all": [{"field": "conversation.channel", "op": "eq", "value": "email"}]})
    conversation_field_create(key="order_id", label="Order", type="text")
    customer = services.contact_create(name="Customer", email="c@example.com", segment="vip")
    opened = []
    for n in range(8):
        clock.advance(minutes=5)
        conversation = services.conversation_open(
            contact=customer,
            channel=("email", "live_chat", "web", "whatsapp")[n % 4],
            subject=f"Question {n}" if n % 3 else "",
            priority=("high", "normal", "low", "urgent")[n % 4],
            team=team if n % 2 else None,
        )
        services.message_create(conversation=conversation, body="My invoice is wrong, terrible", sender_type="customer")
        if n % 2:
            services.conversation_set_tags(conversation=conversation, tags=["vip", "billing"][: 1 + n % 2])
        if n % 3 == 1:
            services.conversation_assign(conversation=conversation, assignee=agent)
            services.message_create(conversation=conversation, body="On it", sender_type="agent", author=agent)
        if n == 2:
            conversation_set_fields(conversation=conversation, fields={"order_id": "A-1"})
        if n == 3:
            services.conversation_change_status(conversation=conversation, status="resolved")
        if n == 4:
            conversation_snooze(conversation=conversation, until=clock() + dt.timedelta(hours=2), actor=agent)
        opened.append(conversation)
    return opened


def test_render_gives_drf_json_for_rows_read_back(varied):
    """Read back with and without the list's prefetch: the same dict as DRF's serializer, key order included."""
    prefetched = Conversation.objects.prefetch_related(*ConversationSerializer.prefetch_lookups).order_by("id")
    for conversation in prefetched:
        expected = _drf(conversation)
        rendered = ConversationSerializer.render(conversation)
        assert rendered == expected and list(rendered) == list(expected)
    for conversation in Conversation.objects.order_by("id"):
        assert ConversationSerializer.render(conversation) == _drf(Conversation.objects.get(pk=conversation.pk))
    assert any(row["tags"] for row in map(_drf, prefetched)) and any(row["sla"] for row in map(_drf, prefetched))
    assert ConversationSerializer._instance_renderer is not None  # the row renderer did the rendering


def test_render_gives_drf_json_for_the_instances_services_return(varied):
    for conversation in varied:
        assert ConversationSerializer.render(conversation) == _drf(conversation)


@pytest.mark.parametrize("with_policy", [False, True])
def test_the_create_response_is_what_a_read_gives(agent, contact, team, with_policy):
    if with_policy:
        make_policy("Everyone", position=1)
    client = client_for(agent)
    created = client.post(
        "/api/conversations/",
        {"contact": contact.pk, "channel": "email", "subject": "Refund", "priority": "high", "team": team.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    read = client.get(f"/api/conversations/{created.json()['id']}/")
    assert created.json() == read.json()
    assert created.json()["tags"] == [] and bool(created.json()["sla"]) is with_policy


def test_the_create_response_reads_nothing_back(agent, contact):
    """Opening costs the same statements as before: no read of tags or SLA targets for the response."""
    client = client_for(agent)
    with CaptureQueriesContext(connection) as captured:
        created = client.post("/api/conversations/", {"contact": contact.pk, "channel": "email"}, format="json")
    assert created.status_code == 201
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in reads if "conversations_tag" in sql or "sla_slatarget" in sql], reads


def test_an_empty_relation_remembered_reads_as_the_database(contact):
    conversation = services.conversation_open(contact=contact, channel="email")
    with CaptureQueriesContext(connection) as captured:
        assert list(conversation.tags.all()) == []
        assert conversation.tags.count() == 0 and not conversation.tags.exists()
        assert list(conversation.sla_targets.all()) == []
    assert captured.captured_queries == []
    with CaptureQueriesContext(connection) as captured:
        assert list(conversation.tags.filter(name="vip")) == []  # a further query is the relation's own
    assert len(captured.captured_queries) == 1 and "conversations_tag" in captured.captured_queries[0]["sql"]
    # The relation's own managers forget it when they change the relation: the new tag is read.
    services.conversation_add_tags(conversation=conversation, tags=["vip"])
    assert [tag.name for tag in conversation.tags.all()] == ["vip"]
    assert list(conversation.tags.filter(name="vip").values_list("name", flat=True)) == ["vip"]


def test_remembered_rows_keep_the_relations_own_queryset(contact):
    """Rows that are not empty go through the relation's queryset: a further filter still asks the database."""
    conversation = services.conversation_open(contact=contact, channel="email")
    services.conversation_add_tags(conversation=conversation, tags=["vip", "billing"])
    fresh = Conversation.objects.get(pk=conversation.pk)
    remember_related(fresh, "tags", list(Tag.objects.order_by("name")))
    with CaptureQueriesContext(connection) as captured:
        assert [tag.name for tag in fresh.tags.all()] == ["billing", "vip"]
    assert captured.captured_queries == []
    assert list(fresh.tags.filter(name="vip").values_list("name", flat=True)) == ["vip"]


class _DRFOnly(ConversationCreateSerializer):
    """The same serializer with every body validated by DRF's fields (the reference)."""

    def _plain_body(self, data):
        return None


def _bodies(contact, team) -> list:
    plain = {"contact": contact.pk, "channel": "email"}
    return [
        plain,
        {**plain, "subject": "  Refund please  ", "priority": "urgent"},
        {**plain, "subject": "", "priority": "low", "team": None},
        {**plain, "subject": "   "},
        {**plain, "team": team.pk},
        {**plain, "team": team.name},
        {**plain, "team": str(team.pk)},
        {**plain, "inbox": None},
        # refused, or not plain: DRF decides
        {**plain, "subject": "x" * 301},
        {**plain, "subject": "a\x00b"},
        {**plain, "subject": 5},
        {**plain, "subject": None},
        {**plain, "channel": "pigeon"},
        {**plain, "channel": ""},
        {**plain, "channel": 1},
        {**plain, "priority": "URGENT"},
        {**plain, "priority": None},
        {**plain, "team": "No such team"},
        {**plain, "team": ""},
        {**plain, "team": 10**30},
        {**plain, "team": True},
        {**plain, "unknown": 1},
        {"contact": contact.pk},
        {"channel": "email"},
        {**plain, "contact": 10**6},
        {**plain, "contact": 2**70},
        {**plain, "contact": str(contact.pk)},
        {**plain, "contact": True},
        {**plain, "contact": 1.0},
        {**plain, "contact": None},
        {**plain, "inbox": 10**6},
        [plain],
        "not a body",
    ]


def _outcome(serializer_class, body) -> tuple:
    serializer = serializer_class(data=body)
    if not serializer.is_valid():
        return False, serializer.errors
    values = dict(serializer.validated_data)
    return True, {key: getattr(value, "pk", value) for key, value in values.items()}


def test_a_plain_body_is_validated_as_drf_validates_it(contact, team):
    for body in _bodies(contact, team):
        assert _outcome(ConversationCreateSerializer, body) == _outcome(_DRFOnly, body), body


def test_a_plain_body_builds_no_fields(contact):
    serializer = ConversationCreateSerializer(data={"contact": contact.pk, "channel": "email", "subject": " Hi "})
    assert serializer.is_valid()
    assert "fields" not in serializer.__dict__  # DRF's per-request field copies were not needed
    assert serializer.validated_data == {
        "contact": contact,
        "channel": "email",
        "subject": "Hi",
        "priority": "normal",
        "team": None,
        "inbox": None,
    }


def test_a_relation_remembered_empty_and_changed_elsewhere_is_read_by_further_queries(contact):
    """The object a service returned keeps its (empty) rows; any further query on them reads the database."""
    conversation = services.conversation_open(contact=contact, channel="email")
    services.conversation_add_tags(conversation=Conversation.objects.get(pk=conversation.pk), tags=["vip"])
    assert list(conversation.tags.all()) == []  # the rows remembered at creation, as a prefetch keeps them
    assert list(conversation.tags.values_list("name", flat=True)) == ["vip"]
    assert [tag.name for tag in conversation.tags.filter(name__startswith="v")] == ["vip"]
    assert conversation.tags.all().all().count() == 1  # a clone asks the database
    assert [tag.name for tag in conversation.tags.iterator()] == ["vip"]
    assert conversation.sla_targets.filter(metric="first_response").count() == 0
    with CaptureQueriesContext(connection) as captured:
        list(conversation.tags.all())
    assert captured.captured_queries == []


def test_a_remembered_relation_pickles_with_its_object(contact):

    conversation = services.conversation_open(contact=contact, channel="email")
    copy = pickle.loads(pickle.dumps(conversation))
    assert list(copy.tags.all()) == [] and copy.pk == conversation.pk
