"""What the benchmark scripts share: threaded HTTP clients, percentiles and medians, the figure files that
bench/results.py turns into bench/RESULTS.md, and the git-ignored cache directory (.bench-cache/) for the peers' venv.

A script records its figures with `record(name, figures)`: when BENCH_RESULTS_DIR is set (as `make bench` does) they
go to `<dir>/<name>.json`; otherwise nothing is written and the script only prints. Only loopback traffic.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench-cache"
THREADS = 2
RESULTS_ENV = "BENCH_RESULTS_DIR"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the scripts import the project and tests.infra / tests.workflows.procs


@dataclass
class Rate:
    """Requests done by the client threads: how many per second, and the latency spread."""

    count: int
    wall: float
    latencies: list[float] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95) if self.latencies else 0.0

    def describe(self, label: str) -> str:
        return f"{label:<40} {self.per_s:8.1f} req/s   p50 {self.p50 * 1000:7.1f} ms   p95 {self.p95 * 1000:7.1f} ms"

    def figures(self) -> dict[str, float]:
        return {"per_s": self.per_s, "p50_ms": self.p50 * 1000, "p95_ms": self.p95 * 1000, "count": self.count}


def percentile(values: Iterable[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values that were measured (None where a round measured nothing)."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def run_threads(jobs: list, work: Callable[[requests.Session, Any], float], threads: int = THREADS) -> Rate:
    """Run `work(session, job)` (which returns the seconds it took) over the jobs with `threads` client threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(chunk: list) -> None:
        session = requests.Session()
        try:
            for job in chunk:
                elapsed = work(session, job)
                with lock:
                    latencies.append(elapsed)
        except BaseException as exc:  # re-raised in the caller's thread: a failed request fails the bench
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(jobs[i::threads],)) for i in range(threads)]
    started = time.perf_counter()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return Rate(len(latencies), wall, latencies)


def timed_request(
    session: requests.Session, method: str, url: str, token: str, expect: int, **kwargs: Any
) -> tuple[float, Any]:
    """One HTTP request with a DRF token; returns (seconds, JSON body) and fails loudly on an unexpected status."""
    started = time.perf_counter()
    response = session.request(method, url, headers={"Authorization": f"Token {token}"}, timeout=300, **kwargs)
    elapsed = time.perf_counter() - started
    if response.status_code != expect:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed, response.json()


def post_all(base: str, token: str, jobs: list[tuple[str, dict]]) -> tuple[Rate, list[int]]:
    """POST each (path, body) with the client threads; return the rate and the ids of what was created."""
    ids: list[int] = []

    def post(session: requests.Session, job: tuple[str, dict]) -> float:
        elapsed, created = timed_request(session, "POST", f"{base}{job[0]}", token, 201, json=job[1])
        ids.append(created["id"])
        return elapsed

    return run_threads(jobs, post), ids


def time_gets(url: str, token: str, count: int, threads: int = THREADS, warm: bool = True) -> Rate:
    """GET `url` `count` times with the client threads (after one untimed request, unless `warm` is False)."""
    if warm:
        timed_request(requests.Session(), "GET", url, token, 200)
    return run_threads(
        list(range(count)),
        lambda session, _: timed_request(session, "GET", url, token, 200)[0],
        threads=min(threads, count),
    )


def warm_up(base: str, requests_per_thread: int = 3) -> None:
    """A few requests from each client thread, so every gunicorn worker has loaded the app before timing starts."""
    run_threads(
        list(range(THREADS * requests_per_thread)),
        lambda session, _: session.get(f"{base}/", timeout=120).elapsed.total_seconds(),
    )


@dataclass
class Report:
    """The figures and ratios of one benchmark, printed as they come and saved for bench/results.py."""

    title: str
    setup: str = ""
    figures: list[tuple[str, str]] = field(default_factory=list)
    ratios: list[tuple[str, str, str, str]] = field(default_factory=list)  # label, value, target, verdict
    raw: dict[str, Any] = field(default_factory=dict)

    def figure(self, label: str, text: str) -> None:
        print(f"{label}: {text}", flush=True)
        self.figures.append((label, text))

    def ratio(self, label: str, value: float | None, target: str = "", note: str = "") -> None:
        """`target` is like ">= 0.8" or "<= 1.5"; the verdict says whether the measured ratio meets it."""
        shown = "n/a" if value is None else f"{value:.2f}"
        verdict = "" if value is None or not target else ("met" if meets(value, target) else "NOT met")
        print(
            f"RATIO {label}: {shown}"
            + (f" (target {target}: {verdict})" if target else "")
            + (f" — {note}" if note else ""),
            flush=True,
        )
        self.ratios.append((label, shown + (f" ({note})" if note else ""), target, verdict))

    def save(self, name: str) -> None:
        """Write `<BENCH_RESULTS_DIR>/<name>.json` when `make bench` asked for it (nothing otherwise)."""
        directory = os.environ.get(RESULTS_ENV)
        if not directory:
            return
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        (path / f"{name}.json").write_text(
            json.dumps(
                {
                    "title": self.title,
                    "setup": self.setup,
                    "figures": self.figures,
                    "ratios": self.ratios,
                    "raw": self.raw,
                },
                indent=2,
                default=str,
            )
        )


def meets(value: float, target: str) -> bool:
    operator, bound = target.split()
    return value >= float(bound) if operator == ">=" else value <= float(bound)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator is not None and denominator else None


def load_note() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
