"""Policy match conditions: the workflow condition format, compiled to a query that selects what the engine's does."""

import pytest
from django.core.exceptions import ValidationError

from conversations import services
from conversations.models import Conversation
from sla.matching import compile_condition, validate_condition
from workflows.engine import conditions as workflow_conditions

pytestmark = pytest.mark.django_db

CONDITIONS = [
    {"all": [{"field": "conversation.channel", "op": "eq", "value": "EMAIL"}]},
    {"all": [{"field": "conversation.priority", "op": "in", "value": ["high", "urgent"]}]},
    {"all": [{"field": "conversation.priority", "op": "not_in", "value": ["low"]}]},
    {
        "any": [
            {"field": "conversation.team", "op": "eq", "value": "billing"},
            {"field": "contact.segment", "op": "eq", "value": "Enterprise"},
        ]
    },
    {"all": [{"field": "conversation.team", "op": "neq", "value": "Billing"}]},
    {"all": [{"field": "conversation.team", "op": "is_set"}]},
    {"all": [{"field": "conversation.team", "op": "is_not_set"}]},
    {
        "all": [
            {"field": "contact.segment", "op": "starts_with", "value": "ent"},
            {
                "any": [
                    {"field": "conversation.channel", "op": "neq", "value": "phone"},
                    {"field": "conversation.priority", "op": "eq", "value": "urgent"},
                ]
            },
        ]
    },
    {"all": [{"field": "contact.segment", "op": "contains", "value": "MB"}]},
    {"all": [{"field": "contact.segment", "op": "not_contains", "value": "mb"}]},
    {"all": [{"field": "contact.segment", "op": "ends_with", "value": "prise"}]},
    {"all": [{"field": "contact.segment", "op": "matches", "value": "^(smb|ent)"}]},
]


@pytest.fixture
def conversations(db):
    billing = services.team_create(name="Billing")
    enterprise = services.contact_create(name="Big Co", segment="enterprise")
    small = services.contact_create(name="Small Co", segment="smb")
    return [
        services.conversation_open(contact=enterprise, channel="email", priority="urgent", team=billing),
        services.conversation_open(contact=enterprise, channel="phone", priority="low"),
        services.conversation_open(contact=small, channel="email", priority="high", team=billing),
        services.conversation_open(contact=small, channel="live_chat", priority="normal"),
    ]


def selected(q) -> set[int]:
    return set(Conversation.objects.filter(q).values_list("pk", flat=True))


@pytest.mark.parametrize("condition", CONDITIONS)
def test_a_policy_condition_selects_what_the_workflow_engine_selects(conversations, condition):
    assert validate_condition(condition) == condition
    assert workflow_conditions.validate(condition, query_only=True) == []
    assert selected(compile_condition(condition)) == selected(workflow_conditions.to_q(condition))


def test_conditions_select_by_hand_checked_rows(conversations):
    urgent_billing, enterprise_phone, smb_billing, smb_chat = (c.pk for c in conversations)
    assert selected(compile_condition(CONDITIONS[4])) == {enterprise_phone, smb_chat}  # no team counts as "not"
    assert selected(compile_condition(CONDITIONS[7])) == {urgent_billing}


def test_a_team_may_be_named_by_id(conversations):
    billing_id = conversations[0].team_id
    by_id = {"all": [{"field": "conversation.team", "op": "in", "value": [billing_id, "nobody"]}]}
    assert selected(compile_condition(validate_condition(by_id))) == {conversations[0].pk, conversations[2].pk}


def test_empty_conditions_match_everything_and_an_empty_any_nothing(conversations):
    assert len(selected(compile_condition({}))) == 4
    assert selected(compile_condition({"any": []})) == set()


@pytest.mark.parametrize(
    "condition, message",
    [
        ({"all": [{"field": "conversation.subject", "op": "eq", "value": "x"}]}, "unknown field"),
        ({"all": [{"field": "conversation.channel", "op": "like", "value": "x"}]}, "unknown op"),
        ({"all": [{"field": "conversation.channel", "op": "eq"}]}, "needs a value"),
        ({"all": [{"field": "conversation.channel", "op": "in", "value": "email"}]}, "list value"),
        ({"all": [{"field": "contact.segment", "op": "matches", "value": "("}]}, "regular expression"),
        ({"all": [{"field": "contact.segment", "op": "eq", "value": True}]}, "text or whole numbers"),
        ({"all": [], "any": []}, "nothing else"),
        ("channel = email", "expected an object"),
    ],
)
def test_bad_conditions_name_the_node_and_the_problem(condition, message):
    with pytest.raises(ValidationError) as error:
        validate_condition(condition)
    assert message in str(error.value.message_dict["match"])
