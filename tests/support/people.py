"""People and their clients: staff users with roles and agent profiles, API and admin clients."""

from django.contrib.auth.models import Group, User
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from conversations.models import AgentProfile


def make_user(username: str, group: str, **profile) -> User:
    """A staff user in `group` with an agent profile; agents made here are `online` unless told otherwise (the
    model's default is `offline`, docs/routing.md). `available=` (the flag status replaced) still reads as online/away."""
    if "available" in profile:
        profile["status"] = "online" if profile.pop("available") else "away"
    profile.setdefault("status", "online")
    user = User.objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@example.com", is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    AgentProfile.objects.create(user=user, **profile)
    return user


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def browser_for(user) -> Client:
    """A Django test client logged in as `user` with a session (what the admin pages need)."""
    client = Client()
    client.force_login(user)
    return client
