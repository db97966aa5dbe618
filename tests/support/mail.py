"""Raw customer mail and posting it to an inbox's inbound endpoint."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from rest_framework.test import APIClient


def make_mail(
    *,
    subject: str = "My order is late",
    body: str = "Where is my parcel?",
    sender: str = "Bo Customer <bo@customer.test>",
    to: str = "support@helpdesk.test",
    message_id: str | None = None,
    in_reply_to: str = "",
    references: str = "",
    headers: dict | None = None,
) -> bytes:
    """A plain mail as a client would send it."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC))
    mail["Message-ID"] = message_id or make_msgid(domain="customer.test")
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = references
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body)
    return mail.as_bytes()


def post_mail(client: APIClient, inbox, raw: bytes):
    return client.post(f"/api/inboxes/{inbox.pk}/inbound/", data=raw, content_type="message/rfc822")
