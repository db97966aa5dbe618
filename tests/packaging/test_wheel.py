"""The installable module end to end: the wheel built from pyproject.toml, installed into a fresh virtualenv next to
a minimal host Django project (tests/packaging/host/: its own settings and urls, nothing of helpdesk/), migrates,
takes a workflow and a customer message through the API, and `manage.py qcluster` runs the workflow.

Offline: the wheel is built with the current venv's setuptools (`--no-build-isolation --no-index`), and the fresh
venv gets Django and the other dependencies from the current venv's site-packages through a .pth line, so only
the three apps come from the wheel. Every step runs in a subprocess whose cwd is the host project, with no
PYTHONPATH, so the repository is not importable there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import dj_database_url
import psycopg
import pytest

from tests.infra.plugin import require_service

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
HOST = Path(__file__).resolve().parent / "host"
APPS = ("conversations", "sla", "reports", "workflows", "inboxes")
RUN_SECONDS = 180


def package_files(source: Path) -> set[str]:
    """Every file of the apps in `source` that belongs in the wheel (their code, migrations, templates, data)."""
    return {
        str(path.relative_to(source))
        for app in APPS
        for path in (source / app).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the sources (a build writes build/ and *.egg-info next to them)."""
    require_service("wheel (the build backend's bdist_wheel)", importlib.util.find_spec("wheel") is not None)
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source / name)
    for app in APPS:
        shutil.copytree(ROOT / app, source / app, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = source / "dist"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            str(dist),
            str(source),
        ],
        cwd=source,
    )
    [built] = dist.glob("django_helpdesk_workflows-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_python(wheel, tmp_path_factory) -> Path:
    """A new venv's python with the wheel installed; third-party packages come from this venv's site-packages."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site_packages = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    (site_packages / "main-venv-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])
    return python


@pytest.fixture
def host_database(monkeypatch) -> Iterator[None]:
    """In the PostgreSQL pass (DATABASE_URL set), a new database of that cluster for the host project, dropped
    afterwards; in the SQLite pass the host project keeps its own SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield
        return
    name = f"host_wheel_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    monkeypatch.setenv("HOST_DATABASE", json.dumps({**dj_database_url.parse(url), "NAME": name}))
    yield
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def host_project(tmp_path, host_database) -> Path:
    """The minimal host project, copied to a temporary directory."""
    shutil.copytree(HOST, tmp_path / "host", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "host"


def host_env() -> dict[str, str]:
    """The environment without anything that would put the repository or the demo project's settings in play."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")
        and not key.startswith("HELPDESK_")
    }


def run(command: list[str], cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a command to completion; a failure shows its output."""
    result = subprocess.run(command, cwd=cwd, env=host_env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (
        f"{command} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def last_json(result: subprocess.CompletedProcess) -> dict:
    """The JSON line a host script prints last."""
    return json.loads(result.stdout.strip().splitlines()[-1])


def stop(worker: subprocess.Popen) -> None:
    """SIGTERM to qcluster's main PID (its process group would hang it), SIGKILL if it has not stopped after 30 s."""
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def run_worker_until_done(python: Path, host: Path, scenario: dict, script: list[str] | None = None) -> dict:
    """`manage.py qcluster` while a host script works (by default: wait for the run to finish); what it printed."""
    script = script or [
        "wait_for_run.py",
        str(scenario["workflow"]),
        str(scenario["conversation"]),
        scenario["token"],
        str(RUN_SECONDS),
    ]
    log = open(host / "qcluster.log", "wb")  # noqa: SIM115 (the worker writes to it until the finally below)
    worker = subprocess.Popen(
        [str(python), "manage.py", "qcluster"], cwd=host, env=host_env(), stdout=log, stderr=subprocess.STDOUT
    )
    try:
        return last_json(run([str(python), *script], cwd=host, timeout=RUN_SECONDS + 60))
    finally:
        stop(worker)
        log.close()


def test_the_wheel_holds_every_file_of_the_apps(wheel):
    """Migrations, templates, static files and the gallery's JSON are all in the wheel, and nothing of helpdesk/."""
    with zipfile.ZipFile(wheel) as archive:
        packaged = {name for name in archive.namelist() if ".dist-info/" not in name}
    assert packaged == package_files(ROOT)


def test_a_host_project_runs_a_workflow_from_the_installed_wheel(fresh_python, host_project):
    run([str(fresh_python), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=host_project)
    scenario = last_json(run([str(fresh_python), "scenario.py"], cwd=host_project))
    venv = fresh_python.parent.parent
    assert scenario["database"] == ("postgresql" if os.environ.get("HOST_DATABASE") else "sqlite")

    assert all(Path(path).is_relative_to(venv) for path in scenario["apps"]), scenario["apps"]
    assert Path(scenario["template"]).is_relative_to(venv) and Path(scenario["static"]).is_relative_to(venv)
    assert scenario["gallery"], "the workflow gallery (JSON files in the wheel) is empty"
    assert set(scenario["admin_pages"].values()) == {200}, scenario["admin_pages"]
    # The banner, the API access page and the list styles come from the installed apps, not the demo project.
    chrome = scenario["chrome"]
    assert {key: chrome[key] for key in ("banner", "api_access_link", "list_styles", "api_access_page")} == {
        "banner": True,
        "api_access_link": True,
        "list_styles": True,
        "api_access_page": 200,
    }, chrome
    assert all(Path(name).is_relative_to(venv) for name in chrome["templates"]), chrome

    seen = run_worker_until_done(fresh_python, host_project, scenario)
    [workflow_run] = seen["runs"]
    assert workflow_run["status"] == "succeeded", (workflow_run, (host_project / "qcluster.log").read_text()[-3000:])
    assert scenario["tag"] in seen["conversation"]["tags"]

    # 100 more posts while the worker drains, on the host's own database settings (startproject's, for SQLite).
    seen = run_worker_until_done(
        fresh_python,
        host_project,
        scenario,
        [
            "post_many.py",
            str(scenario["workflow"]),
            str(scenario["conversation"]),
            scenario["token"],
            "100",
            str(RUN_SECONDS),
        ],
    )
    log = (host_project / "qcluster.log").read_text()
    assert seen == {"answers": {"201": 100}, "runs": {"succeeded": 101}}, (seen, log[-3000:])
    assert "database is locked" not in log


def test_the_wheel_carries_the_one_version_and_the_license(wheel):
    """The version comes from conversations.__version__ and the license travels as metadata and as a file."""
    import conversations

    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        text = archive.read(metadata).decode()
        assert any(name.endswith("LICENSE") for name in archive.namelist())
    assert f"Version: {conversations.__version__}\n" in text
    assert "License: BSD-3-Clause\n" in text
    assert "Classifier: License :: OSI Approved :: BSD License\n" in text


def test_heavy_libraries_are_extras_and_the_rest_are_ranges(wheel):
    """pocketsphinx, Authlib, vaderSentiment, psycopg and redis come only with their extras; every requirement of the
    package has a floor and a cap (tests/packaging/test_dependency_range.py runs the suite at the floors)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        lines = archive.read(metadata).decode().splitlines()
    extras = {line.split(": ", 1)[1] for line in lines if line.startswith("Provides-Extra: ")}
    assert {"speech", "oauth2", "sentiment", "slack", "postgres", "redis", "all"} <= extras
    requires = [line.split(": ", 1)[1] for line in lines if line.startswith("Requires-Dist: ")]
    base = [spec for spec in requires if "extra ==" not in spec]
    assert not [
        spec
        for spec in base
        if spec.lower().startswith(("pocketsphinx", "authlib", "vadersentiment", "psycopg", "redis", "slack"))
    ], base
    assert all(">=" in spec and "<" in spec for spec in base), base
    assert any(spec.startswith("pocketsphinx") and 'extra == "speech"' in spec for spec in requires), requires
