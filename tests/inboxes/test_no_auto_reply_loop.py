"""No auto-reply loop (docs/channels.md): an out-of-office or a bounce that comes in is stored as a system message and never
mailed back out, while the team's own answers on the same thread are."""

from __future__ import annotations

from conversations import services
from conversations.models import Delivery, Message
from tests.support.mail import make_mail, post_mail


def test_an_incoming_auto_reply_is_stored_but_never_sent(inbound_client, inbox, agent):
    first = post_mail(inbound_client, inbox, make_mail(message_id="<q1@customer.test>"))
    assert first.status_code == 202
    conversation_id = first.json()["conversation"]
    away = post_mail(
        inbound_client,
        inbox,
        make_mail(
            subject="Out of office: My order is late",
            body="I am away until Monday.",
            message_id="<ooo1@customer.test>",
            in_reply_to="<q1@customer.test>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    assert away.status_code == 202 and away.json()["conversation"] == conversation_id
    stored = Message.objects.get(pk=away.json()["message"])
    assert stored.sender_type == "system"
    assert not Delivery.objects.filter(message__conversation_id=conversation_id).exists()

    reply = services.message_create(
        conversation=stored.conversation, body="We are on it.", sender_type="agent", author=agent
    )
    assert Delivery.objects.get(message=reply).status == "queued"
    assert Delivery.objects.filter(message__conversation_id=conversation_id).count() == 1
