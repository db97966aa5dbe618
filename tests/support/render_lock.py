"""A slow render beside concurrent writes, on a SQLite file (issue 25, item 2): shared by
tests/workflows/engine/test_render_lock.py and bench/render_lock.py.

The parent side migrates a database file of its own and runs `python -m tests.support.render_lock <command>` in a
Django process on the production settings (WAL, IMMEDIATE transactions, the busy timeout), pointed at that file.
The child side has two commands:
- `render_beside_writes`: a worker thread executes a workflow run whose `set_variable` step renders a 1,000-`wordwrap`
  template while a writer thread, on its own connection, saves agent messages one after another until the run is
  done. Both report their wall-clock times, so the parent sees whether any write waited on the render.
- `serve_run` (for the benchmark, with writes coming from a served API in another process): prints `ready` once set
  up, then executes one such run per line read from stdin and prints its times.
Only the local database file is used; nothing leaves the machine.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.workflows.procs import call, migrate, project_env

A_THOUSAND_WORDWRAPS = "{% set t = 'word ' * 15000 %}" + "{% set t = t|wordwrap(7) %}" * 1000 + "{{ t|length }}"
DEFINITION = {
    "name": "Slow reply",
    "status": "active",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
    "steps": [
        {"type": "add_tag", "config": {"tags": ["seen"]}},
        {"type": "set_variable", "config": {"name": "slow", "value": A_THOUSAND_WORDWRAPS}},
    ],
}


# --- the parent side ---------------------------------------------------------------------------------------------


def database(tmp: Path, **extra: str) -> dict[str, str]:
    """A migrated SQLite file under `tmp` and the environment of a process using it."""
    env = project_env(sqlite_path=tmp / "render-lock.sqlite3", **extra)
    migrate(env)
    return env


def run_child(env: dict[str, str], command: str, *args: Any, timeout: float = 300) -> dict[str, Any]:
    """Run one command of this module in a Django process of its own; its JSON result."""
    answer: dict[str, Any] = call(env, command, *args, timeout=timeout, module=__name__)
    return answer


def during(writes: list[dict[str, Any]], window: tuple[float, float]) -> list[dict[str, Any]]:
    """The writes that were in flight at some moment of `window` (started before it ended, ended after it began)."""
    start, end = window
    return [write for write in writes if write["start"] < end and write["end"] > start]


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of `values`."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))]


# --- the child side: inside a Django process ---------------------------------------------------------------------


def _setup() -> dict[str, Any]:
    """The workflow, a conversation for its runs and one for the writer's messages, and an agent token."""
    from django.contrib.auth.models import Group, User
    from rest_framework.authtoken.models import Token

    from conversations import services
    from workflows import services as workflow_services

    workflow = workflow_services.workflow_create(definition=DEFINITION)
    contact = services.contact_create(name="Grace Hopper", email="grace@example.com")
    runs_on = services.conversation_open(contact=contact, channel="email", subject="Slow render")
    writes_on = services.conversation_open(contact=contact, channel="email", subject="Busy agents")
    user = User.objects.create_user("render-lock-agent", is_staff=True)
    user.groups.add(Group.objects.get(name="Support managers"))
    return {
        "workflow": workflow.pk,
        "runs_on": runs_on.pk,
        "writes_on": writes_on.pk,
        "token": Token.objects.create(user=user).key,
    }


def _one_run(conversation_id: int) -> dict[str, Any]:
    """A customer message on the conversation, and the run it starts executed here: its times and its step."""
    from conversations import services
    from conversations.models import Conversation, Event
    from workflows.engine.drain import dispatch_and_run
    from workflows.models import StepRun

    conversation = Conversation.objects.get(pk=conversation_id)
    message = services.message_create(conversation=conversation, body="Hello?", sender_type="customer")
    event = Event.objects.get(type="message.created", payload__message_id=message.pk)
    start = time.time()
    dispatch_and_run(event.pk)
    end = time.time()
    step = StepRun.objects.filter(run__event=event, type="set_variable").order_by("-pk").first()
    return {
        "start": start,
        "end": end,
        "step": {"status": step.status, "error": step.error} if step else None,
        "run": step.run.status if step else None,
    }


def cmd_render_beside_writes() -> dict[str, Any]:
    """The worker thread renders; the writer thread writes on its own connection until the run is done."""
    from django.db import connection

    from conversations import services
    from conversations.models import Conversation

    ids = _setup()
    writes: list[dict[str, Any]] = []
    writing, done = threading.Event(), threading.Event()

    def writer() -> None:
        conversation = Conversation.objects.get(pk=ids["writes_on"])
        try:
            while not done.is_set():
                start, error = time.time(), ""
                try:
                    services.message_create(conversation=conversation, body="On it.", sender_type="agent")
                except Exception as exc:  # noqa: BLE001 ("database is locked" is what this looks for)
                    error = f"{type(exc).__name__}: {exc}"
                writes.append({"start": start, "end": time.time(), "error": error})
                writing.set()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=writer)
    thread.start()
    writing.wait(60)
    try:
        run = _one_run(ids["runs_on"])
    finally:
        done.set()
        thread.join(60)
    return {"run": run, "writes": writes}


def cmd_serve_run() -> None:
    """For the benchmark: set up, print the ids, then one run per stdin line, printing its times each time."""
    print(json.dumps(_setup()), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_one_run(json.loads(line)["conversation"])), flush=True)


def main(argv: list[str]) -> None:
    import django

    django.setup()
    commands = {"render_beside_writes": cmd_render_beside_writes, "serve_run": cmd_serve_run}
    result = commands[argv[0]](*json.loads(argv[1] if len(argv) > 1 else "[]"))
    if result is not None:
        print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
