"""Claims: a draining worker takes a batch of events before it reads and matches them (docs/operations.md), so n
workers never read and match each other's batches. One short transaction picks the oldest undispatched events that no
live claim holds (`select_for_update(skip_locked=True)` on PostgreSQL; on SQLite a conditional UPDATE under the write
lock is the claim) and stamps them `claimed_until`. A claim only spares others the
work: the dispatch transaction still takes each event only while it is undispatched, so a claim that expired (its
worker died or stalled) costs a redo, never a second run. `stats` counts, per process, the batches claimed and the
claims lost (claimed events another worker dispatched first) for the benchmarks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet

from conversations import clock
from conversations.models import Event
from conversations.statements import Statement

CLAIM = dt.timedelta(seconds=15)  # far longer than matching a batch takes; an expired claim only costs a redo


@dataclass
class ClaimStats:
    """What this process's drains claimed: batches, events, and events lost to another worker after the claim."""

    batches: int = 0
    claimed: int = 0
    lost_claims: int = 0

    def record(self, claimed: int, lost: int) -> None:
        self.batches += 1
        self.claimed += claimed
        self.lost_claims += lost


stats = ClaimStats()


def _free(now: dt.datetime) -> Q:
    return Q(dispatched_at__isnull=True) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


# A drain looks for new events every IDLE_POLL_SECONDS of its wake-up window, and most looks find none (messages
# trickling in while workers drain). The look is a statement built once per process (conversations.statements): the
# oldest free events, the ones this drain skips filtered out here. Building it with the ORM each time cost more CPU
# than the rest of an empty look.
PEEK = 100
_FREE_EVENTS = Statement(
    Event,
    lambda slot: (
        Event.objects.filter(
            Q(dispatched_at__isnull=True)
            & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=slot("now", "claimed_until")))
        )
        .order_by("occurred_at")
        .values_list("pk")[:PEEK]
    ),
)


def peek_free(skip: Collection[Any] = frozenset()) -> tuple[list[Any], bool]:
    """The oldest free events (undispatched, no live claim) but `skip`, oldest first, and whether that is all of
    them (False: the look was full, more may be behind the skipped ones)."""
    rows = _FREE_EVENTS.rows(now=clock.now())
    return [pk for (pk,) in rows if pk not in skip], len(rows) < PEEK


def claim_oldest(limit: int, skip: Collection[Any] = frozenset()) -> list[Any]:
    """Claim up to `limit` of the oldest undispatched events nobody holds (but `skip`); their ids, oldest first."""
    free, complete = peek_free(skip)
    if not free and complete:
        return []  # nothing to claim: an idle look costs one compiled read
    if free and not connection.features.has_select_for_update_skip_locked:
        claimed = _stamp(free[:limit], clock.now())
        if claimed:
            return claimed
    pending = Event.objects.all()
    if skip:
        pending = pending.exclude(pk__in=list(skip))
    return _claim(pending, limit)


def claim_events(event_ids: list[Any]) -> list[Any]:
    """Claim those of `event_ids` that are undispatched and held by nobody; their ids, oldest first."""
    if not event_ids:
        return []
    return _claim(Event.objects.filter(pk__in=event_ids), len(event_ids))


def release(event_ids: Iterable[Any]) -> None:
    """Hand back claims this worker will not dispatch (their matching failed): the sweep may take them at once."""
    ids = list(event_ids)
    if ids:
        Event.objects.filter(pk__in=ids, dispatched_at__isnull=True).update(claimed_until=None)


def _claim(pending: QuerySet[Event], limit: int, attempts: int = 3) -> list[Any]:
    """Claim up to `limit` of `pending`, oldest first. Where rows can be locked (PostgreSQL) one transaction takes
    those no other transaction holds (SKIP LOCKED) and stamps them. Elsewhere (SQLite) the candidates are read first
    with no transaction (an idle drain's look costs a read, not the database's write lock), then stamped by a
    conditional UPDATE; when another worker took all of them in between, look again."""
    if connection.features.has_select_for_update_skip_locked:
        now = clock.now()
        with transaction.atomic():
            ids = list(
                pending.filter(_free(now))
                .order_by("occurred_at")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:limit]
            )
            if ids:
                Event.objects.filter(pk__in=ids).update(claimed_until=now + CLAIM)
        return ids
    for _ in range(attempts):
        now = clock.now()
        ids = list(pending.filter(_free(now)).order_by("occurred_at").values_list("pk", flat=True)[:limit])
        if not ids:
            return []
        claimed = _stamp(ids, now)
        if claimed:
            return claimed
    return []


def _stamp(ids: list[Any], now: dt.datetime) -> list[Any]:
    """The conditional UPDATE that claims those of `ids` still free; the ids it claimed."""
    until = now + CLAIM
    with transaction.atomic():
        taken = Event.objects.filter(_free(now), pk__in=ids).update(claimed_until=until)
        if taken != len(ids):  # another worker claimed some between the read and the write lock
            ids = list(
                Event.objects.filter(pk__in=ids, claimed_until=until)
                .order_by("occurred_at")
                .values_list("pk", flat=True)
            )
    return ids
