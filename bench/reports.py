"""Benchmark of the conversation reports (docs/reports.md, issue 22): each grouping's time and the CSV export's speed and
memory over N conversations with messages, events, surveys, tags and SLA targets.

One command, `.venv/bin/python bench/reports.py [--size N]` (default 1,000,000; `make bench QUICK=1` uses 5,000):
it makes a throwaway SQLite file in a temp dir (or, with `--postgres`, a throwaway PostgreSQL cluster started as
tests.infra starts one, deleted at the end unless `--keep`; or the database of `--database-url`), migrates it and
loads the rows (SQLite: `executemany` in batches; PostgreSQL: `COPY`; secondary indexes dropped during the load and
built after, as bench/sla.py does). `--reuse` with `--database-url` times a database an earlier `--keep` run loaded
(or a SQLite file an earlier `--database-url sqlite:////path` run loaded: that file is kept);
`--compare BEFORE` with them times every grouping with the code of the worktree BEFORE and with this tree's,
alternated (client and PostgreSQL server CPU beside the wall time, and whether the JSON is the same). Each conversation: a `conversation.created` event, one customer
and (85 %) one agent message, for assigned ones a `conversation.assigned` event, for resolved ones the status
events (10 % of them reopened and resolved again) with the `ConversationFacts` row the projector would write, a survey (30 % of resolved answered), 0-2 tags and 1-2 SLA
targets (15 % breached); after the load the report rows (`ReportRow`) are rebuilt from them by the backfill
migration's statement (`reports.rows.rows_rebuild`). Then it times `conversation_report` for each `group_by` over the whole 90-day period (p50
of 3) and streams the CSV export once, reporting rows/s and the peak RSS growth (sampled every 5 ms during the
export). Targets (issue 22): a grouping < 2 s on SQLite (< 1 s on PostgreSQL) at 1,000,000; 100k CSV rows < 30 s
with peak RSS growth < 50 MB. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_SIZE = 1_000_000
QUICK_SIZE = 5_000
BATCH = 20_000
DAYS = 90
ROUNDS = 3
AGENTS, TEAMS, TAGS = 20, 5, 8
CHANNELS = ("live_chat", "whatsapp", "email", "sms", "phone", "web")
GROUPINGS = ("day", "agent", "team", "channel", "tag")


def configure_django(workdir: Path, database_url: str | None) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
            "SQLITE_PATH": str(workdir / "bench.sqlite3"),
            "LOG_LEVEL": "WARNING",
        }
    )
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()


class Loader:
    """INSERTs of prepared tuples with executemany, per table, in batches (values prepared by the model fields, so
    the same rows load into SQLite or PostgreSQL)."""

    def __init__(self, cursor, parent):
        self.cursor, self.parent, self.pending, self.counts = cursor, parent, {}, {}

    def add(self, model, **values) -> None:
        names = tuple(values)
        key = (model, names)
        if key not in self.pending:
            self.pending[key] = []
        self.pending[key].append(tuple(values.values()))
        if len(self.pending[key]) >= BATCH:
            # Everything, parents first: a child row before its parent is a deferred
            # foreign-key violation, and while one is pending SQLite scans child tables on every parent insert.
            self.flush()

    def flush(self, key=None) -> None:
        from django.db import connection

        # Conversations first: every other table loaded here references them.
        for model, names in [key] if key else sorted(self.pending, key=lambda pending: pending[0] is not self.parent):
            rows = self.pending.pop((model, names), [])
            if not rows:
                continue
            fields = [model._meta.get_field(name) for name in names]
            # Columns added since this loader was written (NOT NULL with a model default) get their default, as
            # the ORM would give them: a raw INSERT does not know Django-side defaults.
            defaults = [
                field
                for field in model._meta.concrete_fields
                if field.name not in names and not field.null and not field.primary_key and field.has_default()
            ]
            fields += defaults
            extra = tuple(field.get_default() for field in defaults)
            rows = [row + extra for row in rows]
            columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
            converters = [converter(field, connection.vendor) for field in fields]
            prepared = (
                tuple(
                    value if convert is None or value is None else convert(value)
                    for convert, value in zip(converters, row)
                )
                for row in rows
            )
            if connection.vendor == "postgresql":
                # COPY: several times faster than INSERTs of the same rows.
                with self.cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
                    for row in prepared:
                        copy.write_row(row)
            else:
                sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
                self.cursor.executemany(sql, list(prepared))
            self.counts[model.__name__] = self.counts.get(model.__name__, 0) + len(rows)


def converter(field, vendor: str):
    """How a value of `field` is passed to the driver (what Field.get_db_prep_save does, without its cost per value):
    SQLite stores naive UTC text for datetimes, hex for UUIDs and JSON text; PostgreSQL takes them as they are."""
    from django.db import models

    if vendor != "sqlite":
        if isinstance(field, models.JSONField):
            from psycopg.types.json import Jsonb

            return Jsonb
        return None
    if isinstance(field, models.DateTimeField):
        return lambda value: value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(field, models.UUIDField):
        return lambda value: value.hex
    if isinstance(field, models.JSONField):
        return json.dumps
    return None


def people():
    """Agents, teams, tags and one contact, through the ORM (few rows)."""
    from django.contrib.auth.models import User

    from conversations.models import AgentProfile, Contact, Tag, Team

    agents = []
    for n in range(AGENTS):
        user = User.objects.create_user(username=f"bench-agent-{n}", is_staff=True)
        AgentProfile.objects.create(user=user)
        agents.append(user.pk)
    teams = [Team.objects.create(name=f"Bench team {n}").pk for n in range(TEAMS)]
    tags = [Tag.objects.create(name=f"tag-{n}").pk for n in range(TAGS)]
    return Contact.objects.create(name="Bench contact").pk, agents, teams, tags


def load(size: int, now: dt.datetime) -> tuple[dict[str, float], dict]:
    """Load `size` conversations and everything around them; returns the seconds of each phase (rows, indexes,
    report rows, statistics) and row counts.

    PostgreSQL: rows by COPY into tables without their secondary indexes, with foreign-key and trigger checks off for
    the load (`session_replication_role = replica`; the rows are consistent by construction and the report rows'
    trigger-kept counts are rebuilt after); indexes built once after, then `rows_rebuild` as the backfill migration
    runs it (foreign keys checked), then VACUUM ANALYZE (what autovacuum does to inserted tables: statistics and the
    visibility map that index-only scans need)."""
    from django.db import connection, transaction

    from conversations.models import Conversation, Event, Message, Survey
    from reports.models import ConversationFacts
    from sla.models import SlaTarget

    contact, agents, teams, tags = people()
    through = Conversation.tags.through
    rng = random.Random(22)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = replica")
        dropped = drop_indexes(cursor)
        loader = Loader(cursor, Conversation)
        with connection.cursor() as id_cursor:
            id_cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Conversation._meta.db_table}")
            next_id = id_cursor.fetchone()[0] + 1
        for pk in range(next_id, next_id + size):
            add_conversation(
                loader,
                rng,
                pk,
                now,
                contact,
                agents,
                teams,
                tags,
                through,
                (Conversation, Event, Message, Survey, SlaTarget, ConversationFacts),
            )
        loader.flush()
        phases["rows"] = time.perf_counter() - started
        if postgres:
            cursor.execute("SET LOCAL session_replication_role = origin")
        # The tables rows_rebuild reads need their indexes first (its subqueries look targets and surveys up by
        # conversation: without them, quadratic in the size); the report and tag rows' own are built after it (on
        # PostgreSQL rows_rebuild drops and builds the report rows' itself).
        own = [statement for statement in dropped if _report_rows_index(statement)]
        mark = time.perf_counter()
        restore_indexes(cursor, [statement for statement in dropped if statement not in own])
        phases["indexes"] = time.perf_counter() - mark
        # The report rows (reports.rows) from what was loaded: the statement of the backfill migration.
        from reports.rows import rows_rebuild

        mark = time.perf_counter()
        loader.counts["ReportRow"] = rows_rebuild()
        from reports.models import ReportTagRow

        loader.counts["ReportTagRow"] = ReportTagRow.objects.count()
        if postgres:  # the tag rows' triggers left foreign-key checks pending: no index is built over those
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        restore_indexes(cursor, own)
        phases["rebuild"] = time.perf_counter() - mark
    mark = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")
    phases["analyze"] = time.perf_counter() - mark
    phases["total"] = time.perf_counter() - started
    return phases, loader.counts


LOADED_TABLES = (
    "conversations_conversation",
    "conversations_event",
    "conversations_message",
    "conversations_survey",
    "conversations_conversation_tags",
    "sla_slatarget",
    "reports_conversationfacts",
    "reports_reportrow",
    "reports_reporttagrow",
)


def drop_indexes(cursor) -> list[str]:
    """Building indexes once after the load is several times faster than row by row. SQLite: every non-unique index
    of the loaded tables. PostgreSQL: those not backing a constraint (primary keys and unique constraints stay),
    except the report rows' (rows_rebuild drops and builds those itself)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        tables = [table for table in LOADED_TABLES if table != "reports_reportrow"]  # rows_rebuild builds those
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [tables],
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in found]
    cursor.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
        f"({', '.join(repr(table) for table in LOADED_TABLES)})"
    )
    statements = [row[0] for row in cursor.fetchall() if "UNIQUE" not in row[0].upper()]
    for statement in statements:
        cursor.execute(f"DROP INDEX {statement.split()[2]}")
    return statements


def _report_rows_index(statement: str) -> bool:
    """An index of the report rows (and tag rows), built after the rebuild fills them (SQLite quotes the table's
    name, PostgreSQL's definitions name it `public.reports_…`)."""
    return "reports_report" in statement.split(" ON ")[-1]


def restore_indexes(cursor, statements: list[str]) -> None:
    for statement in statements:
        cursor.execute(statement)


def add_conversation(loader, rng, pk, now, contact, agents, teams, tags, through, models) -> None:
    Conversation, Event, Message, Survey, SlaTarget, ConversationFacts = models
    minute = dt.timedelta(minutes=1)
    created = now - dt.timedelta(minutes=rng.randint(1, DAYS * 24 * 60 - 1))
    assignee = rng.choice(agents) if rng.random() < 0.9 else None
    team = rng.choice(teams) if rng.random() < 0.8 else None
    answered = created + rng.randint(1, 600) * minute if rng.random() < 0.85 else None
    fate = rng.random()
    status = "resolved" if fate < 0.6 else "closed" if fate < 0.7 else rng.choice(("new", "open", "pending"))
    resolved_at = answered + rng.randint(5, 5000) * minute if status in ("resolved", "closed") and answered else None
    if resolved_at is None and status in ("resolved", "closed"):
        status = "open"
    loader.add(
        Conversation,
        id=pk,
        contact=contact,
        channel=rng.choice(CHANNELS),
        subject=f"Bench {pk}",
        status=status,
        priority="normal",
        assignee=assignee,
        team=team,
        disposition="",
        sentiment=None,
        customer_message_count=1,
        first_response_at=answered,
        last_customer_message_at=created,
        last_agent_message_at=answered,
        resolved_at=resolved_at,
        created_at=created,
        updated_at=created,
    )

    def event(type_, at, payload):
        loader.add(
            Event,
            id=uuid.uuid4(),
            type=type_,
            occurred_at=at,
            conversation=pk,
            contact=contact,
            payload=payload,
            depth=0,
            dispatched_at=at,
            dispatch_note="",
        )

    event("conversation.created", created, {"status": "new", "priority": "normal", "channel": "email", "segment": ""})
    loader.add(
        Message,
        conversation=pk,
        sender_type="customer",
        author=None,
        body="Help please",
        internal=False,
        buttons=[],
        sentiment=0.4,
        created_at=created,
    )
    if answered:
        loader.add(
            Message,
            conversation=pk,
            sender_type="agent",
            author=assignee,
            body="On it",
            internal=False,
            buttons=[],
            sentiment=None,
            created_at=answered,
        )
    if assignee or team:
        event(
            "conversation.assigned",
            created + minute,
            {
                "before": {"assignee_id": None, "team_id": None},
                "assignee_id": assignee,
                "team_id": team,
                "actor_id": None,
            },
        )
    if resolved_at:
        first, reopened = resolved_at, rng.random() < 0.1
        if reopened:
            first = resolved_at - rng.randint(2, 60) * minute
            event("conversation.status_changed", first, {"from": "open", "to": "resolved", "actor_id": None})
            event(
                "conversation.status_changed", first + minute / 2, {"from": "resolved", "to": "open", "actor_id": None}
            )
        event("conversation.status_changed", resolved_at, {"from": "open", "to": "resolved", "actor_id": None})
        # What reports.projection writes when the services record these events (no SLA calendar here: business
        # minutes are calendar minutes, as for a conversation whose policy has none).
        loader.add(
            ConversationFacts,
            conversation=pk,
            first_resolved_at=first,
            last_resolved_at=resolved_at,
            reopened=reopened,
            resolved_assignee=assignee,
            first_response_business_minutes=(answered - created) / minute,
            resolution_business_minutes=(resolved_at - created) / minute,
        )
        if rng.random() < 0.3:
            loader.add(
                Survey,
                conversation=pk,
                contact=contact,
                token=uuid.uuid4().hex,
                question="How did we do?",
                via="email",
                score=rng.randint(1, 5),
                comment=f"Comment {pk}" if rng.random() < 0.3 else "",
                sent_at=resolved_at,
                answered_at=resolved_at + minute,
            )
    elif answered:  # answered, never resolved: the projector's row holds the first response's business minutes
        loader.add(
            ConversationFacts,
            conversation=pk,
            first_resolved_at=None,
            last_resolved_at=None,
            reopened=False,
            resolved_assignee=None,
            first_response_business_minutes=(answered - created) / minute,
            resolution_business_minutes=None,
        )
    for tag in rng.sample(tags, rng.choice((0, 0, 0, 1, 1, 2))):
        loader.add(through, conversation=pk, tag=tag)
    for metric in ("first_response", "resolution")[: rng.choice((1, 2))]:
        breached = rng.random() < 0.15
        loader.add(
            SlaTarget,
            conversation=pk,
            policy=None,
            metric=metric,
            state="breached" if breached else "met",
            target_seconds=3600,
            started_at=created,
            resumed_at=created,
            consumed_seconds=0.0,
            due_at=None,
            warning_at=None,
            paused_at=None,
            paused_seconds=0.0,
            warned=False,
            met_at=None if breached else created + 30 * minute,
            breached_at=created + 60 * minute if breached else None,
            claim_token="",
        )


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def time_groupings(period, label: str = "") -> dict[str, float]:
    """Each grouping's wall time, p50 of ROUNDS (its CPU time printed beside it: the machine is shared, and SQLite
    runs in this process, so CPU time is the figure that does not depend on the neighbours)."""
    from reports.selectors import conversation_report

    timings = {}
    for group_by in GROUPINGS:
        rounds, cpu = [], []
        for _ in range(ROUNDS):
            started, started_cpu = time.perf_counter(), time.process_time()
            conversation_report(period=period, group_by=group_by)
            rounds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        timings[group_by] = statistics.median(rounds)
        print(
            f"{label}group_by={group_by}: p50 {timings[group_by]:.3f} s, cpu p50 {statistics.median(cpu):.3f} s "
            f"(rounds {', '.join(f'{r:.3f}' for r in rounds)})",
            flush=True,
        )
    return timings


def time_export(period) -> tuple[int, float, int]:
    """Stream the CSV once; returns rows, seconds and the peak RSS growth in bytes."""
    from reports.export import export_lines

    baseline, peak, done = rss_bytes(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_bytes())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, rows, size = time.perf_counter(), -1, 0
    for line in export_lines(period=period):
        rows += 1
        size += len(line)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    return rows, seconds, max(peak[0], rss_bytes()) - baseline


# The bench cluster's settings on top of tests.infra's throwaway ones (fsync and synchronous_commit off): memory for
# the index builds after the load, fewer checkpoints during it. The report's queries run with the server defaults
# otherwise (work_mem 4 MB, two parallel workers per gather), as an operator's untuned server would.
BENCH_PG_SETTINGS = {
    "shared_buffers": "512MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "30min",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "autovacuum": "off",
}


def start_bench_postgres():
    """A throwaway PostgreSQL cluster on a free loopback port (tests.infra.servers, as pgrun starts it) with
    BENCH_PG_SETTINGS; the caller stops it (which deletes its directory)."""
    from tests.infra.servers import start_postgres

    cluster = start_postgres()
    with open(cluster.root / "data" / "postgresql.conf", "a") as conf:
        conf.write("\n# bench/reports.py\n")
        conf.writelines(f"{key} = {value}\n" for key, value in BENCH_PG_SETTINGS.items())
    cluster.halt()
    cluster.resume()
    return cluster


def server_cpu() -> float | None:
    """CPU seconds used so far by the PostgreSQL cluster of the connection (its postmaster, the children it reaped
    and those alive: backends and parallel workers), read from /proc, or None when the server is not a local one
    this user can see. With ROUNDS that run nothing else on that cluster, the difference over a report is the
    report's server CPU, whatever the neighbours of a shared machine do."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('data_directory')")
            directory = Path(cursor.fetchone()[0])
        postmaster = int((directory / "postmaster.pid").read_text().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")

        def fields(pid) -> list[str]:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()

        own = fields(postmaster)
        total = sum(int(value) for value in own[11:15])  # utime, stime, cutime, cstime
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    child = fields(entry.name)
                except OSError:
                    continue
                if int(child[1]) == postmaster:
                    total += int(child[11]) + int(child[12])
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def time_round(periods: dict) -> dict:
    """One round of every grouping over each period (after one unmeasured report, which connects and warms the
    caches): {period label: {group_by: [wall, client CPU, server CPU or None, sha1 of the report's JSON]}}."""
    from reports.selectors import conversation_report

    conversation_report(period=periods["90 days"], group_by="agent")
    found: dict[str, dict] = {}
    for label, period in periods.items():
        found[label] = {}
        for group_by in GROUPINGS:
            server, started, started_cpu = server_cpu(), time.perf_counter(), time.process_time()
            report = conversation_report(period=period, group_by=group_by)
            wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
            after = server_cpu()
            digest = hashlib.sha1(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()
            found[label][group_by] = [wall, cpu, None if server is None or after is None else after - server, digest]
    return found


def compare(args) -> None:
    """`--compare BEFORE`: ROUNDS rounds, each timing every grouping once with the code of BEFORE (a worktree at the
    start commit) and once with this tree's, in alternating order, in subprocesses (`--code DIR --json`), on the
    same database; prints each figure's p50 of wall, client CPU and server CPU, after/before ratios, and whether
    every round of both gave the same JSON."""
    import subprocess

    trees = {"before": Path(args.compare).resolve(), "after": ROOT}
    rounds: dict[str, list[dict]] = {"before": [], "after": []}
    for number in range(ROUNDS):
        order = ["before", "after"] if number % 2 == 0 else ["after", "before"]
        for side in order:
            command = [sys.executable, str(Path(__file__).resolve()), "--database-url", args.database_url, "--reuse"]
            command += ["--code", str(trees[side]), "--json"]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            rounds[side].append(json.loads(output.strip().splitlines()[-1]))
            print(f"round {number + 1} {side} done", flush=True)

    def p50(side: str, label: str, group_by: str, column: int) -> float | None:
        values = [found[label][group_by][column] for found in rounds[side]]
        return None if None in values else statistics.median(values)

    for label in rounds["after"][0]:
        print(f"\n{label}: p50 of {ROUNDS}, seconds (before -> after, ratio after/before)")
        for group_by in GROUPINGS:
            parts = []
            for column, name in enumerate(("wall", "client cpu", "server cpu")):
                before, after = p50("before", label, group_by, column), p50("after", label, group_by, column)
                if before is not None and after is not None:
                    parts.append(f"{name} {before:.3f} -> {after:.3f} ({after / max(before, 1e-9):.2f})")
            digests = {found[label][group_by][3] for side in rounds for found in rounds[side]}
            parts.append("same JSON" if len(digests) == 1 else "JSON DIFFERS")
            print(f"  {group_by:<8} " + "; ".join(parts), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    quick = os.environ.get("BENCH_QUICK") == "1"
    parser.add_argument(
        "--size",
        type=int,
        default=QUICK_SIZE if quick else DEFAULT_SIZE,
        help=f"conversations to build (default {DEFAULT_SIZE:,}; {QUICK_SIZE:,} with BENCH_QUICK=1)",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--database-url",
        help="use this (throwaway!) database instead of a temp SQLite file; `sqlite:////abs/path.sqlite3` loads a "
        "SQLite file that is kept (time it again with --reuse; delete it yourself)",
    )
    target.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway PostgreSQL cluster on a free loopback port (as tests.infra.pgrun does) and use it",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="with --postgres: leave the cluster running after the bench and print its URL (stop it with "
        "pg_ctl -D <dir>/data stop, then delete <dir>)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --database-url: time a database an earlier run loaded (--keep) instead of loading one",
    )
    parser.add_argument(
        "--compare",
        metavar="BEFORE",
        help="with --database-url and --reuse: time every grouping with the code of the worktree BEFORE and with "
        f"this tree's, alternated, {ROUNDS} rounds each, in subprocesses; print p50s of wall, client and server CPU",
    )
    parser.add_argument("--code", help=argparse.SUPPRESS)  # --compare's subprocesses: import the project from here
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # and print one round as JSON
    args = parser.parse_args()
    if args.reuse and not args.database_url:
        parser.error("--reuse needs --database-url")
    if (args.compare or args.json) and not args.reuse:
        parser.error("--compare needs --database-url and --reuse")
    if args.compare:
        compare(args)
        return
    if args.code:
        sys.path.insert(0, str(Path(args.code).resolve()))
    workdir = Path(tempfile.mkdtemp(prefix="reports-bench-"))
    cluster = start_bench_postgres() if args.postgres else None
    try:
        configure_django(workdir, cluster.url if cluster else args.database_url)
        run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if cluster and args.keep:
            print(f"cluster kept: DATABASE_URL={cluster.url} (directory {cluster.root})", flush=True)
        elif cluster:
            cluster.stop()


def reused_now() -> dt.datetime:
    """The `now` of the run that loaded the database: the newest report row's moment is within a minute of it
    (created = now - 1..N minutes)."""
    from reports.models import ReportRow

    newest = ReportRow.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    return (newest + dt.timedelta(minutes=1)).replace(microsecond=0)


def bench_periods(now: dt.datetime, zone) -> dict:
    """The periods the bench times: the whole DAYS-day period and a support lead's Monday, the last 7 days."""
    from reports.periods import Period

    today = now.astimezone(zone).date()
    return {
        "90 days": Period(since=today - dt.timedelta(days=DAYS), until=today, zone=zone),
        "last 7 days": Period(since=today - dt.timedelta(days=6), until=today, zone=zone),
    }


def run(args) -> None:
    from common import Report, load_note
    from django.core.management import call_command
    from django.db import connection

    from reports.models import ReportRow
    from reports.periods import Period

    if args.json:
        print(json.dumps(time_round(bench_periods(reused_now(), zoneinfo.ZoneInfo("Europe/Berlin")))), flush=True)
        return
    if args.reuse:
        now = reused_now()
        size = ReportRow.objects.count()
        counts = {"ReportRow": size}
        print(f"reusing {size:,} loaded conversations (now = {now.isoformat()})", flush=True)
    else:
        size = args.size
        call_command("migrate", verbosity=0)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        phases, counts = load(size, now)
        print(
            f"loaded {size:,} conversations in {phases['total']:.1f} s "
            f"({', '.join(f'{name} {value:.1f} s' for name, value in phases.items() if name != 'total')}): "
            f"{json.dumps(counts)}",
            flush=True,
        )
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    today = now.astimezone(zone).date()
    period = Period(since=today - dt.timedelta(days=DAYS), until=today, zone=zone)
    report = Report(
        f"Conversation reports over {size:,} conversations ({connection.vendor})",
        setup=f"{json.dumps(counts)}; period {period.since}..{period.until} Europe/Berlin; {load_note()}",
    )
    if not args.reuse:
        report.figure("load", ", ".join(f"{name} {value:.1f} s" for name, value in phases.items()))
    timings = time_groupings(period)
    for group_by, value in timings.items():
        report.figure(f"group_by={group_by} (p50 of {ROUNDS})", f"{value:.3f} s")
    # A support lead's Monday: last week, a seventh of the period (the creation-date index serves it).
    week = Period(since=today - dt.timedelta(days=6), until=today, zone=zone)
    for group_by, value in time_groupings(week, label="last 7 days: ").items():
        report.figure(f"last 7 days, group_by={group_by} (p50 of {ROUNDS})", f"{value:.3f} s")
    rows, export_seconds, growth = time_export(period)
    report.figure(
        "CSV export",
        f"{rows:,} rows in {export_seconds:.1f} s = {rows / export_seconds:,.0f} rows/s, "
        f"peak RSS growth {growth / 2**20:.1f} MB",
    )
    limit = 1.0 if connection.vendor == "postgresql" else 2.0
    report.ratio(
        "slowest grouping, s",
        max(timings.values()),
        f"<= {limit}",
        note=f"target at 1,000,000 conversations; measured at {size:,}",
    )
    report.ratio("CSV seconds per 100k rows", export_seconds * 100_000 / max(rows, 1), "<= 30")
    report.ratio("CSV peak RSS growth, MB", growth / 2**20, "<= 50")
    report.raw = {
        "size": size,
        "timings": timings,
        "csv_rows": rows,
        "csv_seconds": export_seconds,
        "rss_growth_bytes": growth,
        "vendor": connection.vendor,
    }
    report.save("reports")


if __name__ == "__main__":
    main()
