"""Two senders sweeping at once on PostgreSQL (row locks skipped, conditional claims): every reply is sent once."""

import threading

import pytest
from django.db import connection

from conversations import clock, services
from conversations.choices import SenderType
from conversations.models import Delivery
from inboxes.outbound import worker


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_senders_send_each_reply_once(email_conversation, smtp_server, monkeypatch):
    monkeypatch.setattr(worker, "BATCH", 3)  # small batches, so the two senders keep meeting
    replies = [
        services.message_create(conversation=email_conversation, body=f"Reply {n}", sender_type=SenderType.AGENT)
        for n in range(30)
    ]
    # Their wake-ups ran at commit (in-process queue): queue the rows again as if those messages were lost.
    Delivery.objects.update(status="queued", sent_at=None, attempts=0, next_attempt_at=clock.now())
    from conversations.models import EmailHeaders

    EmailHeaders.objects.filter(direction="outbound").delete()
    smtp_server.received.clear()

    def sender():
        try:
            while worker.sweep_deliveries():
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [mail.message["Message-ID"] for mail in smtp_server.wait_for(len(replies))]
    expected = set(Delivery.objects.values_list("external_id", flat=True))
    assert sorted(ids) == sorted(expected) and len(ids) == len(replies)
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}
