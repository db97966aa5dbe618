""" "Test connection" against a real SMTP server on loopback (aiosmtpd): EHLO and login accepted, a refused login
named with the server's answer, and a closed port named as a connection failure."""

from __future__ import annotations

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from inboxes.probe import probe_smtp
from inboxes.services import inbox_create, inbox_update
from tests.infra.servers import free_port


class Sink:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        return "250 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"support", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def smtp_server():
    controller = Controller(
        Sink(), hostname="127.0.0.1", port=free_port(), authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    yield controller
    controller.stop()


@pytest.fixture
def smtp_inbox(db, smtp_server):
    inbox, _ = inbox_create(
        name="SMTP",
        channel="email",
        address="support@helpdesk.test",
        smtp={
            "host": "127.0.0.1",
            "port": smtp_server.port,
            "username": "support",
            "password": "s3cret",
            "starttls": False,
        },
    )
    return inbox


def test_ehlo_and_login_are_accepted(smtp_inbox):
    result = probe_smtp(smtp_inbox)
    assert result.ok and "logged in" in result.message


def test_a_refused_login_is_named(smtp_inbox, monkeypatch):
    # aiosmtpd 1.4 holds the connection after a failed AUTH instead of answering 535 at once: a short timeout.
    monkeypatch.setattr("inboxes.probe.PROBE_TIMEOUT_SECONDS", 2)
    inbox_update(inbox=smtp_inbox, smtp={**smtp_inbox.smtp, "password": "wrong"})
    result = probe_smtp(smtp_inbox)
    assert not result.ok and "refused the login of 'support'" in result.message


def test_a_closed_port_is_a_connection_failure(smtp_inbox):
    inbox_update(inbox=smtp_inbox, smtp={**smtp_inbox.smtp, "port": free_port()})
    result = probe_smtp(smtp_inbox)
    assert not result.ok and "could not connect" in result.message
