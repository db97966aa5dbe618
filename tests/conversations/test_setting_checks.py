"""`manage.py check` refuses each misconfiguration of the HELPDESK_* settings with a named error."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from conversations.setting_checks import check_helpdesk_settings


@pytest.fixture(autouse=True)
def own_encryption_key(settings):
    """A production-like project with a key of its own; tests that are about the key change it."""
    settings.HELPDESK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]


def ids(settings_errors) -> list[tuple[str, str]]:
    return [(error.id, error.msg) for error in settings_errors]


def test_the_project_settings_pass():
    assert check_helpdesk_settings() == []


def test_a_misspelt_name_is_refused_with_a_suggestion(settings):
    settings.HELPDESK_MAX_DEPHT = 4
    [error] = check_helpdesk_settings()
    assert error.id == "helpdesk.E001"
    assert error.msg == "HELPDESK_MAX_DEPHT is not a setting of the helpdesk apps."
    assert error.hint == "Did you mean HELPDESK_MAX_DEPTH?"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("HELPDESK_MAX_DEPTH", "3", "HELPDESK_MAX_DEPTH must be a whole number, not '3'."),
        ("HELPDESK_MAX_DEPTH", True, "HELPDESK_MAX_DEPTH must be a whole number, not True."),
        (
            "HELPDESK_OUTBOUND_ALLOWLIST",
            "a.example,b.example",
            "HELPDESK_OUTBOUND_ALLOWLIST must be a list, not 'a.example,b.example'.",
        ),
        ("HELPDESK_SITE_URL", 8000, "HELPDESK_SITE_URL must be text, not 8000."),
    ],
)
def test_a_wrong_type_is_refused(settings, name, value, message):
    setattr(settings, name, value)
    assert ids(check_helpdesk_settings()) == [("helpdesk.E002", message)]


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("HELPDESK_SWEEP_SECONDS", -5, "HELPDESK_SWEEP_SECONDS must be above zero, not -5."),
        ("HELPDESK_SWEEP_SECONDS", 0, "HELPDESK_SWEEP_SECONDS must be above zero, not 0."),
        ("HELPDESK_MAX_DEPTH", -1, "HELPDESK_MAX_DEPTH must be zero or more, not -1."),
    ],
)
def test_a_value_out_of_range_is_refused(settings, name, value, message):
    setattr(settings, name, value)
    assert ids(check_helpdesk_settings()) == [("helpdesk.E003", message)]


def test_an_invalid_encryption_key_is_refused_and_a_valid_one_passes(settings):
    settings.HELPDESK_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-key"]
    assert ids(check_helpdesk_settings()) == [
        ("helpdesk.E004", "HELPDESK_ENCRYPTION_KEYS: key 2 is not a Fernet key (32 url-safe base64-encoded bytes).")
    ]


def test_a_host_without_django_q_is_told(settings):
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "django_q"]
    assert ids(check_helpdesk_settings()) == [
        ("helpdesk.E005", "INSTALLED_APPS needs 'django_q' (django-q2) for the helpdesk apps.")
    ]


def test_production_without_an_encryption_key_of_its_own_is_warned(settings):
    settings.DEBUG, settings.HELPDESK_ENCRYPTION_KEYS = False, []
    assert ids(check_helpdesk_settings()) == [
        ("helpdesk.W001", "Secrets are sealed with a key derived from SECRET_KEY (no HELPDESK_ENCRYPTION_KEYS).")
    ]
    settings.HELPDESK_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert check_helpdesk_settings() == []


def test_a_host_listing_the_admin_before_the_helpdesk_apps_is_told_it_loses_the_banner(settings):
    """With django.contrib.admin first its own base_site.html wins: no delivery banner, API access link or styles."""
    assert check_helpdesk_settings() == []
    settings.INSTALLED_APPS = [
        "django.contrib.admin",
        *(app for app in settings.INSTALLED_APPS if app != "django.contrib.admin"),
    ]
    [(check_id, message)] = ids(check_helpdesk_settings())
    assert check_id == "helpdesk.W002"
    assert message.startswith("The admin uses ") and "django/contrib/admin/templates/admin/base_site.html" in message
