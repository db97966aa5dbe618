"""Optional features and the pip extra each needs (docs/operations.md "Extras").

`pip install django-helpdesk-workflows` gives the helpdesk without the heavy or rarely used libraries; a feature that
needs one names its extra when it is used without it: `require(...)` raises `ImproperlyConfigured` with the exact
install line, and the system checks (`conversations.setting_checks`) say so at start-up when the settings ask for
such a feature (helpdesk.E006) or when one is silently off (helpdesk.W003).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass
from types import ModuleType

from django.core.exceptions import ImproperlyConfigured

PACKAGE = "django-helpdesk-workflows"


@dataclass(frozen=True)
class Extra:
    """A pip extra: the module it brings and the feature that needs it."""

    name: str
    module: str
    feature: str

    @property
    def install(self) -> str:
        return f'pip install "{PACKAGE}[{self.name}]"'


EXTRAS: dict[str, Extra] = {
    extra.name: extra
    for extra in (
        Extra(
            "speech", "pocketsphinx", 'offline transcription of recordings (HELPDESK_SPEECH_BACKEND = "pocketsphinx")'
        ),
        Extra("oauth2", "authlib", "integrations authenticating with OAuth2 client credentials"),
        Extra("sentiment", "vaderSentiment", "the sentiment score of customer messages"),
        Extra("postgres", "psycopg", "PostgreSQL as the database"),
        Extra("redis", "redis", 'Redis as django-q2\'s broker (Q_CLUSTER["redis"])'),
    )
}


def available(name: str) -> bool:
    """Whether the extra's library is installed (a module set to None in sys.modules counts as missing)."""
    module = EXTRAS[name].module
    if module in sys.modules:
        return sys.modules[module] is not None
    return importlib.util.find_spec(module) is not None


def missing_message(name: str) -> str:
    extra = EXTRAS[name]
    return f"{extra.feature[0].upper()}{extra.feature[1:]} needs the [{name}] extra: {extra.install}"


def require(name: str, module: str | None = None) -> ModuleType:
    """Import the extra's module (or `module` of it), or raise ImproperlyConfigured naming the install line."""
    try:
        return importlib.import_module(module or EXTRAS[name].module)
    except ImportError as exc:
        raise ImproperlyConfigured(missing_message(name)) from exc
