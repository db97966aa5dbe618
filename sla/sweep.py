"""The SLA sweep: find running clocks whose warning point or due time has passed and emit each event once.

Finding is an index range scan over `(state, due_at)` / `(state, warned, warning_at)` limited to running clocks
that are due, so a sweep costs the same with a thousand or a million targets that are not due. Claiming is a
conditional UPDATE (`... WHERE state = 'active' AND due_at <= now`) stamped with a fresh token: of two sweeps racing
for a row only one UPDATE matches it, and only the rows carrying its own token get an event. On PostgreSQL the
candidates are also locked with `SKIP LOCKED` first, so a second worker moves on instead of waiting. The claim
and its `sla.*` events commit in one transaction, so an event is never lost or doubled by a crash in between.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, QuerySet

from conversations import clock, payloads
from conversations.choices import EventType
from conversations.events import record_events
from sla.models import SlaTarget, TargetState

BATCH_SIZE = 500


@dataclass(frozen=True)
class SweepResult:
    warnings: int
    breaches: int


def _due_breaches(now: dt.datetime) -> QuerySet:
    return SlaTarget.objects.filter(state=TargetState.ACTIVE, due_at__lte=now)


def _due_warnings(now: dt.datetime) -> QuerySet:
    # `warned__in=[False]` rather than `warned=False`: SQLite renders the latter as `NOT warned`, which cannot use
    # the (state, warned, warning_at) index. Overdue clocks are left to the breach pass, which runs first.
    return SlaTarget.objects.filter(state=TargetState.ACTIVE, warned__in=[False], warning_at__lte=now)


def _lock_candidates(queryset: QuerySet, ids: Sequence[int]) -> QuerySet:
    """Narrow to rows no other sweep holds (PostgreSQL); elsewhere the conditional UPDATE alone decides."""
    if connection.features.has_select_for_update_skip_locked:
        ids = list(queryset.filter(pk__in=ids).select_for_update(skip_locked=True).values_list("pk", flat=True))
    return queryset.filter(pk__in=ids)


def _minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    return max(int((end - start).total_seconds() // 60), 0)


def _event(type: str, target: SlaTarget, **extra) -> dict:
    """One `sla.*` event of a claimed target (depth 0: time, not a workflow, caused it)."""
    return {
        "type": type,
        "conversation": target.conversation,
        "payload": payloads.sla_target(target=target, **extra),
        "depth": 0,
    }


def _claimed(ids: Sequence[int], token: str) -> QuerySet:
    # By primary key first: the token alone has no index and would scan the table.
    return SlaTarget.objects.filter(pk__in=ids, claim_token=token).select_related("conversation__contact", "policy")


def claim_breaches(ids: Sequence[int], now: dt.datetime) -> int:
    """Mark the given running, overdue clocks breached (at their due time) and emit `sla.breached` for each."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        claimed = _lock_candidates(_due_breaches(now), ids).update(
            state=TargetState.BREACHED, breached_at=F("due_at"), warning_at=None, claim_token=token
        )
        if claimed:
            record_events(
                [
                    _event(
                        EventType.SLA_BREACHED,
                        target,
                        breached_at=target.breached_at.isoformat(),
                        minutes_late=_minutes_between(target.due_at, now),
                    )
                    for target in _claimed(ids, token)
                ]
            )
    return claimed


def claim_warnings(ids: Sequence[int], now: dt.datetime) -> int:
    """Mark the given running clocks warned and emit `sla.warning` for each one still before its due time."""
    token = uuid.uuid4().hex
    with transaction.atomic():
        due = _due_warnings(now).filter(due_at__gt=now)
        claimed = _lock_candidates(due, ids).update(warned=True, claim_token=token)
        if claimed:
            record_events(
                [
                    _event(
                        EventType.SLA_WARNING,
                        target,
                        warning_at=target.warning_at.isoformat(),
                        minutes_remaining=_minutes_between(now, target.due_at),
                    )
                    for target in _claimed(ids, token)
                ]
            )
    return claimed


def _drain(due: QuerySet, claim, now: dt.datetime, batch_size: int) -> int:
    total = 0
    while True:
        ids = list(due.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return total
        claimed = claim(ids, now)
        total += claimed
        if len(ids) < batch_size or not claimed:
            return total


def run_sweep(*, now: dt.datetime | None = None, batch_size: int = BATCH_SIZE) -> SweepResult:
    """Emit every due `sla.warning` and `sla.breached` not emitted yet. Safe to run twice or on two workers."""
    now = now or clock.now()
    breaches = _drain(_due_breaches(now), claim_breaches, now, batch_size)
    warnings = _drain(_due_warnings(now), claim_warnings, now, batch_size)
    return SweepResult(warnings=warnings, breaches=breaches)


def next_due_at() -> dt.datetime | None:
    """The earliest warning point or due time of a running clock (two index seeks), None when nothing runs."""
    running = SlaTarget.objects.filter(state=TargetState.ACTIVE)
    moments = [
        running.filter(due_at__isnull=False).order_by("due_at").values_list("due_at", flat=True).first(),
        running.filter(warned__in=[False], warning_at__isnull=False)
        .order_by("warning_at")
        .values_list("warning_at", flat=True)
        .first(),
    ]
    return min((moment for moment in moments if moment), default=None)
