"""Shared fixtures: people with roles, contacts and conversations made through the service layer, API clients."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from conversations import services
from conversations.roles import AGENTS_GROUP, MANAGERS_GROUP, ensure_roles
from tests.support.people import browser_for, client_for, make_user

pytest_plugins = ["tests.infra.plugin", "tests.support.fixtures", "tests.support.browser"]


@pytest.fixture
def roles(db):
    ensure_roles()


@pytest.fixture
def agent(roles) -> User:
    return make_user("agent", AGENTS_GROUP)


@pytest.fixture
def manager(roles) -> User:
    return make_user("manager", MANAGERS_GROUP)


@pytest.fixture
def team(db):
    return services.team_create(name="Support")


@pytest.fixture
def contact(db):
    return services.contact_create(
        name="Ada Lovelace",
        email="ada@example.com",
        phone="+14155550123",
        segment="enterprise",
        attributes={"vip": True, "plan": "enterprise"},
    )


@pytest.fixture
def conversation(contact):
    return services.conversation_open(contact=contact, channel="live_chat", subject="Printer on fire")


@pytest.fixture
def agent_client(agent) -> APIClient:
    return client_for(agent)


@pytest.fixture
def manager_client(manager) -> APIClient:
    return client_for(manager)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def browser(manager) -> Client:
    """A support manager's admin session."""
    return browser_for(manager)


@pytest.fixture
def manager_browser(browser) -> Client:
    return browser


@pytest.fixture
def agent_browser(agent) -> Client:
    """An agent's admin session."""
    return browser_for(agent)


@pytest.fixture(autouse=True)
def _language_reset():
    """LocaleMiddleware activates a request's language in the test's own thread and nothing resets it: start and end
    every test in the site's language, so one test's Accept-Language cannot translate the next one's messages."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
