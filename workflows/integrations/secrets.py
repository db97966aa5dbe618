"""Integration secrets (docs/managers.md): read them for `{{ secrets.NAME }}` sealed so no log or dry run ever holds
one, and mask every secret we hold in step results and in the logs of the modules that run steps."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import secrets as random_tokens
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

from conversations.conf import helpdesk_setting
from workflows.engine.sandbox import SecretRef
from workflows.integrations.auth import basic_credential
from workflows.integrations.crypto import decrypt_json
from workflows.models import AuthType, Integration

MASK = "****"


def integration_secrets(integration: Integration) -> dict[str, str]:
    """The named secrets of one integration (for `{{ secrets.NAME }}`)."""
    return decrypt_json(integration.secrets_encrypted, {})


_SNAPSHOT: contextvars.ContextVar[dict | None] = contextvars.ContextVar("integration_secrets", default=None)


@contextlib.contextmanager
def secrets_snapshot() -> Iterator[None]:
    """Within the block, `secret_values` reads and decrypt every integration once, not once per
    step: for many dry runs in a row (a replay chunk of hundreds of events), where the secrets cannot change."""
    token = _SNAPSHOT.set({})
    try:
        yield
    finally:
        _SNAPSHOT.reset(token)


def _snapshotted(key: str, read: Callable[[], Any]) -> Any:
    cache = _SNAPSHOT.get()
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


class SealedSecrets:
    """The named secrets of one render, sealed: a template sees `secrets.NAME` as a SecretRef that renders to an
    opaque token (letters and digits, so it survives JSON, headers and URL encoding) and refuses every filter, so
    nothing a manager can read (a dry run, a step's recorded input) ever holds a secret or a transform of one.
    `unseal` puts the real values in place of whole tokens, only for the request a step sends."""

    def __init__(self, values: dict[str, str]):
        nonce = random_tokens.token_hex(8)
        self.refs = {name: SecretRef(name, f"hdsecret{nonce}n{index}x") for index, name in enumerate(values)}
        self._values = {ref.token: values[name] for name, ref in self.refs.items()}
        self._token = re.compile(f"hdsecret{nonce}n\\d+x")

    def _replace(self, value: Any, replacement) -> Any:
        if isinstance(value, str):
            return self._token.sub(replacement, value) if self._values else value
        if isinstance(value, list):
            return [self._replace(item, replacement) for item in value]
        if isinstance(value, dict):
            return {key: self._replace(item, replacement) for key, item in value.items()}
        return value

    def unseal(self, value: Any) -> Any:
        """`value` (text, or lists and dicts of it) with each whole token replaced by its secret."""
        return self._replace(value, lambda found: self._values.get(found.group(0), MASK))

    def mask(self, value: Any) -> Any:
        """`value` with each token shown as the mask: what run logs and dry runs record."""
        return self._replace(value, MASK)


def sealed_secrets(integration: Integration | None) -> SealedSecrets:
    """The secrets a step's templates may place: its own integration's named secrets, and none for a step that names
    no integration (credentials are bound to their integration, see `workflows.integrations.binding`)."""
    return SealedSecrets(integration_secrets(integration) if integration is not None else {})


def secret_values() -> set[str]:
    """Every secret string we hold (named secrets, auth secrets, cached tokens) and the encoded forms they travel
    in (the Basic credential, URL-quoted values), for masking."""
    return set(_snapshotted("secret_values", _read_secret_values))


def _read_secret_values() -> set[str]:
    values: set[str] = set()
    for integration in Integration.objects.all():
        values.update(integration_secrets(integration).values())
        auth_secret = decrypt_json(integration.auth_secret_encrypted, {})
        values.update(auth_secret.values())
        if integration.auth_type == AuthType.BASIC and auth_secret.get("password"):
            values.add(basic_credential(integration.auth_public.get("username", ""), auth_secret["password"]))
        token = decrypt_json(integration.oauth_token_encrypted, {}) or {}
        values.update(v for k, v in token.items() if k in ("access_token", "refresh_token") and isinstance(v, str))
    values.add(helpdesk_setting("SPEECH_CLOUD_API_KEY"))  # the one secret kept in settings rather than an integration
    values = {value for value in values if isinstance(value, str) and len(value) >= 4}
    # The forms a secret is quoted in by URLs, JSON and Python reprs of exceptions.
    encoded = {
        form(value)
        for value in values
        for form in (
            lambda v: quote(v, safe=""),
            lambda v: json.dumps(v)[1:-1],
            lambda v: v.encode("unicode_escape").decode("ascii"),
        )
    }
    return values | encoded


def mask_step_result(rendered: Any, outcome: Any) -> Any:
    """Mask a step's rendered input (returned) and its outcome's output, error and variables (in place)."""
    secrets = secret_values()
    outcome.output, outcome.error = mask(outcome.output, secrets), mask(outcome.error, secrets)
    outcome.variables = mask(outcome.variables, secrets)
    return mask(rendered, secrets)


def mask(value: Any, secrets: set[str]) -> Any:
    """Replace every secret inside a JSON-like value (or text) by ****."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in sorted(secrets, key=len, reverse=True):
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, list):
        return [mask(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: mask(item, secrets) for key, item in value.items()}
    return value


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in warning/error records (message and traceback) of the modules that log step crashes: an
    exception raised inside a step may quote a rendered `{{ secrets.* }}` value."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            secrets = secret_values()
        except Exception:  # logging must never fail (e.g. the database is unreachable)
            return True
        record.msg, record.args = mask(record.getMessage(), secrets), None
        if record.exc_info:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info), secrets)
            record.exc_info = None  # handlers that read the live exception would see the secret
        return True


MASKED_LOGGERS = ("workflows.engine.runner", "workflows.engine.dryrun")


def install_log_masking() -> None:
    """Attach SecretMaskingFilter to the step-executing loggers (once; called from WorkflowsConfig.ready)."""
    for name in MASKED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, SecretMaskingFilter) for existing in logger.filters):
            logger.addFilter(SecretMaskingFilter())
