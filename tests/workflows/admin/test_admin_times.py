"""Admin pages write a time one way, in the viewer's zone and labelled with it ("2026-12-07 07:30 CET"): the
Automation panel of a conversation, a workflow's version list and compare page, the workspace's messages. A viewer
who picked Europe/Berlin reads Berlin time with its zone, never a bare "2026-12-07 06:30:12"."""

import re

import pytest
from django.urls import reverse

from conversations import services
from conversations.models import UserPreference
from tests.support.runs import drain
from workflows import services as workflow_services
from workflows.models import Workflow

BARE_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?\b(?! (?:UTC|CET|CEST|[A-Z]{2,5}\b|[+-]\d))")
ZONED_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2} (?:CET|CEST)\b")


def text(html: str) -> str:
    for tag in ("script", "style", "textarea"):
        html = re.sub(rf"<{tag}\b.*?</{tag}>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def berlin_manager(manager, client):
    UserPreference.objects.update_or_create(user=manager, defaults={"time_zone": "Europe/Berlin"})
    client.force_login(manager)
    return client


@pytest.fixture
def worked(conversation):
    workflow = workflow_services.workflow_create(
        definition={
            "name": "Tag every message",
            "status": "active",
            "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
            "steps": [{"type": "add_tag", "config": {"tags": ["seen"]}}],
        }
    )
    definition = workflow_services.workflow_definition(workflow)
    workflow_services.workflow_update(workflow=workflow, definition={**definition, "description": "Second version"})
    services.message_create(conversation=conversation, body="Hello", sender_type="customer")
    drain()
    return conversation


@pytest.mark.parametrize("page", ["conversation", "versions", "compare"])
def test_times_are_in_the_viewers_zone_and_say_it(page, berlin_manager, worked):
    workflow = Workflow.objects.get()
    url = {
        "conversation": reverse("admin:conversations_conversation_change", args=[worked.pk]),
        "versions": reverse("admin:workflows_workflow_versions", args=[workflow.pk]),
        "compare": reverse("admin:workflows_workflow_version", args=[workflow.pk, 1]),
    }[page]
    response = berlin_manager.get(url)
    assert response.status_code == 200
    shown = text(response.content.decode())
    assert ZONED_TIME.search(shown), shown[:2000]
    assert BARE_TIME.findall(shown) == []


def test_the_version_compare_page_speaks_in_words(berlin_manager, worked, team):
    workflow = Workflow.objects.get()
    definition = workflow_services.workflow_definition(workflow)
    workflow_services.workflow_update(
        workflow=workflow,
        definition={
            **definition,
            "steps": [{"type": "route", "config": {"team": team.name, "strategy": "least_busy"}}],
        },
    )
    shown = text(
        berlin_manager.get(reverse("admin:workflows_workflow_version", args=[workflow.pk, 1])).content.decode()
    )
    assert "Sender types: Customer" in shown and "Strategy: Least busy" in shown
    assert "sender_types" not in shown and "least_busy" not in shown
