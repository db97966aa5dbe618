"""Benchmark of outgoing mail (docs/channels.md): how fast the sender delivers agents' replies to a local SMTP server.

One command, `.venv/bin/python bench/mail_send.py`: a fresh SQLite file (WAL, the production settings) gets an email
inbox, MAIL_BENCH_CONVERSATIONS conversations and MAIL_BENCH_REPLIES agent replies posted through `message_create`
(each writes its queued delivery; seeding is not timed). A real SMTP server (aiosmtpd, tests/infra/smtp.py) listens
on a free loopback port and Django's SMTP backend points at it through the EMAIL_* settings.

Timed, in the same run:
- the sender: `inboxes.outbound.worker.sweep_deliveries` in-process until nothing is due (claim with a lease, build
  the mail with its thread headers, send, mark sent and store the outbound headers — what a worker does per mail);
- the floor: Django's SMTP backend sending the same mails (built beforehand) over one connection, as the sender
  keeps one SMTP session per inbox for a batch, each followed by one UPDATE (the least a durable sender records);
  for reference, SMTP alone over one session, and the same mails with a connection each (`send()` per mail).
The ratio sender / floor says what the durable machinery (claim, lease, thread headers, marking sent, the outbound
headers row) costs on top of the protocol.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import Report, load_note, ratio  # noqa: E402

REPLIES = int(os.environ.get("MAIL_BENCH_REPLIES", "100" if os.environ.get("BENCH_QUICK") else "1000"))
CONVERSATIONS = int(os.environ.get("MAIL_BENCH_CONVERSATIONS", "100"))
ROUNDS = int(os.environ.get("MAIL_BENCH_ROUNDS", "1"))


def setup_django(database: Path, smtp_port: int) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "SQLITE_PATH": str(database),
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            # no wake-ups to a queue nobody runs here: the sweep below is the sender
            "HELPDESK_DELIVERY_TASK": "bench.noop",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def seed() -> list[int]:
    """An inbox, conversations opened by a customer, and REPLIES agent replies (each with a queued delivery)."""
    from conversations import services
    from conversations.models import Inbox
    from workflows.integrations.crypto import encrypt_json

    inbox = Inbox.objects.create(
        name="Bench mail", channel="email", address="support@bench.test", secrets_encrypted=encrypt_json({})
    )
    conversations = []
    for n in range(CONVERSATIONS):
        contact = services.contact_create(name=f"Customer {n}", email=f"customer{n}@bench.test")
        conversation = services.conversation_open(contact=contact, channel="email", subject=f"Order {n}", inbox=inbox)
        services.message_create(conversation=conversation, body="Where is my order?", sender_type="customer")
        conversations.append(conversation)
    return [
        services.message_create(
            conversation=conversations[n % CONVERSATIONS], body=f"Reply number {n}.", sender_type="agent"
        ).pk
        for n in range(REPLIES)
    ]


def time_sender() -> tuple[float, int]:
    from inboxes.outbound import worker

    started, sent = time.perf_counter(), 0
    while True:
        done = worker.sweep_deliveries()
        if not done:
            break
        sent += done
    return time.perf_counter() - started, sent


def floor_mails() -> list:
    """The same mails the sender sent, built again (Message-ID, thread headers) for the floor."""
    from conversations.models import Delivery
    from inboxes.outbound.email import build_email, thread_headers

    deliveries = Delivery.objects.select_related(
        "inbox", "message__conversation__contact", "message__conversation__team"
    ).order_by("pk")
    return [build_email(delivery, thread_headers(delivery.message)) for delivery in deliveries]


def time_floor(mails: list, with_update: bool = True) -> float:
    """The same mails over one SMTP session, each followed by one UPDATE in its own transaction (the least
    bookkeeping a durable sender needs: the row says sent) unless `with_update` is False (SMTP alone)."""
    from django.core.mail import get_connection
    from django.db import transaction

    from conversations.models import Delivery

    ids = list(Delivery.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    with get_connection(fail_silently=False) as session:
        for mail, delivery_id in zip(mails, ids):
            assert session.send_messages([mail]) == 1
            if with_update:
                with transaction.atomic():
                    Delivery.objects.filter(pk=delivery_id).update(error="")
    return time.perf_counter() - started


def time_floor_per_mail(mails: list) -> float:
    """The same mails with a connection each (what a naive sender pays)."""
    from django.core.mail import get_connection

    started = time.perf_counter()
    for mail in mails:
        mail.connection = get_connection(fail_silently=False)
        mail.send()
    return time.perf_counter() - started


class SmtpProcess:
    """aiosmtpd in a process of its own (counting what it accepted), so the server never competes with the timed
    code for this interpreter's GIL."""

    SCRIPT = (
        "import sys, time; from tests.infra.smtp import SmtpServer; s = SmtpServer(int(sys.argv[1])).start()\n"
        "import signal; signal.signal(signal.SIGTERM, lambda *a: (print(len(s.received), flush=True), "
        "s.stop(), sys.exit(0)))\nwhile True: time.sleep(1)"
    )

    def __init__(self):
        from tests.infra.servers import free_port

        self.port = free_port()
        self.process = None

    def start(self) -> SmtpProcess:
        import subprocess

        from tests.infra.servers import wait_for_port

        self.process = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(self.port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        wait_for_port(self.port)
        return self

    def stop(self) -> int:
        """Stop the server; how many mails it accepted."""
        self.process.terminate()
        out, _ = self.process.communicate(timeout=30)
        return int(out.strip() or 0)


def main() -> int:
    server = SmtpProcess().start()
    report = Report(
        "Outgoing mail: agents' replies to a local SMTP server",
        setup=f"{REPLIES} replies over {CONVERSATIONS} conversations, SQLite (WAL), aiosmtpd on loopback, "
        f"{load_note()}",
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            setup_django(Path(folder) / "bench.sqlite3", server.port)
            seed()
            from conversations.models import Delivery

            sender_seconds, sent = time_sender()
            assert sent == REPLIES and Delivery.objects.filter(status="sent").count() == REPLIES, sent
            mails = floor_mails()
            floor_seconds = time_floor(mails)
            smtp_seconds = time_floor(mails, with_update=False)
            per_mail_seconds = time_floor_per_mail(mails)
    finally:
        total = server.stop()
    sender_rate, floor_rate = sent / sender_seconds, len(mails) / floor_seconds
    report.figure(
        "sender (claim, build, send, mark sent)", f"{sender_rate:.0f} mails/s ({sender_seconds:.2f} s for {sent})"
    )
    report.figure(
        "floor (Django's SMTP backend, same mails, one session, + one UPDATE each)",
        f"{floor_rate:.0f} mails/s ({floor_seconds:.2f} s; the server accepted {total} mails in all)",
    )
    report.figure("Django's SMTP backend alone, one session", f"{len(mails) / smtp_seconds:.0f} mails/s")
    report.figure("Django's SMTP backend, a connection per mail", f"{len(mails) / per_mail_seconds:.0f} mails/s")
    report.ratio(
        "mail send rate / floor (Django SMTP, one session, + one UPDATE per mail)",
        ratio(sender_rate, floor_rate),
        ">= 0.5",
    )
    report.raw = {
        "sender_per_s": sender_rate,
        "floor_per_s": floor_rate,
        "replies": REPLIES,
        "per_mail_connection_per_s": len(mails) / per_mail_seconds,
        "smtp_only_per_s": len(mails) / smtp_seconds,
    }
    report.save("mail")
    return 0


if __name__ == "__main__":
    sys.exit(main())
