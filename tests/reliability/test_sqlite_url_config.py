"""One SQLite configuration however the file is named (issue 11, finding 6): `DATABASE_URL=sqlite:///…` gets the same
WAL, IMMEDIATE transactions and busy timeout as the default SQLITE_PATH, so gunicorn's workers posting messages
concurrently into one file all get 201s, never a 500 "database is locked". The concurrent check prints its counts."""

import json
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.infra.plugin import database_vendor
from tests.workflows.procs import PYTHON, ROOT, Gunicorn, migrate, project_env

POSTS = 100
THREADS = 16
SHOW_DATABASE = "import json; from django.conf import settings; print(json.dumps(settings.DATABASES['default']))"
SEED = """
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from conversations import services
from conversations.roles import MANAGERS_GROUP, ensure_roles
ensure_roles()
user = User.objects.create_user("manager", password="x", is_staff=True)
user.groups.add(Group.objects.get(name=MANAGERS_GROUP))
contact = services.contact_create(name="Grace Hopper", email="grace@example.com")
conversation = services.conversation_open(contact=contact, channel="email", subject="Busy")
print(Token.objects.create(user=user).key, conversation.pk)
"""


def shell(env: dict[str, str], code: str) -> str:
    """Run Python in a Django process on `env`'s settings; return the last line it printed."""
    result = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_a_sqlite_database_url_gets_the_same_options_as_the_default_path(tmp_path):
    by_path = json.loads(shell(project_env(sqlite_path=tmp_path / "a.sqlite3"), SHOW_DATABASE))
    by_url = json.loads(shell(project_env(database_url=f"sqlite:///{tmp_path / 'b.sqlite3'}"), SHOW_DATABASE))
    assert by_url["NAME"] == str(tmp_path / "b.sqlite3")
    assert by_url["OPTIONS"] == by_path["OPTIONS"]
    assert by_url["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in by_url["OPTIONS"]["init_command"]
    assert by_url["OPTIONS"]["timeout"] >= 20
    assert (by_url["CONN_MAX_AGE"], by_url["CONN_HEALTH_CHECKS"]) == (by_path["CONN_MAX_AGE"], True)


def post_message(url: str, token: str, number: int) -> int:
    body = json.dumps({"body": f"Message {number}", "sender_type": "customer"}).encode()
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json", "Authorization": f"Token {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.services
def test_concurrent_message_posts_on_a_sqlite_database_url_never_fail(tmp_path):
    if database_vendor() != "sqlite":
        pytest.skip("a SQLite-file scenario: the SQLite pass runs it")
    env = project_env(database_url=f"sqlite:///{tmp_path / 'helpdesk.sqlite3'}")
    migrate(env)
    token, conversation = shell(env, SEED).split()
    with Gunicorn(env, tmp_path / "gunicorn.log", workers=2) as server:
        url = f"{server.base_url}/api/conversations/{conversation}/messages/"
        started = time.monotonic()
        with ThreadPoolExecutor(THREADS) as pool:
            statuses = list(pool.map(lambda number: post_message(url, token, number), range(POSTS)))
        elapsed = time.monotonic() - started
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    print(
        f"\n{POSTS} concurrent message posts ({THREADS} threads, gunicorn -w 2, DATABASE_URL=sqlite:///…): "
        f"{counts} in {elapsed:.1f} s"
    )
    assert counts == {201: POSTS}, (counts, (tmp_path / "gunicorn.log").read_text(errors="replace")[-2000:])
    stored = shell(
        env,
        f"from conversations.models import Message; print(Message.objects.filter("
        f"conversation_id={conversation}).count())",
    )
    assert int(stored) == POSTS
