"""An agent is shown no link that leads to a page refused to agents: every admin link on the pages an agent works in
(the conversation page with its Automation panel and SLA badges, the conversation list, the admin index) opens for
them. A manager keeps the links to the pages only managers may open."""

import re

import pytest
from django.urls import reverse

from conversations import services
from tests.support.runs import drain
from workflows import services as workflow_services

HREF = re.compile(r'href="(/admin/[^"#]*)"')


def admin_links(html: str) -> set[str]:
    return {link.replace("&amp;", "&") for link in HREF.findall(html)} - {"/admin/logout/"}


def refused(client, links: set[str]) -> list[str]:
    return sorted(link for link in links if client.get(link).status_code == 403)


@pytest.fixture
def worked_conversation(conversation, agent):
    """A conversation a workflow ran on (its Automation panel links the run and the workflow), assigned to the agent,
    with a customer message and an internal note."""
    workflow_services.workflow_create(
        definition={
            "name": "Tag every message",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "add_tag", "config": {"tags": ["seen"]}}],
        }
    )
    services.message_create(conversation=conversation, body="My printer is on fire", sender_type="customer")
    services.conversation_assign(conversation=conversation, assignee=agent)
    drain()
    return conversation


def test_an_agent_is_shown_no_link_to_a_page_refused_to_agents(client, agent, worked_conversation):
    client.force_login(agent)
    pages = [
        reverse("admin:conversations_conversation_change", args=[worked_conversation.pk]),
        reverse("admin:conversations_conversation_changelist"),
        reverse("admin:index"),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        links = admin_links(response.content.decode())
        assert links, page
        assert refused(client, links) == [], page


def test_a_manager_still_sees_the_automation_links(client, manager, worked_conversation):
    client.force_login(manager)
    page = client.get(reverse("admin:conversations_conversation_change", args=[worked_conversation.pk]))
    links = admin_links(page.content.decode())
    assert any(link.startswith("/admin/workflows/workflowrun/") for link in links)
    assert refused(client, links) == []
