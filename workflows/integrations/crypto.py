"""Encryption at rest for integration secrets (MultiFernet: the first key encrypts, every key decrypts, so keys
rotate by putting a new one first and re-saving).

Keys come from `HELPDESK_ENCRYPTION_KEYS` (comma-separated Fernet keys, newest first), so rotating Django's
SECRET_KEY never touches stored secrets. Without it one key is derived from SECRET_KEY so a bare `make run` works.
Keys derived from SECRET_KEY and from every SECRET_KEY_FALLBACKS entry always decrypt too: that is the migration
path for secrets sealed under the derived key (set HELPDESK_ENCRYPTION_KEYS, run `manage.py
rotate_encryption_keys`), and a SECRET_KEY rotated the documented Django way keeps them readable meanwhile.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from conversations.conf import helpdesk_setting


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _derived_key(secret_key: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()).decode()


def _derived_keys() -> tuple[str, ...]:
    """Keys derived from SECRET_KEY, then from each SECRET_KEY_FALLBACKS entry."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return tuple(dict.fromkeys(_derived_key(secret) for secret in secrets if secret))


def encryption_keys() -> tuple[str, ...]:
    """Every key that decrypts, the one that encrypts first: the configured keys (newest first), then the keys
    derived from SECRET_KEY and its fallbacks (the first of them encrypts only when no key is configured)."""
    configured = tuple(helpdesk_setting("ENCRYPTION_KEYS") or ())
    return tuple(dict.fromkeys(configured + _derived_keys()))


def encrypt_json(value: Any) -> str:
    """Encrypt a JSON-able value to a token string."""
    return _fernet(encryption_keys()).encrypt(json.dumps(value).encode()).decode()


def decrypt_json(token: str, default: Any = None) -> Any:
    """Decrypt a token made by encrypt_json; `default` for an empty token. A token no key opens raises ValueError."""
    if not token:
        return default
    try:
        return json.loads(_fernet(encryption_keys()).decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError(
            "A secret could not be decrypted: was HELPDESK_ENCRYPTION_KEYS rotated without the old key?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the newest key."""
    return _fernet(encryption_keys()).rotate(token.encode()).decode() if token else token


SEALED_PREFIX = "enc:"


def seal_text(text: str) -> str:
    """A secret string encrypted for storage inside JSON (a webhook's signing secret in a step config); marked with
    SEALED_PREFIX so sealed and plain values can be told apart (rows written before encryption, templates)."""
    return SEALED_PREFIX + encrypt_json(text)


def open_text(value: Any) -> Any:
    """The plain text of a sealed value; anything else is returned as it is."""
    if isinstance(value, str) and value.startswith(SEALED_PREFIX):
        return decrypt_json(value[len(SEALED_PREFIX) :])
    return value


def rotate_sealed(value: Any) -> Any:
    """A sealed value re-encrypted under the newest key (anything else as it is)."""
    if isinstance(value, str) and value.startswith(SEALED_PREFIX):
        return SEALED_PREFIX + rotate(value[len(SEALED_PREFIX) :])
    return value
