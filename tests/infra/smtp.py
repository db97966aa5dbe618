"""A real receiving SMTP server on a free loopback port (aiosmtpd), for tests and the bench.

It keeps every mail it accepted (the raw bytes and the envelope) and can be told to answer the next DATA commands
with an error code (`fail_next(451)`: a transient refusal; `fail_next(550)`: a permanent one), so tests see what a
real mail server received and how the sender behaves when the server says no.
"""

from __future__ import annotations

import email
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.infra.servers import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=policy.default)


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content)
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd in a thread on 127.0.0.1:`port`; `stop()` and `start()` again on the same port."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = RecordingHandler()
        self.controller: Controller | None = None

    def start(self) -> SmtpServer:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def fail_next(self, code: int, times: int = 1, text: str = "Try again later") -> None:
        """Answer the next `times` mails' DATA with `code text` instead of accepting them."""
        self.handler.failures.extend([f"{code} {text}"] * times)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The mails once at least `count` arrived (they arrive in a server thread)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received

    def django_settings(self) -> dict:
        """The settings that point Django's SMTP backend at this server."""
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": False,
            "EMAIL_USE_SSL": False,
        }
