"""A throwaway dovecot IMAP server for tests (Debian's dovecot-imapd), on a free loopback port, in a temp dir.

Its own config (`dovecot -c FILE`): plaintext login without TLS on 127.0.0.1 only, one user from a passwd-file
whose mail lives in a Maildir owned by `nobody` (dovecot's mail processes refuse root). Stopped by the pid in its
own master.pid and deleted afterwards, so no system service is touched. Runs as root (as CI does); elsewhere it is
unavailable and the tests needing it skip (or fail under REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.infra.servers import ServiceUnavailable, free_port, wait_for_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "support", "imap-secret"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = passwd-file
  args = {root}/users
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@dataclass
class DovecotServer:
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-")))
    port: int = 0
    user: str = USER
    password: str = PASSWORD

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self) -> DovecotServer:
        if not Path(DOVECOT).exists():
            raise ServiceUnavailable("dovecot is not installed (apt-get install dovecot-imapd)")
        if os.geteuid() != 0:
            raise ServiceUnavailable("the throwaway dovecot needs root (its mail processes switch to nobody)")
        self.port = self.port or free_port()
        uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        self.root.chmod(0o755)
        home = self.root / "home"
        home.mkdir()
        os.chown(home, uid, gid)
        (self.root / "users").write_text(f"{self.user}:{{PLAIN}}{self.password}:{uid}:{gid}::{home}::\n")
        (self.root / "dovecot.conf").write_text(CONFIG.format(root=self.root, port=self.port))
        # The master daemonizes; its output goes to a file (a pipe would stay open in the children).
        with open(self.root / "start.log", "wb") as log:
            result = subprocess.run(
                [DOVECOT, "-c", str(self.root / "dovecot.conf")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=30,
            )
        if result.returncode != 0:
            reason = (self.root / "start.log").read_text(errors="replace").strip()[:300]
            self.stop()
            raise ServiceUnavailable(f"dovecot would not start: {reason}")
        try:
            wait_for_port(self.port)
        except ServiceUnavailable:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop our own dovecot master by the pid in its master.pid, then delete its directory."""
        pid_file = self.root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_dovecot() -> DovecotServer:
    """Start a throwaway dovecot, or raise ServiceUnavailable."""
    return DovecotServer().start()
