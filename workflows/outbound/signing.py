"""Signed webhooks (docs/api.md): the event envelope, its exact body bytes, and Standard Webhooks signatures.

The scheme is the Standard Webhooks specification (the one Svix uses), so receivers verify with the
`standardwebhooks` or `svix` libraries: the secret is `whsec_` + base64 of the key bytes, and every delivery carries
`webhook-id` (stable across retries of one delivery), `webhook-timestamp` (Unix seconds of this attempt) and
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from typing import Any

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_VERSION = "v1"
EVENT_HEADER = "X-Helpdesk-Event"


def generate_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form (`whsec_` + base64 of 32 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key inside a `whsec_...` secret; ValueError when the secret is not in that form."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"A webhook secret starts with {SECRET_PREFIX!r} followed by base64.")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"The part after {SECRET_PREFIX!r} is not valid base64.") from exc
    if len(key) < 16:
        raise ValueError("A webhook secret holds at least 16 bytes (24 base64 characters).")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one delivery attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def message_id(delivery_key: str) -> str:
    """The `webhook-id` of one delivery, derived from the step's idempotency key so every retry repeats it."""
    return "msg_" + delivery_key.replace("-", "")


def envelope(data: dict[str, Any], *, workflow: Any = None, run_id: Any = None) -> dict[str, Any]:
    """The webhook envelope of the run's event: id, type, occurred_at, workflow, run_id and data (message when any)."""
    event = data.get("event") or {}
    payload: dict[str, Any] = {"conversation": data.get("conversation") or None, "contact": data.get("contact") or None}
    if data.get("message"):
        payload["message"] = data["message"]
    return {
        "id": event.get("id"),
        "type": event.get("type"),
        "occurred_at": event.get("occurred_at"),
        "workflow": {"id": getattr(workflow, "pk", None), "name": getattr(workflow, "name", None)},
        "run_id": run_id,
        "data": payload,
    }


def encode(body: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed (compact UTF-8 JSON; the signature covers these bytes, not a re-encoding)."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()
