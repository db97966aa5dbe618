""" "Test connection" of an email inbox: IMAP login and folder, SMTP EHLO (and STARTTLS and login when set), told in
words that name the step that failed (could not connect, refused the login, no such folder), so a manager knows
what to fix. Never raises."""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass

from django.conf import settings
from imap_tools import MailBox, MailBoxUnencrypted

from conversations.models import Inbox
from inboxes.services import inbox_secret

PROBE_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str


def inbox_test_connection(*, inbox: Inbox) -> list[ProbeResult]:
    """One result for IMAP (when set) and one for SMTP (the inbox's, else the project's EMAIL_* settings)."""
    results = []
    if inbox.imap.get("host"):
        results.append(probe_imap(inbox))
    results.append(probe_smtp(inbox))
    return results


def probe_imap(inbox: Inbox) -> ProbeResult:
    config = inbox.imap
    use_ssl = config.get("ssl", True)
    host, port = config["host"], int(config.get("port") or (993 if use_ssl else 143))
    where = f"IMAP {host}:{port}"
    try:
        mailbox = (MailBox if use_ssl else MailBoxUnencrypted)(host, port=port, timeout=PROBE_TIMEOUT_SECONDS)
    except (OSError, imaplib.IMAP4.error) as exc:
        return ProbeResult(False, f"{where}: could not connect ({_reason(exc)}).")
    try:
        try:
            mailbox.login(config.get("username", ""), inbox_secret(inbox, "imap_password"), initial_folder=None)
        except Exception as exc:
            return ProbeResult(
                False, f"{where}: the server refused the login of {config.get('username')!r} ({_reason(exc)})."
            )
        folder = config.get("folder") or "INBOX"
        try:
            mailbox.folder.set(folder)
        except Exception as exc:
            return ProbeResult(
                False, f"{where}: logged in, but the folder {folder!r} cannot be opened ({_reason(exc)})."
            )
        unseen = len(mailbox.uids("UNSEEN"))
        return ProbeResult(True, f"{where}: logged in, folder {folder!r} open ({unseen} unseen).")
    finally:
        try:
            mailbox.logout()
        except Exception:
            pass


def _smtp_settings(inbox: Inbox) -> dict:
    if inbox.smtp.get("host"):
        return {**inbox.smtp, "password": inbox_secret(inbox, "smtp_password")}
    return {
        "host": settings.EMAIL_HOST,
        "port": settings.EMAIL_PORT,
        "username": settings.EMAIL_HOST_USER,
        "password": settings.EMAIL_HOST_PASSWORD,
        "starttls": settings.EMAIL_USE_TLS,
    }


def probe_smtp(inbox: Inbox) -> ProbeResult:
    config = _smtp_settings(inbox)
    host, port = config["host"], int(config.get("port") or 25)
    where = f"SMTP {host}:{port}"
    try:
        client = smtplib.SMTP(host, port, timeout=PROBE_TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as exc:
        return ProbeResult(False, f"{where}: could not connect ({_reason(exc)}).")
    try:
        code, _ = client.ehlo()
        if code != 250:
            return ProbeResult(False, f"{where}: the server did not accept EHLO (answered {code}).")
        if config.get("starttls"):
            try:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
                return ProbeResult(False, f"{where}: STARTTLS failed ({_reason(exc)}).")
        if config.get("username"):
            try:
                _login(client, config["username"], config.get("password") or "")
            except smtplib.SMTPException as exc:
                return ProbeResult(
                    False, f"{where}: the server refused the login of {config['username']!r} ({_reason(exc)})."
                )
        return ProbeResult(True, f"{where}: EHLO accepted" + (", logged in." if config.get("username") else "."))
    finally:
        try:
            client.quit()
        except Exception:
            pass


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in with one mechanism (PLAIN, else LOGIN), so a refusal is the server's own answer rather than the
    last of smtplib's attempts with every mechanism it knows."""
    offered = client.esmtp_features.get("auth", "").upper().split()
    mechanism = next((name for name in ("PLAIN", "LOGIN") if name in offered), None)
    if mechanism is None:
        client.login(username, password)
        return
    client.user, client.password = username, password
    client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))


def _reason(exc: Exception) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode('utf-8', 'replace') if isinstance(exc.smtp_error, bytes) else exc.smtp_error}"
    text = str(exc) or type(exc).__name__
    return text[:300]
