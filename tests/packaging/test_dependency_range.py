"""The `[project]` ranges of pyproject.toml hold at both ends: a fresh virtualenv gets every floor of the ranges
(Django 5.2.0, DRF 3.15.2, ...: `pip install --no-deps name==floor`, from the package index pip is configured with)
over the tested set of this venv (a .pth line, as tests/packaging/test_wheel.py does), and runs a part of the suite
that goes through the API, the engine, the admin and the system checks; then the same with the newest Django the
range allows.

What this proves and what it does not: each *direct* dependency at its floor, with today's versions of their own
dependencies (pip's resolver has no "lowest" mode), on SQLite. The whole suite runs on requirements.txt's pins.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from tests.infra.plugin import require_service

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
# The part of the suite run at each end: API and services, a workflow run through the engine, admin pages, the
# system checks, the reports' SQL and the extras.
SUITE = [
    "tests/test_admin_polish.py",
    "tests/conversations/test_setting_checks.py",
    "tests/test_extras.py",
    "tests/workflows/api/test_api_runs.py",
    "tests/reports/test_api_report.py",
]


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def floors() -> dict[str, str]:
    """{name: lowest allowed version} of every direct dependency and of the extras the tests use."""
    specs = [
        *project()["dependencies"],
        *(spec for name in ("speech", "oauth2", "sentiment") for spec in project()["optional-dependencies"][name]),
    ]
    found = {}
    for spec in specs:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?>=([^,]+),.*", spec)
        assert match, f"{spec!r} is not a library-style range (name>=floor,<cap)"
        found[match[1]] = match[2]
    return found


def overlay_venv(tmp_path: Path, requirements: list[str]) -> Path:
    """A venv whose own site-packages hold `requirements` (no dependencies) in front of this venv's packages."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site_packages / "tested-set.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            "--disable-pip-version-check",
            *requirements,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    require_service(f"the package index for {requirements}", installed.returncode == 0)
    return python


def versions(python: Path, names: list[str]) -> dict[str, str]:
    code = "import importlib.metadata as m, json, sys; print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    import json

    return json.loads(
        subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True, check=True).stdout
    )


def run_suite(python: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider", *SUITE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_dependency_is_a_range_with_a_floor_below_the_pin_and_a_cap():
    pins = dict(
        line.split("==")
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    pins = {name.split("[")[0].lower(): version for name, version in pins.items()}
    for name, floor in floors().items():
        pinned = pins.get(name.lower())
        assert pinned, f"{name} has no exact pin in requirements.txt (the demo's tested set)"
        as_tuple = [tuple(int(part) for part in re.findall(r"\d+", version)) for version in (floor, pinned)]
        assert as_tuple[0] <= as_tuple[1], f"{name}: floor {floor} above the pin {pinned}"


def test_the_suite_passes_with_every_dependency_at_its_floor(tmp_path):
    wanted = floors()
    python = overlay_venv(tmp_path, [f"{name}=={version}" for name, version in wanted.items()])
    assert versions(python, ["Django", "djangorestframework", "django-q2"]) == {
        name: wanted[name] for name in ("Django", "djangorestframework", "django-q2")
    }
    result = run_suite(python)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def test_the_suite_passes_with_the_newest_django_the_range_allows(tmp_path):
    [django_range] = [spec for spec in project()["dependencies"] if spec.startswith("Django>=")]
    python = overlay_venv(tmp_path, [django_range])
    newest = versions(python, ["Django"])["Django"]
    assert newest.startswith("5.")
    result = run_suite(python)
    assert result.returncode == 0, f"Django {newest}:\n" + result.stdout[-6000:] + result.stderr[-3000:]
