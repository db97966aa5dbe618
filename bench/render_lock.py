"""Benchmark: API writes while a workflow renders a 1,000-`wordwrap` template (issue 25, item 2).

One command, `.venv/bin/python bench/render_lock.py` (`--quick` for a smoke run). The project is served like
production (gunicorn -w 2 on a free loopback port, a SQLite file in WAL mode with IMMEDIATE transactions); a worker
process (`tests/support/render_lock.py serve_run`) executes, on request, a run of a workflow whose `set_variable`
step renders the 1,000-`wordwrap` template (it fails at the 2 s render deadline), after an `add_tag` in the same
segment. One client thread POSTs agent messages through the API one after another: first with nothing else
running (the baseline), then during each of the runs (the writes in flight at some moment between the run's start
and its end). Printed: p50/p95/max latency of both, the ratio of the p95s (within this run), how long each run
took and its step's error, and the writes that failed (a "database is locked" 500 would count here).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import requests
from common import Report

from tests.support.render_lock import database, during, percentile
from tests.workflows.procs import PYTHON, ROOT, Gunicorn


def _post(session: requests.Session, url: str, token: str) -> dict:
    start = time.time()
    response = session.post(
        url, headers={"Authorization": f"Token {token}"}, json={"body": "On it.", "sender_type": "agent"}, timeout=300
    )
    return {"start": start, "end": time.time(), "status": response.status_code}


def _ms(values: list[float]) -> str:
    return " / ".join(f"{percentile(values, share) * 1000:.0f}" for share in (0.5, 0.95, 1.0)) + " ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    args = parser.parse_args()
    runs, baseline_writes = (1, 50) if args.quick else (5, 300)
    tmp = Path(tempfile.mkdtemp(prefix="render-lock-"))
    report = Report(
        "Render lock",
        setup=f"gunicorn -w 2 + one worker process, SQLite file (WAL, IMMEDIATE); {runs} runs rendering a "
        "1,000-wordwrap template (2 s deadline); one client thread POSTing agent messages",
    )
    worker = None
    try:
        env = database(tmp)
        with Gunicorn(env, tmp / "gunicorn.log") as server:
            worker = subprocess.Popen(
                [PYTHON, "-m", "tests.support.render_lock", "serve_run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            ids = json.loads(worker.stdout.readline())
            url = f"{server.base_url}/api/conversations/{ids['writes_on']}/messages/"
            session = requests.Session()
            for _ in range(10):  # warm both gunicorn workers
                _post(session, url, ids["token"])
            quiet = [_post(session, url, ids["token"]) for _ in range(baseline_writes)]
            busy, windows, steps = [], [], []
            for _ in range(runs):
                worker.stdin.write(json.dumps({"conversation": ids["runs_on"]}) + "\n")
                worker.stdin.flush()
                writes = []
                while not select.select([worker.stdout], [], [], 0)[0]:  # write until the run reports its end
                    writes.append(_post(session, url, ids["token"]))
                run = json.loads(worker.stdout.readline())
                windows.append(run["end"] - run["start"])
                steps.append(run["step"])
                busy.extend(during(writes, (run["start"], run["end"])))
        quiet_latency = [write["end"] - write["start"] for write in quiet]
        busy_latency = [write["end"] - write["start"] for write in busy]
        failed = [write["status"] for write in quiet + busy if write["status"] != 201]
        report.figure("API writes, nothing rendering (p50 / p95 / max)", _ms(quiet_latency))
        report.figure(f"API writes during the renders, {len(busy)} writes (p50 / p95 / max)", _ms(busy_latency))
        report.figure("runs (start to end)", ", ".join(f"{seconds:.2f} s" for seconds in windows))
        report.figure("the rendering step", "; ".join(f"{step['status']}: {step['error'][-80:]}" for step in steps))
        report.figure("writes not answered 201", str(failed or "none"))
        report.ratio(
            "p95 of API writes during a render / with none",
            percentile(busy_latency, 0.95) / percentile(quiet_latency, 0.95),
            "<= 3",
        )
        report.raw = {"quiet": quiet_latency, "busy": busy_latency, "runs": windows, "steps": steps}
        report.save("render_lock")
    finally:
        if worker is not None and worker.poll() is None:
            worker.stdin.close()
            worker.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
