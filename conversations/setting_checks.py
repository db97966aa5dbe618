"""System checks (`manage.py check`, and every `runserver`/`migrate`) for the `HELPDESK_*` settings.

A misspelt name, a value of the wrong type, a negative interval or an encryption key Fernet cannot use is refused
at start-up with a named error (`helpdesk.E00N`), instead of a surprise the first time the setting is read. The
type of each setting is the type of its default in `conversations/conf.py`, so a new setting is checked as soon as
it has a default.
"""

from __future__ import annotations

import difflib
from numbers import Real
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.template import TemplateDoesNotExist
from django.template.loader import get_template

from conversations import extras
from conversations.conf import DEFAULTS, PREFIX

# Settings whose value must be above zero (intervals, sizes, budgets); other numbers must not be negative.
_POSITIVE_SUFFIXES = ("_SECONDS", "_BYTES", "_STEPS", "_CHARS", "_HOURS", "_EVENTS", "_ATTEMPTS")


def _unknown_names() -> list[checks.CheckMessage]:
    found = []
    for name in dir(settings):
        if not name.startswith(PREFIX) or name[len(PREFIX) :] in DEFAULTS:
            continue
        close = difflib.get_close_matches(name[len(PREFIX) :], DEFAULTS, n=1)
        hint = f"Did you mean {PREFIX}{close[0]}?" if close else "conversations/conf.py lists every HELPDESK_* setting."
        found.append(checks.Error(f"{name} is not a setting of the helpdesk apps.", hint=hint, id="helpdesk.E001"))
    return found


def _type_name(value: Any) -> str:
    return {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        list: "a list",
        tuple: "a list",
        dict: "a dictionary",
    }.get(type(value), type(value).__name__)


def _type_matches(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, Real) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    if default is None:
        return True
    return isinstance(value, type(default))


def _value_errors(key: str, value: Any) -> list[checks.CheckMessage]:
    default = DEFAULTS[key]
    name = PREFIX + key
    if not _type_matches(value, default):
        return [checks.Error(f"{name} must be {_type_name(default)}, not {value!r}.", id="helpdesk.E002")]
    if (
        isinstance(value, Real)
        and not isinstance(value, bool)
        and (value < 0 or (value == 0 and key.endswith(_POSITIVE_SUFFIXES)))
    ):
        bound = "above zero" if key.endswith(_POSITIVE_SUFFIXES) else "zero or more"
        return [checks.Error(f"{name} must be {bound}, not {value!r}.", id="helpdesk.E003")]
    return []


def _encryption_key_errors() -> list[checks.CheckMessage]:
    keys = getattr(settings, PREFIX + "ENCRYPTION_KEYS", None) or ()
    errors = []
    for position, key in enumerate(keys if isinstance(keys, (list, tuple)) else (), start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            errors.append(
                checks.Error(
                    f"{PREFIX}ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64-encoded bytes).",
                    hint="Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="helpdesk.E004",
                )
            )
    return errors


def _derived_key_warning() -> list[checks.CheckMessage]:
    if settings.DEBUG or getattr(settings, PREFIX + "ENCRYPTION_KEYS", None):
        return []
    return [
        checks.Warning(
            "Secrets are sealed with a key derived from SECRET_KEY (no HELPDESK_ENCRYPTION_KEYS).",
            hint="Set HELPDESK_ENCRYPTION_KEYS to a Fernet key of its own and run `manage.py rotate_encryption_keys`; "
            "keys derived from SECRET_KEY and SECRET_KEY_FALLBACKS keep decrypting the old rows meanwhile.",
            id="helpdesk.W001",
        )
    ]


def _host_errors() -> list[checks.CheckMessage]:
    needed = {
        "rest_framework": "djangorestframework",
        "django_q": "django-q2",
        "django_filters": "django-filter",
        "rest_framework.authtoken": "DRF's token table",
    }
    apps = set(settings.INSTALLED_APPS)
    return [
        checks.Error(f"INSTALLED_APPS needs {app!r} ({what}) for the helpdesk apps.", id="helpdesk.E005")
        for app, what in needed.items()
        if app not in apps
    ]


def _admin_template_warning() -> list[checks.CheckMessage]:
    """The apps' admin/base_site.html (delivery banner, API access link, list styles) must be the one admin uses."""
    try:
        origin = get_template("admin/base_site.html").origin.name
    except (TemplateDoesNotExist, ValueError):
        return []
    if origin.replace("\\", "/").endswith("workflows/templates/admin/base_site.html"):
        return []
    return [
        checks.Warning(
            f"The admin uses {origin} instead of the helpdesk's admin/base_site.html: no delivery-health banner, "
            "no API access link and no list styles in admin.",
            hint='List "conversations", "sla", "workflows" (and "reports", "inboxes") before "django.contrib.admin" in '
            "INSTALLED_APPS, or extend the helpdesk's template from your own admin/base_site.html.",
            id="helpdesk.W002",
        )
    ]


def _extra_messages() -> list[checks.CheckMessage]:
    """A feature the settings ask for whose extra is not installed is an error; one that is silently off, a warning."""
    found = []
    wanted = {
        "speech": getattr(settings, PREFIX + "SPEECH_BACKEND", None) == "pocketsphinx",
        "redis": isinstance(getattr(settings, "Q_CLUSTER", None), dict) and "redis" in settings.Q_CLUSTER,
    }
    for name, asked in wanted.items():
        if asked and not extras.available(name):
            found.append(checks.Error(extras.missing_message(name), id="helpdesk.E006"))
    if not extras.available("sentiment"):
        found.append(
            checks.Warning(
                "Customer messages get no sentiment score. " + extras.missing_message("sentiment"), id="helpdesk.W003"
            )
        )
    return found


@checks.register(checks.Tags.compatibility)
def check_helpdesk_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every `HELPDESK_*` setting the project sets is known, of its default's type and in range."""
    errors = _unknown_names() + _encryption_key_errors() + _derived_key_warning() + _host_errors()
    errors += _admin_template_warning() + _extra_messages()
    for key in DEFAULTS:
        if hasattr(settings, PREFIX + key):
            errors += _value_errors(key, getattr(settings, PREFIX + key))
    return errors
