"""Throwaway service processes for tests: a PostgreSQL cluster and a Redis server on free loopback ports.

Each server lives in its own temporary directory (data, unix socket, log) and is stopped and deleted at the end,
so a test run leaves nothing behind and never touches a system-wide service. Both bind to 127.0.0.1 only.
PostgreSQL's `initdb` refuses to run as root, so under root the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_SUPERUSER = "postgres"
PG_DATABASE = "helpdesk"
# Durability is worthless for a database that is deleted after the run; these settings make it several times faster.
PG_FAST_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "64MB",
}


class ServiceUnavailable(RuntimeError):
    """The binaries of a service are not installed (or it would not start); tests needing it skip or fail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`, or raise ServiceUnavailable."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ServiceUnavailable(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def find_postgres_bin() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`: $PG_BINDIR, the newest Debian install, or the PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    which = shutil.which("initdb")
    candidates += [str(Path(which).resolve().parent)] if which else []
    candidates += ["/usr/local/bin", "/usr/local/pgsql/bin"]
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").is_file() and (Path(candidate) / "pg_ctl").is_file():
            return Path(candidate)
    return None


def _version_key(path: str) -> int:
    version = Path(path).parent.name
    return int(version) if version.isdigit() else 0


def find_redis_server() -> str | None:
    """The `redis-server` binary, or None when Redis is not installed."""
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.access(p, os.X_OK)), None
    )


def _run_as(user: str | None, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run `command` (as `user` when given, through runuser), raising ServiceUnavailable with its output on failure."""
    if user:
        command = ["runuser", "-u", user, "--", *command]
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise ServiceUnavailable(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result


def _postgres_os_user() -> str | None:
    """None when we may run PostgreSQL ourselves; the unprivileged user to run it as when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SUPERUSER)
    except KeyError:
        _run_as(None, ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SUPERUSER])
    return PG_SUPERUSER


@dataclass
class PostgresCluster:
    """A PostgreSQL cluster made by initdb in a temporary directory, reachable on 127.0.0.1:`port` with trust auth."""

    bindir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="helpdesk-pg-")))
    port: int = 0
    os_user: str | None = None

    @property
    def url(self) -> str:
        """The DATABASE_URL of the cluster's `helpdesk` database (superuser, so test databases can be created)."""
        return f"postgres://{PG_SUPERUSER}@127.0.0.1:{self.port}/{PG_DATABASE}"

    def start(self) -> PostgresCluster:
        self.os_user = _postgres_os_user()
        self.root.chmod(0o755)
        if self.os_user:
            pw = pwd.getpwnam(self.os_user)
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        data = self.root / "data"
        _run_as(
            self.os_user,
            [
                str(self.bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                PG_SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ],
            cwd=self.root,
        )
        self._write_settings(data)
        self._pg_ctl_start(data)
        _run_as(
            self.os_user,
            [str(self.bindir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", PG_SUPERUSER, PG_DATABASE],
            cwd=self.root,
        )
        return self

    def _write_settings(self, data: Path) -> None:
        self.port = self.port or free_port()
        settings = {**PG_FAST_SETTINGS, "port": str(self.port), "unix_socket_directories": f"'{self.root}'"}
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("\n# helpdesk test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _pg_ctl_start(self, data: Path) -> None:
        log = self.root / "postgres.log"
        try:
            _run_as(
                self.os_user,
                [str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "start"],
                cwd=self.root,
            )
        except ServiceUnavailable as exc:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServiceUnavailable(f"{exc}\n{tail}") from exc
        wait_for_port(self.port)

    def halt(self, mode: str = "fast") -> None:
        """Stop the server and keep its data (`pg_ctl stop -m fast`: sessions are disconnected, as in a restart)."""
        _run_as(
            self.os_user,
            [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w", "stop"],
            cwd=self.root,
        )

    def resume(self) -> None:
        """Start a halted server again, on the same port and data."""
        self._pg_ctl_start(self.root / "data")

    def stop(self) -> None:
        """Stop the server at once (no checkpoint: the data is thrown away) and delete the directory."""
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            try:
                _run_as(
                    self.os_user,
                    [str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                    cwd=self.root,
                )
            except ServiceUnavailable:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresCluster:
    """Start a throwaway cluster, or raise ServiceUnavailable when PostgreSQL is not installed or will not start."""
    bindir = find_postgres_bin()
    if bindir is None:
        raise ServiceUnavailable("PostgreSQL is not installed (no initdb/pg_ctl; apt-get install postgresql)")
    cluster = PostgresCluster(bindir=bindir)
    try:
        return cluster.start()
    except BaseException:
        cluster.stop()
        raise


@dataclass
class RedisServer:
    """A Redis server without persistence on 127.0.0.1:`port`, running as our child process."""

    binary: str
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="helpdesk-redis-")))
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.port = self.port or free_port()
        command = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.root),
            "--logfile",
            str(self.root / "redis.log"),
            "--daemonize",
            "no",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port)
        except ServiceUnavailable:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate our own redis-server process (by its pid) and delete its directory."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start_redis() -> RedisServer:
    """Start a throwaway Redis, or raise ServiceUnavailable when redis-server is not installed or will not start."""
    binary = find_redis_server()
    if binary is None:
        raise ServiceUnavailable("Redis is not installed (no redis-server; apt-get install redis-server)")
    return RedisServer(binary=binary).start()
