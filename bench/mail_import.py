"""Benchmark of inbound mail (docs/channels.md): the import rate through the raw-message endpoint and through IMAP, each
beside a floor measured in the same run.

One command, `.venv/bin/python bench/mail_import.py` (`--quick`: 100 mails, figures mean nothing). N mails (default
1,000) are made from the corpus (tests/data/mail/, every shape: Gmail, Outlook, bounces, attachments, HTML-only…),
each with its own Message-ID.
- Endpoint: the project served by gunicorn -w 2 on a loopback port (SQLite WAL file), 2 client threads POST the raw
  mails to `/api/inboxes/{id}/inbound/`. Floor: the same mails parsed with `email` (policy.default) and one INSERT
  committed per mail into a bare SQLite table, in one process — the least any importer must do.
- IMAP: the mails are APPENDed to a throwaway dovecot on loopback (not timed), then one `poll_inbox` imports them
  all and flags each \\Seen. Floor: imaplib fetches each unseen mail (BODY.PEEK), parses it, INSERTs one row,
  commits and flags it \\Seen — the same round trips without the helpdesk. Needs root (dovecot); skipped otherwise.
Only loopback traffic. Everything is deleted at the end.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

from common import ROOT, Rate, Report, load_note, ratio, run_threads

from tests.infra.servers import ServiceUnavailable
from tests.workflows.procs import Gunicorn, project_env

CORPUS = ROOT / "tests" / "data" / "mail"
MESSAGE_ID = re.compile(rb"^Message-I[Dd]:.*\r?\n(?:[ \t].*\r?\n)*", re.MULTILINE | re.IGNORECASE)
PLACEHOLDER = re.compile(rb"\{\{conv:\w+\}\}")


def bench_mails(count: int, tag: str) -> list[bytes]:
    """`count` raw mails cycling through the corpus, each with a Message-ID of its own (CRLF line ends)."""
    sources = [PLACEHOLDER.sub(b"0", path.read_bytes()) for path in sorted(CORPUS.glob("*.eml"))]
    mails = []
    for number in range(count):
        body = MESSAGE_ID.sub(b"", sources[number % len(sources)], count=1)
        unique = f"Message-ID: <bench-{tag}-{number}@bench.helpdesk.test>\r\n".encode()
        mails.append((unique + body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    return mails


def floor_parse_insert(mails: list[bytes], db_path: Path) -> float:
    """Mails per second for: parse with `email`, one INSERT, one commit per mail (SQLite WAL)."""
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE mail (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, sender TEXT, "
        "subject TEXT, body TEXT, raw BLOB)"
    )
    started = time.perf_counter()
    for raw in mails:
        _insert_parsed(connection, raw)
    elapsed = time.perf_counter() - started
    connection.close()
    return len(mails) / elapsed


def _insert_parsed(connection: sqlite3.Connection, raw: bytes) -> None:
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    part = mail.get_body(preferencelist=("plain", "html"))
    try:
        text = part.get_content() if part is not None else ""
    except Exception:
        text = ""
    connection.execute(
        "INSERT INTO mail (message_id, sender, subject, body, raw) VALUES (?, ?, ?, ?, ?)",
        (str(mail.get("Message-ID", "")), str(mail.get("From", "")), str(mail.get("Subject", "")), text, raw),
    )
    connection.commit()


def endpoint_rate(base: str, inbox_id: int, token: str, mails: list[bytes]) -> Rate:
    url = f"{base}/api/inboxes/{inbox_id}/inbound/"

    def post(session, raw: bytes) -> float:
        started = time.perf_counter()
        response = session.post(
            url, data=raw, timeout=300, headers={"Authorization": f"Token {token}", "Content-Type": "message/rfc822"}
        )
        if response.status_code != 202:
            raise RuntimeError(f"POST {url}: {response.status_code} {response.text[:300]}")
        return time.perf_counter() - started

    return run_threads(mails, post)


def imap_floor(server, mails: list[bytes], db_path: Path) -> float:
    """Mails per second for: fetch each unseen mail over IMAP, parse, one INSERT + commit, flag \\Seen."""
    append_all(server, mails)
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(
        "CREATE TABLE mail (id INTEGER PRIMARY KEY, message_id TEXT UNIQUE, sender TEXT, "
        "subject TEXT, body TEXT, raw BLOB)"
    )
    client = imaplib.IMAP4(server.host, server.port)
    client.login(server.user, server.password)
    client.select("INBOX")
    started = time.perf_counter()
    uids = client.uid("SEARCH", None, "UNSEEN")[1][0].split()
    for uid in uids:
        data = client.uid("FETCH", uid, "(BODY.PEEK[])")[1]
        _insert_parsed(connection, data[0][1])
        client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    elapsed = time.perf_counter() - started
    client.logout()
    connection.close()
    return len(uids) / elapsed


def append_all(server, mails: list[bytes]) -> None:
    client = imaplib.IMAP4(server.host, server.port)
    client.login(server.user, server.password)
    client.select("INBOX")
    if client.search(None, "ALL")[1][0]:
        client.store("1:*", "+FLAGS", "\\Deleted")
        client.expunge()
    for raw in mails:
        client.append("INBOX", None, None, raw)
    client.logout()


def run_imap(report: Report, mails_ours: list[bytes], mails_floor: list[bytes], workdir: Path, team) -> None:
    from inboxes.imap import poll_inbox
    from inboxes.services import inbox_create
    from tests.infra.dovecot import start_dovecot

    try:
        server = start_dovecot()
    except ServiceUnavailable as exc:
        report.figure("IMAP", f"skipped: {exc}")
        return
    try:
        floor = imap_floor(server, mails_floor, workdir / "imap-floor.sqlite3")
        append_all(server, mails_ours)
        inbox, _ = inbox_create(
            name="Bench IMAP",
            channel="email",
            team=team,
            address="imap@bench.test",
            imap={
                "host": server.host,
                "port": server.port,
                "ssl": False,
                "username": server.user,
                "password": server.password,
            },
        )
        started = time.perf_counter()
        result = poll_inbox(inbox=inbox, limit=len(mails_ours))
        ours = result.imported / (time.perf_counter() - started)
        if result.imported != len(mails_ours) or result.failed:
            raise RuntimeError(f"IMAP poll imported {result.imported} of {len(mails_ours)}: {result.errors[:3]}")
    finally:
        server.stop()
    report.figure("IMAP poll (in one worker)", f"{ours:.1f} mails/s ({len(mails_ours)} mails, each flagged \\Seen)")
    report.figure("IMAP floor (fetch + parse + INSERT + \\Seen)", f"{floor:.1f} mails/s")
    report.ratio("IMAP import / its floor", ratio(ours, floor), note="same dovecot, same mails, same run")
    report.raw["imap"] = {"ours_per_s": ours, "floor_per_s": floor}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    parser.add_argument("--mails", type=int)
    args = parser.parse_args(argv)
    count = args.mails or (100 if args.quick else 1_000)
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-mail-"))
    report = Report(title="Inbound mail import", setup=f"{count} mails from the corpus; {load_note()}")
    try:
        env = project_env(sqlite_path=workdir / "bench.sqlite3", MEDIA_ROOT=str(workdir / "media"))
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", "--noinput", verbosity=0)
        from conversations import services
        from inboxes.services import inbox_create

        team = services.team_create(name="Bench")
        inbox, token = inbox_create(name="Bench endpoint", channel="email", team=team, address="support@bench.test")
        floor = floor_parse_insert(bench_mails(count, "floor"), workdir / "floor.sqlite3")
        server = Gunicorn(env, workdir / "gunicorn.log").start()
        try:
            rate = endpoint_rate(server.base_url, inbox.pk, token, bench_mails(count, "endpoint"))
        finally:
            server.stop()
        report.figure("Raw-message endpoint (gunicorn -w 2, 2 clients)", rate.describe("POST inbound").strip())
        report.figure("Floor (parse + one INSERT per mail, 1 process)", f"{floor:.1f} mails/s")
        report.ratio("endpoint import / its floor", ratio(rate.per_s, floor), note="same mails, same run")
        report.raw["endpoint"] = {"ours": rate.figures(), "floor_per_s": floor}
        run_imap(report, bench_mails(count, "imap"), bench_mails(count, "imapfloor"), workdir, team)
        report.save("mail_import")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
