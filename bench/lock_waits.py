"""How long an API write waits for SQLite's write lock behind a draining worker's run groups, with and without the
waiting board (`conversations/sqlite_lock.py`; docs/drain_groups.md): `python bench/lock_waits.py`.

Two processes on one SQLite file (WAL, IMMEDIATE transactions, BEGIN polled as the project does):
- a *worker* writing run groups back to back, as a drain does (`workflows.engine.runner`): each run burns `--run-ms`
  of CPU and inserts a row; a group commits after GROUP_RUNS runs or GROUP_SECONDS holding the lock, and — in the
  "board" mode — also as soon as the board says someone waits, then lets that writer in before it opens the next;
- a *web* process writing one transaction per request at a fixed rate (`--rate`), burning `--request-ms` of CPU
  inside it, announcing its waits on the board (as every BEGIN does in the project).
The modes alternate in the same minutes (`--rounds`); each prints the web's wait per request (mean, p50, p95), the
worker's runs per second and the mean runs per group. Only a temp directory, deleted at the end. The two processes
are plain `sqlite3` connections, not Django: this measures the lock hand-over itself, not the project's CPU.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conversations import sqlite_lock  # noqa: E402  (plain module: no Django setup needed)

GROUP_RUNS = 16
GROUP_SECONDS = 0.015
YIELD_SECONDS = 0.003


def connect(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=0)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def begin(connection: sqlite3.Connection, board: sqlite_lock.WaitingBoard | None) -> float:
    asked = time.perf_counter()
    sqlite_lock.begin_until_free(lambda: connection.execute("BEGIN IMMEDIATE"), 20, board=board)
    return time.perf_counter() - asked


def worker(path: str, use_board: bool, run_ms: float, stop_at: float, out) -> None:
    connection = connect(path)
    board = sqlite_lock.WaitingBoard(path + sqlite_lock.WAITING_SUFFIX) if use_board else None
    runs = groups = 0
    while time.monotonic() < stop_at:
        if board is not None and board.someone_waiting():
            deadline = time.monotonic() + YIELD_SECONDS
            while board.someone_waiting() and time.monotonic() < deadline:
                time.sleep(0.0001)
        begin(connection, None)  # a drain's own waits are not announced
        opened, in_group = time.monotonic(), 0
        while True:
            burn(run_ms / 1000)
            connection.execute("INSERT INTO item (kind) VALUES ('run')")
            in_group += 1
            if (
                in_group >= GROUP_RUNS
                or time.monotonic() - opened >= GROUP_SECONDS
                or (board is not None and board.someone_waiting())
            ):
                break
        connection.execute("COMMIT")
        runs, groups = runs + in_group, groups + 1
    out.put(("worker", runs, groups))


def web(path: str, rate: float, request_ms: float, start_at: float, stop_at: float, out) -> None:
    connection = connect(path)
    board = sqlite_lock.WaitingBoard(path + sqlite_lock.WAITING_SUFFIX)
    waits: list[float] = []
    index = 0
    while True:
        due = start_at + index / rate
        if due >= stop_at:
            break
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        waits.append(begin(connection, board))
        burn(request_ms / 1000)
        connection.execute("INSERT INTO item (kind) VALUES ('request')")
        connection.execute("COMMIT")
        index += 1
    out.put(("web", waits))


def measure(path: str, use_board: bool, args: argparse.Namespace) -> dict:
    out: multiprocessing.Queue = multiprocessing.Queue()
    start_at = time.monotonic() + 0.3
    stop_at = start_at + args.seconds
    processes = [
        multiprocessing.Process(target=worker, args=(path, use_board, args.run_ms, stop_at, out)),
        multiprocessing.Process(target=web, args=(path, args.rate, args.request_ms, start_at, stop_at, out)),
    ]
    for process in processes:
        process.start()
    results = dict((item[0], item[1:]) for item in (out.get(timeout=args.seconds + 60) for _ in processes))
    for process in processes:
        process.join()
    waits = sorted(results["web"][0])
    runs, groups = results["worker"]
    return {
        "mean_ms": statistics.fmean(waits) * 1000,
        "p50_ms": waits[len(waits) // 2] * 1000,
        "p95_ms": waits[int(len(waits) * 0.95)] * 1000,
        "waited": sum(1 for wait in waits if wait > 0.00005) / len(waits),
        "runs_per_s": runs / (args.seconds + 0.3),
        "runs_per_group": runs / max(groups, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=200, help="API writes per second")
    parser.add_argument("--request-ms", type=float, default=1.0, help="CPU an API write spends holding the lock")
    parser.add_argument("--run-ms", type=float, default=0.5, help="CPU a run spends holding the lock")
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two modes")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="helpdesk-bench-lock-waits-"))
    try:
        path = str(workdir / "lock.sqlite3")
        setup = connect(path)
        setup.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, kind TEXT)")
        setup.close()
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {vars(args)}", flush=True)
        figures: dict[str, list[dict]] = {"bounds only": [], "board": []}
        for round_ in range(args.rounds):
            for mode in ("bounds only", "board") if round_ % 2 == 0 else ("board", "bounds only"):
                result = measure(path, mode == "board", args)
                figures[mode].append(result)
                print(
                    f"  {mode:11}: {result['waited']:4.0%} of the web's writes waited; mean {result['mean_ms']:5.2f} ms, "
                    f"p50 {result['p50_ms']:5.2f}, "
                    f"p95 {result['p95_ms']:5.2f}; worker {result['runs_per_s']:6.0f} runs/s, "
                    f"{result['runs_per_group']:4.1f} runs per group",
                    flush=True,
                )
        for key in ("mean_ms", "p95_ms", "runs_per_s"):
            ratios = [b[key] / a[key] for a, b in zip(figures["bounds only"], figures["board"]) if a[key]]
            print(f"board / bounds only, {key}: " + ", ".join(f"{value:.2f}" for value in ratios), flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
