"""The agents' admin for conversations: lists, filters, search, the change form and the bulk actions.

Every test acts as an agent (group "Agents", is_staff) through the admin pages and checks what the agent sees and
the domain events the change recorded, since those are what workflows and SLA clocks react to.
"""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations import services
from conversations.models import Contact, Conversation, Event
from tests.support.forms import change_url, form_data

CHANGELIST = reverse("admin:conversations_conversation_changelist")


@pytest.fixture
def agent_web(client, agent):
    client.force_login(agent)
    return client


def subjects_in(response) -> set[str]:
    return {conversation.subject for conversation in response.context["cl"].result_list}


# The list ---------------------------------------------------------------------------------------------------------


def test_agent_sees_conversation_list_with_contact_and_tags(agent_web, conversation):
    services.conversation_add_tags(conversation=conversation, tags=["billing"])

    response = agent_web.get(CHANGELIST)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Printer on fire" in content and "Ada Lovelace" in content and "billing" in content


def test_list_filters_by_status(agent_web, conversation, open_conversation):
    pending = open_conversation(subject="Waiting for customer")
    services.conversation_change_status(conversation=pending, status="pending")

    response = agent_web.get(CHANGELIST, {"status__exact": "pending"})

    assert subjects_in(response) == {"Waiting for customer"}


def test_list_filters_by_tag(agent_web, conversation, open_conversation):
    tagged = open_conversation(subject="Refund please")
    services.conversation_add_tags(conversation=tagged, tags=["refund", "billing"])
    tag = tagged.tags.get(name="refund")

    response = agent_web.get(CHANGELIST, {"tags__id__exact": tag.pk})

    assert subjects_in(response) == {"Refund please"}


def test_list_filters_by_team(agent_web, conversation, open_conversation, team):
    open_conversation(subject="For support", team=team)

    response = agent_web.get(CHANGELIST, {"team__id__exact": team.pk})

    assert subjects_in(response) == {"For support"}


@pytest.mark.parametrize("term", ["grace", "grace@example.com", "+14155550188", "Invoice"])
def test_search_finds_by_subject_and_contact_name_email_phone(agent_web, conversation, term):
    grace = services.contact_create(name="Grace Hopper", email="grace@example.com", phone="+14155550188")
    services.conversation_open(contact=grace, channel="email", subject="Invoice twice")

    response = agent_web.get(CHANGELIST, {"q": term})

    assert subjects_in(response) == {"Invoice twice"}


def _open_many(count: int, contact, team, agent) -> None:
    for number in range(count):
        conversation = services.conversation_open(contact=contact, channel="email", subject=f"Case {number}", team=team)
        services.conversation_assign(conversation=conversation, assignee=agent)
        services.conversation_add_tags(conversation=conversation, tags=[f"tag-{number % 3}", "common"])


def _changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    return len(queries)


def test_changelist_query_count_does_not_grow_with_rows(agent_web, contact, team, agent):
    _open_many(5, contact, team, agent)
    with_5 = _changelist_queries(agent_web)
    _open_many(45, contact, team, agent)
    with_50 = _changelist_queries(agent_web)

    assert with_50 == with_5


# The change page ----------------------------------------------------------------------------------------------------


def test_agent_opens_change_page_with_messages(agent_web, conversation):
    services.message_create(conversation=conversation, body="It is still burning", sender_type="customer")

    response = agent_web.get(change_url(conversation))

    assert response.status_code == 200
    assert "It is still burning" in response.content.decode()


def test_change_form_status_edit_records_status_changed(agent_web, conversation, agent):
    page = agent_web.get(change_url(conversation))
    data = form_data(page) | {"status": "pending"}

    response = agent_web.post(change_url(conversation), data)

    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == "pending"
    event = Event.objects.get(type="conversation.status_changed", conversation=conversation)
    assert event.payload["from"] == "new" and event.payload["to"] == "pending"
    assert event.payload["actor_id"] == agent.pk


def test_change_form_edits_priority_assignee_team_tags_disposition_through_services(
    agent_web, conversation, agent, team
):
    page = agent_web.get(change_url(conversation))
    data = form_data(page) | {
        "priority": "urgent",
        "assignee": agent.pk,
        "team": team.pk,
        "tags": "vip, refund",
        "disposition": "needs_approval",
    }

    agent_web.post(change_url(conversation), data)

    conversation.refresh_from_db()
    assert (conversation.priority, conversation.assignee, conversation.team) == ("urgent", agent, team)
    assert set(conversation.tags.values_list("name", flat=True)) == {"vip", "refund"}
    types = set(Event.objects.filter(conversation=conversation).values_list("type", flat=True))
    assert {
        "conversation.priority_changed",
        "conversation.assigned",
        "conversation.tags_changed",
        "conversation.disposition_set",
    } <= types


def test_saving_unchanged_form_records_no_event(agent_web, conversation):
    page = agent_web.get(change_url(conversation))
    before = Event.objects.count()

    agent_web.post(change_url(conversation), form_data(page))

    assert Event.objects.count() == before


def test_too_long_tag_is_a_form_error_not_a_500(agent_web, conversation):
    page = agent_web.get(change_url(conversation))
    before = Event.objects.count()

    response = agent_web.post(change_url(conversation), form_data(page) | {"tags": "x" * 101})

    assert response.status_code == 200
    assert "at most 100 characters" in response.content.decode()
    assert Event.objects.count() == before


def test_agent_adds_conversation_through_conversation_open(agent_web, contact):
    add_url = reverse("admin:conversations_conversation_add")
    page = agent_web.get(add_url)
    data = form_data(page) | {"contact": contact.pk, "channel": "phone", "subject": "Called in", "tags": "phone-in"}

    response = agent_web.post(add_url, data)

    assert response.status_code == 302
    conversation = Conversation.objects.get(subject="Called in")
    assert Event.objects.filter(type="conversation.created", conversation=conversation).exists()
    assert list(conversation.tags.values_list("name", flat=True)) == ["phone-in"]


# Actions ------------------------------------------------------------------------------------------------------------


def run_action(client, action: str, conversations, **form) -> object:
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in conversations], "index": 0, **form}
    return client.post(CHANGELIST, data, follow=True)


def test_assign_to_me_assigns_and_records_event(agent_web, conversation, agent):
    response = run_action(agent_web, "assign_to_me", [conversation])

    conversation.refresh_from_db()
    assert conversation.assignee == agent
    assert Event.objects.filter(type="conversation.assigned", conversation=conversation).count() == 1
    assert "Assigned 1 conversation to you." in response.content.decode()


def test_change_status_action_asks_then_changes_each_selected(agent_web, conversation, open_conversation):
    other = open_conversation(subject="Second")

    form_page = run_action(agent_web, "change_status", [conversation, other])
    assert 'name="status"' in form_page.content.decode()
    response = run_action(agent_web, "change_status", [conversation, other], status="on_hold", apply="Apply")

    assert set(Conversation.objects.values_list("status", flat=True)) == {"on_hold"}
    assert Event.objects.filter(type="conversation.status_changed", payload__to="on_hold").count() == 2
    assert "Set the status of 2 conversations to On hold." in response.content.decode()


def test_set_priority_action_records_priority_changed(agent_web, conversation):
    run_action(agent_web, "set_priority", [conversation], priority="high", apply="Apply")

    conversation.refresh_from_db()
    assert conversation.priority == "high"
    assert Event.objects.filter(type="conversation.priority_changed", conversation=conversation).exists()


def test_add_tags_action_tags_conversations(agent_web, conversation):
    response = run_action(agent_web, "add_tags", [conversation], tags="refund, vip", apply="Apply")

    assert set(conversation.tags.values_list("name", flat=True)) == {"refund", "vip"}
    event = Event.objects.get(type="conversation.tags_changed", conversation=conversation)
    assert event.payload["added"] == ["refund", "vip"]
    assert "Tagged 1 conversation with refund, vip." in response.content.decode()


def test_add_tags_action_with_bad_tag_shows_form_error(agent_web, conversation):
    before = Event.objects.count()

    response = run_action(agent_web, "add_tags", [conversation], tags="y" * 101, apply="Apply")

    assert response.status_code == 200
    assert "at most 100 characters" in response.content.decode()
    assert Event.objects.count() == before


def test_change_status_action_with_unknown_status_shows_form_error(agent_web, conversation):
    response = run_action(agent_web, "change_status", [conversation], status="bogus", apply="Apply")

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    conversation.refresh_from_db()
    assert conversation.status == "new"


# Contacts -----------------------------------------------------------------------------------------------------------


def contact_post(client, url: str, **fields):
    data = {"name": "Alan Turing", "email": "alan@example.com", "phone": "", "segment": "", "attributes": "{}"}
    return client.post(url, data | fields)


def test_bad_phone_in_contact_admin_is_a_form_error(agent_web):
    response = contact_post(agent_web, reverse("admin:conversations_contact_add"), phone="12345")

    assert response.status_code == 200
    assert "E.164" in response.content.decode()
    assert not Contact.objects.filter(name="Alan Turing").exists()


def test_contact_admin_normalises_phone_and_records_created(agent_web):
    contact_post(
        agent_web, reverse("admin:conversations_contact_add"), phone="+1 415-555-0199", attributes='{"vip": true}'
    )

    contact = Contact.objects.get(name="Alan Turing")
    assert (contact.phone, contact.attributes) == ("+14155550199", {"vip": True})
    assert Event.objects.filter(type="contact.created", contact=contact).exists()


def test_editing_contact_attributes_records_changed_keys(agent_web, contact):
    url = reverse("admin:conversations_contact_change", args=[contact.pk])

    contact_post(agent_web, url, name=contact.name, phone=contact.phone, attributes='{"vip": true, "plan": "pro"}')

    contact.refresh_from_db()
    assert contact.attributes == {"vip": True, "plan": "pro"}
    event = Event.objects.get(type="contact.updated", contact=contact)
    assert event.payload["attributes"] == ["plan"]


def test_contact_attributes_must_be_an_object(agent_web, contact):
    url = reverse("admin:conversations_contact_change", args=[contact.pk])

    response = contact_post(agent_web, url, name=contact.name, attributes="[1, 2]")

    assert response.status_code == 200
    assert "JSON object" in response.content.decode()


# Read-only history --------------------------------------------------------------------------------------------------


def test_events_are_read_only_for_agents(agent_web, conversation):
    event = Event.objects.get(conversation=conversation)
    change = reverse("admin:conversations_event_change", args=[event.pk])

    events = agent_web.get(reverse("admin:conversations_event_changelist"), {"type": "conversation.created"})
    assert events.status_code == 200 and len(events.context["cl"].result_list) == 1
    page = agent_web.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert agent_web.get(reverse("admin:conversations_event_add")).status_code == 403
    assert agent_web.post(change, {"type": "forged"}).status_code == 403
    assert Event.objects.get(pk=event.pk).type == "conversation.created"


@pytest.mark.parametrize("model", ["team", "agentprofile", "ticket", "survey", "recording", "contact"])
def test_agent_can_open_other_conversation_admins(agent_web, model):
    assert agent_web.get(reverse(f"admin:conversations_{model}_changelist")).status_code == 200


def test_teams_are_read_only_for_agents_and_editable_for_managers(agent_web, client, manager, team):
    change = reverse("admin:conversations_team_change", args=[team.pk])
    assert 'name="_save"' not in agent_web.get(change).content.decode()
    assert agent_web.post(change, {"name": "Renamed"}).status_code == 403

    client.force_login(manager)
    client.post(change, {"name": "Renamed", "email": ""})

    team.refresh_from_db()
    assert team.name == "Renamed"


def test_superuser_sets_up_agent_profile_on_the_user_page(client, agent, team):
    admin_user = type(agent).objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin_user)

    page = client.get(reverse("admin:auth_user_change", args=[agent.pk]))

    assert page.status_code == 200
    content = page.content.decode()
    assert "Agent profile (routing)" in content and "agent_profile-0-capacity" in content
