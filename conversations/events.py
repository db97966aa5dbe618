"""The domain event outbox: write an event row inside the change's transaction, hand it to the queue after commit.

Other apps never get called from here by import (dependencies point one way). They plug in through three hooks:
- `HELPDESK_EVENT_TASK`: the dotted path of the django-q2 task that consumes a committed event (the dispatcher);
- `register_projector`: a function run inside the same transaction for every event, for read models that must
  never disagree with the domain (the SLA clocks);
- `register_inline_consumer`: the function that consumes one committed event in the caller's own process, used
  only inside `events_consumed_inline` (the demo loader replays a history that way).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from django.db import connections, transaction
from django.utils import timezone

from conversations import clock
from conversations.conf import helpdesk_setting
from conversations.models import Contact, Conversation, Event
from conversations.writes import insert_row

logger = logging.getLogger(__name__)

Projector = Callable[[Event], None]
# A process that has just woken a worker lets the events of the next WAKE_UP_WINDOW_SECONDS go without a queue
# message of their own: the consumer drains every pending event and keeps looking for at least this long, so it
# finds them (see `workflows.engine.drain`). A burst of API writes so costs one queue write per window, not one per event.
# 1 s, not 0.2 s: each wake-up costs the cluster ~20 ms of CPU and an empty look of a lingering drain ~0.1 ms
# (docs/drain_groups.md, "Fewer wake-ups").
WAKE_UP_WINDOW_SECONDS = 1.0
# The in-process queue (tests) wakes a drain for every event, so there the window coalesces nothing; its drains keep
# looking as long as they always did.
SYNC_DRAIN_LOOK_SECONDS = 0.2
_projectors: list[Projector] = []
_last_wake_up = [float("-inf")]
_wake_ups_suppressed: ContextVar[bool] = ContextVar("helpdesk_wake_ups_suppressed", default=False)
_inline_consumers: list[Callable[[Any], object]] = []
_consumed_inline: ContextVar[bool] = ContextVar("helpdesk_events_consumed_inline", default=False)


def register_projector(projector: Projector) -> None:
    """Run `projector(event)` in the writing transaction of every event (idempotent registration)."""
    if projector not in _projectors:
        _projectors.append(projector)


def register_inline_consumer(consumer: Callable[[Any], object]) -> None:
    """Name the function that consumes one committed event by its id in this process (the engine registers its
    dispatch-and-run; idempotent)."""
    _inline_consumers[:] = [consumer]


@contextlib.contextmanager
def events_consumed_inline() -> Iterator[None]:
    """Inside the block, each event is consumed right after its transaction commits, in this process, instead of
    waking a worker: what it starts (workflow runs) happens before the caller's next statement, at the same clock.

    For loaders that replay a history at past moments (`load_demo_data`), never for request handling: the caller
    waits for every run. Without a registered consumer the events wake a worker as usual."""
    token = _consumed_inline.set(True)
    try:
        yield
    finally:
        _consumed_inline.reset(token)


def record_event(
    *,
    type: str,
    conversation: Conversation | None = None,
    contact: Contact | None = None,
    payload: Mapping[str, Any] | None = None,  # one of the TypedDicts of conversations.payloads
    depth: int = 0,
) -> Event:
    """Write an event row now and enqueue its dispatch once the surrounding transaction commits."""
    if contact is None and conversation is not None:
        contact = conversation.contact
    event = insert_row(  # Event.objects.create, its INSERT built once per process (conversations.writes)
        Event(
            type=type,
            occurred_at=clock.now(),
            conversation=conversation,
            contact=contact,
            payload=payload or {},
            depth=depth,
        )
    )
    for projector in _projectors:
        projector(event)
    transaction.on_commit(lambda: enqueue_event(event.pk))
    return event


def record_events(events: list[dict[str, Any]]) -> list[Event]:
    """`record_event` for a batch (keys: type, conversation, payload, depth): one INSERT for all the rows, then the
    same projectors and after-commit wake-ups, so a sweep emitting many events at once pays one round trip."""
    rows = [
        Event(
            type=spec["type"],
            occurred_at=clock.now(),
            conversation=spec["conversation"],
            contact=spec.get("contact") or spec["conversation"].contact,
            payload=spec.get("payload") or {},
            depth=spec.get("depth", 0),
        )
        for spec in events
    ]
    Event.objects.bulk_create(rows)
    for event in rows:
        for projector in _projectors:
            projector(event)
    # The consumer (HELPDESK_EVENT_TASK) drains every pending event once woken: one wake-up serves the batch.
    if rows:
        transaction.on_commit(lambda: enqueue_event(rows[0].pk))
    return rows


@contextlib.contextmanager
def wakeups_suppressed() -> Iterator[None]:
    """Inside a drain, events recorded by the runs it executes need no queue message: the drain finds them."""
    token = _wake_ups_suppressed.set(True)
    try:
        yield
    finally:
        _wake_ups_suppressed.reset(token)


def drain_look_seconds() -> float:
    """How long a drain keeps looking for events from its start: the wake-up window, so it finds every event that a
    process which woke it let go without a wake-up of its own (SYNC_DRAIN_LOOK_SECONDS in the in-process queue)."""
    from django_q.conf import Conf

    return SYNC_DRAIN_LOOK_SECONDS if Conf.SYNC else WAKE_UP_WINDOW_SECONDS


def _wake_up_needed() -> bool:
    from django_q.conf import Conf

    if Conf.SYNC:  # the in-process queue (tests) runs the consumer inline: every event gets its own call
        return not _wake_ups_suppressed.get()
    if _wake_ups_suppressed.get():
        return False
    return time.monotonic() - _last_wake_up[0] >= WAKE_UP_WINDOW_SECONDS


def _wake_up_pending() -> bool:
    """ORM broker only: is a wake-up (`HELPDESK_EVENT_TASK`) queued that no cluster has taken yet? Its drain starts
    after now and looks for at least WAKE_UP_WINDOW_SECONDS from its start, so it finds every event committed before
    now and those a window of suppressed wake-ups lets go (`_wake_up_needed`): a burst of posts from several web
    processes queues one task, not one each. On SQLite the check is a read, the wake-up a write under the database's
    only write lock. Taken tasks are locked until `retry` (django-q2's ORM broker), so they do not count; if the one
    found dies unrun, the sweep dispatches what it would have."""
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    if not Conf.ORM or Conf.SYNC:
        return False
    task = helpdesk_setting("EVENT_TASK")
    pending = (
        OrmQ.objects.using(Conf.ORM)
        .filter(key=Conf.CLUSTER_NAME, lock__lte=timezone.now())  # django-q2 stamps real time, not `clock`
        .values_list("payload", flat=True)[: Conf.BULK]
    )
    for payload in pending:
        try:
            if SignedPackage.loads(payload).get("func") == task:
                return True
        except Exception:  # a package from another deployment or version: not ours to judge
            continue
    return False


def _queue_write() -> contextlib.AbstractContextManager[object]:
    """The ORM broker's queue row on SQLite is written in a transaction of its own: its BEGIN waits for the write lock
    in short polls and announces the wait, so a workers' run group lets it in (`conversations.sqlite_lock`), where an
    INSERT in autocommit would sleep in SQLite's busy handler (1, 2, 5, 10 ... ms) behind the group."""
    from django_q.conf import Conf

    if Conf.ORM and not Conf.SYNC and connections[Conf.ORM].vendor == "sqlite":
        return transaction.atomic(using=Conf.ORM)
    return contextlib.nullcontext()


def enqueue_event(event_id: Any, *, force: bool = False) -> None:
    """Wake a worker for an event, unless a wake-up from this process is recent enough to cover it or a drain in
    this worker will find it (`force` skips both checks). A failure here loses nothing: the sweep dispatches
    undispatched events."""
    from django_q.tasks import async_task

    if _consumed_inline.get() and _inline_consumers:
        _inline_consumers[0](event_id)
        return
    if not force and not _wake_up_needed():
        return
    _last_wake_up[0] = time.monotonic()
    if not force and _wake_up_pending():
        return  # a queued wake-up no worker has taken yet starts a drain after this commit: it finds this event
    try:
        with _queue_write():
            async_task(helpdesk_setting("EVENT_TASK"), str(event_id), task_name=f"event-{event_id}", group="events")
    except Exception:  # the queue is only a wake-up call; the outbox row stays and the sweep picks it up
        logger.exception("Could not enqueue event %s; the sweep will pick it up", event_id)
