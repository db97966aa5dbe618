"""`make bench`: run every benchmark one after the other and write bench/RESULTS.md.

RESULTS.md describes the machine (cores, CPU model, RAM, Python, SQLite, PostgreSQL and Redis versions, the load
average around the run), then every ratio of the run in one table (each comparison is measured within this run),
then each benchmark's figures. Scripts that save a report (bench/common.py `Report`) give tables; the others' output
is included as printed. The django-helpdesk venv is installed first (bench/peer.py), so its install is never timed.
Each run keeps its raw material in .bench-cache/results/ (`--render DIR` rewrites RESULTS.md from such a directory).

`--quick` (`make bench QUICK=1`) is a smoke run with small sizes: it writes .bench-cache/RESULTS-quick.md instead,
since its figures mean nothing. `--only drain` (names: the keys of BENCHES below) runs a subset.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from common import CACHE, RESULTS_ENV, ROOT
from peer import HELPDESK_REQUIREMENTS, HELPDESK_VERSION, ensure_helpdesk_venv

from tests.infra.servers import find_postgres_bin, find_redis_server

BENCH = ROOT / "bench"
BENCHES = {
    "api": ["api.py"],
    "drain": ["engine.py", "--drain"],
    "engine": ["engine.py"],
    "run_cost": ["run_cost.py", "--qcluster", "--workers", "2", "--trickle", "20"],
    "sla": ["sla.py"],
    "intents": ["intents.py"],
    "replay": ["replay.py"],
    "waits": ["waits.py"],
    "presence": ["presence.py"],
    "reports": ["reports.py"],
    "mail": ["mail_send.py"],
    "mail_import": ["mail_import.py"],
    "routing": ["routing.py"],
    "retention": ["retention.py"],
    "capacity": ["capacity.py"],
    "render_lock": ["render_lock.py"],
}
QUICK_ENV = {"BENCH_QUICK": "1", "SLA_BENCH_TARGETS": "50000"}  # bench/reports.py: 5,000 conversations


def version_of(command: list[str]) -> str:
    """The first line a `--version` command prints, or why there is none."""
    if not command[0] or not Path(command[0]).exists():
        return "not installed"
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    return (result.stdout or result.stderr).strip().splitlines()[0] if result.returncode == 0 else "unknown"


def cpu_model() -> str:
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else platform.processor() or "unknown"


def memory() -> str:
    text = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    match = re.search(r"^MemTotal:\s*(\d+) kB", text, re.MULTILINE)
    return f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else "unknown"


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return result.stdout.strip() + (" (with uncommitted changes)" if dirty else "") if result.returncode == 0 else "?"


def machine(load_before: tuple[float, ...]) -> list[tuple[str, str]]:
    """What the figures were measured on; the load average shows how much else ran on the machine."""
    bindir = find_postgres_bin()
    load_after = os.getloadavg()
    return [
        ("cores", str(os.cpu_count())),
        ("CPU", cpu_model()),
        ("RAM", memory()),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", version_of([str(bindir / "postgres") if bindir else "", "--version"])),
        ("Redis", version_of([find_redis_server() or "", "--version"])),
        (
            "django-helpdesk",
            f"{HELPDESK_VERSION} in its own venv (.bench-cache/), with "
            + next(r for r in HELPDESK_REQUIREMENTS if r.startswith("Django==")),
        ),
        (
            "load average (1 min) before / after",
            f"{load_before[0]:.1f} / {load_after[0]:.1f} (above the core count, other work shared the machine)",
        ),
    ]


def run_bench(name: str, out: Path, extra_env: dict[str, str]) -> None:
    """Run one benchmark script, echoing its output and keeping it in `out/<name>.log` (with its exit code and
    duration in `out/<name>.outcome.json`)."""
    argv = BENCHES[name]
    print(f"== bench/{' '.join(argv)}", flush=True)
    started = time.perf_counter()
    env = {**os.environ, RESULTS_ENV: str(out), **extra_env}
    with open(out / f"{name}.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, *argv], cwd=BENCH, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
        code = process.wait()
    outcome = {"code": code, "seconds": time.perf_counter() - started}
    (out / f"{name}.outcome.json").write_text(json.dumps(outcome))


def run_all(names: list[str], quick: bool) -> Path:
    """Run the benchmarks into a fresh results directory and return it."""
    out = CACHE / ("results-quick" if quick else "results")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / "run.json").write_text(
        json.dumps(
            {
                "load_before": os.getloadavg(),
                "quick": quick,
                "commit": git_commit(),
                "started_at": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
            }
        )
    )
    if "api" in names:
        print(f"django-helpdesk venv: {ensure_helpdesk_venv()}", flush=True)
    for name in names:
        run_bench(name, out, QUICK_ENV if quick else {})
    return out


def table(header: tuple[str, ...], rows: list) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(str(cell).replace("|", "/") for cell in row) + " |" for row in rows]


def render(out: Path) -> str:
    """The Markdown of RESULTS.md from a results directory: the saved report (or the printed output) of each
    benchmark that ran, in the order of BENCHES."""
    run = json.loads((out / "run.json").read_text())
    names = [name for name in BENCHES if (out / f"{name}.outcome.json").exists()]
    outcomes = {name: json.loads((out / f"{name}.outcome.json").read_text()) for name in names}
    reports = {
        name: json.loads((out / f"{name}.json").read_text()) for name in names if (out / f"{name}.json").exists()
    }
    total = sum(outcome["seconds"] for outcome in outcomes.values())
    lines = [
        "# Benchmark results",
        "",
        f"Written by bench/results.py (`make bench{' QUICK=1' if run['quick'] else ''}`); the run started "
        f"{run['started_at']} at commit {run['commit']} and its benchmarks took {total / 60:.1f} min. Each figure "
        "is the median of the rounds its benchmark says; each ratio is measured within this run. Ratios carry "
        "over to other machines better than absolute figures.",
        "",
    ]
    if run.get("note"):
        lines += [run["note"], ""]
    if run["quick"]:
        lines += ["**QUICK smoke run: small sizes, the figures mean nothing.**", ""]
    lines += ["## Machine", ""] + table(("", ""), machine(run["load_before"])) + ["", "## Ratios", ""]
    lines += table(
        ("ratio", "measured", "target", "verdict"), [row for report in reports.values() for row in report["ratios"]]
    )
    for name in names:
        lines += ["", *section(out, name, outcomes[name], reports.get(name))]
    return "\n".join(lines) + "\n"


def section(out: Path, name: str, outcome: dict, report: dict | None) -> list[str]:
    """One benchmark: its figures as a table, or its printed output (also when it failed)."""
    command = f"bench/{' '.join(BENCHES[name])}"
    lines = [
        f"## {report['title'] if report else command}",
        "",
        f"`{command}`: {outcome['seconds']:.0f} s"
        + ("" if outcome["code"] == 0 else f", **FAILED (exit {outcome['code']})**: the end of its output below."),
    ]
    if report and report["setup"]:
        lines += ["", report["setup"] + "."]
    if report:
        lines += [""] + table(("figure", "value"), report["figures"])
    if not report or outcome["code"] != 0:
        output = (out / f"{name}.log").read_text(errors="replace").strip().splitlines()
        lines += ["", "```", *output[-40:], "```"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (writes .bench-cache/RESULTS-quick.md)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHES), help="run only these benchmarks")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="DIR",
        help="run nothing: write RESULTS.md from the results directory of an earlier run",
    )
    args = parser.parse_args(argv)
    out = args.render or run_all(args.only or list(BENCHES), args.quick)
    quick = json.loads((out / "run.json").read_text())["quick"]
    target = CACHE / "RESULTS-quick.md" if quick else BENCH / "RESULTS.md"
    target.write_text(render(out))
    outcomes = [json.loads(path.read_text()) for path in out.glob("*.outcome.json")]
    print(f"Wrote {target.relative_to(ROOT)} ({sum(o['seconds'] for o in outcomes) / 60:.1f} min of benchmarks)")
    return max((o["code"] for o in outcomes), default=0)


if __name__ == "__main__":
    sys.exit(main())
