"""Shared fixtures: people with roles, contacts and conversations made through the service layer, API clients."""
import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations import services
from conversations.models import AgentProfile
from conversations.roles import AGENTS_GROUP, MANAGERS_GROUP, ensure_roles

pytest_plugins = ["tests.infra.plugin"]


@pytest.fixture
def roles(db):
    ensure_roles()


def make_user(username: str, group: str, **profile) -> User:
    """A staff user in `group` with an agent profile; agents made here are `online` unless told otherwise (the
    model's default is `offline`, docs/routing.md). `available=` (the flag status replaced) still reads as online/away."""
    if "available" in profile:
        profile["status"] = "online" if profile.pop("available") else "away"
    profile.setdefault("status", "online")
    user = User.objects.create_user(username=username, password="pw-" + username, email=f"{username}@example.com",
                                    is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    AgentProfile.objects.create(user=user, **profile)
    return user


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
    return services.contact_create(name="Ada Lovelace", email="ada@example.com", phone="+14155550123",
                                   segment="enterprise", attributes={"vip": True, "plan": "enterprise"})


@pytest.fixture
def conversation(contact):
    return services.conversation_open(contact=contact, channel="live_chat", subject="Printer on fire")


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def agent_client(agent) -> APIClient:
    return client_for(agent)


@pytest.fixture
def manager_client(manager) -> APIClient:
    return client_for(manager)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def browser_for(user) -> Client:
    """A Django test client logged in as `user` with a session (what the admin pages need)."""
    client = Client()
    client.force_login(user)
    return client


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
