"""The API channel (docs/channels.md): an answer POSTed to the inbox's `callback_url` as a §7 envelope of type
`message.created`, signed with the inbox secret by Standard Webhooks. `webhook-id` (and `Idempotency-Key`) is the
delivery's external id, the same on every retry; the request goes through the guarded client (SSRF guard, timeouts)
and counts on the endpoint's delivery health (docs/managers.md), so a callback that keeps failing shows up and is disabled.
"""

from __future__ import annotations

import time

from conversations.choices import EventType
from conversations.models import Delivery
from inboxes.outbound.outcome import SendFailure, mark_sent
from workflows.engine.context import contact_data, conversation_data, message_data
from workflows.integrations import delivery as health
from workflows.integrations.crypto import decrypt_json
from workflows.models import EndpointKind
from workflows.outbound import signing
from workflows.outbound.client import OutboundError, OutboundRequest, send
from workflows.outbound.ssrf import BlockedDestination


def callback_envelope(delivery: Delivery) -> dict:
    """The §7 envelope of the message (no workflow and no run: the channel itself sends it)."""
    message = delivery.message
    conversation = message.conversation
    return {
        "id": delivery.external_id,
        "type": EventType.MESSAGE_CREATED.value,
        "occurred_at": message.created_at.isoformat(),
        "workflow": None,
        "run_id": None,
        "data": {
            "conversation": conversation_data(conversation),
            "contact": contact_data(conversation.contact),
            "message": message_data(message),
        },
    }


def inbox_secret(inbox) -> str:
    """The inbox's signing secret (sealed at rest); SendFailure when the inbox has none or it is malformed."""
    secret = (decrypt_json(inbox.secrets_encrypted, {}) or {}).get("secret") or ""
    try:
        signing.secret_key(secret)
    except ValueError as exc:
        raise SendFailure(f"The inbox's callback secret is not usable: {exc}", transient=False) from exc
    return secret


def send_callback_delivery(delivery: Delivery, sessions=None) -> None:
    """POST one delivery to the inbox's callback (no transaction open), then mark it sent."""
    inbox = delivery.inbox
    if not inbox.callback_url:
        raise SendFailure("The API inbox has no callback_url.", transient=False)
    secret = inbox_secret(inbox)
    body = signing.encode(callback_envelope(delivery))
    headers = {
        "Content-Type": "application/json",
        signing.EVENT_HEADER: EventType.MESSAGE_CREATED.value,
        **signing.signature_headers(secret, delivery.external_id, int(time.time()), body),
    }
    request = OutboundRequest(method="POST", url=inbox.callback_url, headers=headers, data=body)
    try:
        with health.attempt(health.destination(EndpointKind.WEBHOOK, inbox.callback_url), hidden=[secret]):
            send(request, key=delivery.external_id)
    except health.EndpointDisabled as exc:
        raise SendFailure(str(exc), transient=False) from exc
    except BlockedDestination as exc:
        raise SendFailure(f"Blocked destination: {exc}", transient=False) from exc
    except OutboundError as exc:
        raise SendFailure(str(exc), transient=exc.transient, retry_after=exc.retry_after) from exc
    mark_sent(delivery)
