"""API rate limits and token rotation (issue 25, item 3).

Signed-in callers are limited per user (and so per token), the public survey answer per client address, more
strictly; past the rate the API answers 429 with `Retry-After`. A password change deletes the user's tokens, so
a token from before it stops working. The test settings raise the rates for the rest of the suite; these tests
lower them and start from an empty cache (where DRF counts).
"""

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.support.people import client_for


@pytest.fixture
def low_rates(settings):
    cache.clear()
    settings.HELPDESK_THROTTLE_USER = "3/min"
    settings.HELPDESK_THROTTLE_ANON = "2/min"
    yield settings
    cache.clear()


def test_a_burst_from_one_token_gets_429_with_retry_after(low_rates, manager, agent):
    client = client_for(manager)
    statuses = [client.get("/api/conversations/").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = client.get("/api/conversations/")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"].lower()
    assert client_for(agent).get("/api/conversations/").status_code == 200  # counted per user: others go on


def test_writes_are_limited_too(low_rates, manager, contact):
    client = client_for(manager)
    body = {"contact": contact.pk, "channel": "web", "subject": "Burst"}
    statuses = [client.post("/api/conversations/", body, format="json").status_code for _ in range(5)]
    assert statuses[:3] == [201, 201, 201] and statuses[3:] == [429, 429]


def test_the_public_survey_answer_is_limited_per_address_and_more_strictly(db, low_rates):
    client = Client()
    statuses = [
        client.post("/api/surveys/no-such-token/answer/", {"score": 5}, content_type="application/json").status_code
        for _ in range(3)
    ]
    assert statuses == [404, 404, 429]
    refused = client.post("/api/surveys/no-such-token/answer/", {"score": 5}, content_type="application/json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


def test_an_empty_rate_turns_the_limit_off(low_rates, manager):
    low_rates.HELPDESK_THROTTLE_USER = ""
    client = client_for(manager)
    assert {client.get("/api/conversations/").status_code for _ in range(6)} == {200}


def test_a_password_change_revokes_the_users_tokens(manager):
    client = client_for(manager)
    assert client.get("/api/conversations/").status_code == 200
    manager.set_password("a-new-password-42")
    manager.save()
    assert not Token.objects.filter(user=manager).exists()
    assert client.get("/api/conversations/").status_code == 401


def test_saving_the_user_without_a_new_password_keeps_the_token(manager):
    client = client_for(manager)
    manager.first_name = "Renamed"
    manager.save()
    User.objects.get(pk=manager.pk).save(update_fields=["last_login"])
    assert client.get("/api/conversations/").status_code == 200


def test_the_admin_password_form_revokes_the_token_too(manager, settings):
    client = client_for(manager)
    admin = User.objects.create_superuser("root", "root@example.com", "pw-root")
    browser = Client()
    browser.force_login(admin)
    response = browser.post(
        f"/admin/auth/user/{manager.pk}/password/", {"password1": "Another-pass-9137", "password2": "Another-pass-9137"}
    )
    assert response.status_code == 302, response.content[:500]
    assert client.get("/api/conversations/").status_code == 401
