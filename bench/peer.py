"""The peers our API figures are compared with, served like ours (gunicorn -w 2, SQLite in WAL mode, loopback only).

- django-helpdesk 2.6.1 from PyPI, installed by the bench into a venv of its own under the git-ignored
  .bench-cache/ (pinned, reused while the pins do not change), in a tiny project with its REST API on.
- A bare DRF project: one model, a create that is one INSERT, a plain paginated list — the floor any API with auth
  and JSON over the same stack can reach. It runs on our own venv (same Django and DRF as ours).

Each peer is a Django project written into a throwaway directory, migrated and seeded by its own interpreter
(`bulk_create`, never API calls, for the 100k-row lists). `python bench/peer.py` only installs the django-helpdesk
venv and says where it is; `make bench` calls it before timing anything, so the install is never timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from common import CACHE, warm_up

from tests.workflows.procs import Gunicorn

HELPDESK_VERSION = "2.6.1"
# `pip freeze` of a venv where `pip install django-helpdesk==2.6.1 gunicorn` resolved (Django as ours).
HELPDESK_REQUIREMENTS = [
    f"django-helpdesk=={HELPDESK_VERSION}",
    "Django==5.2.19",
    "djangorestframework==3.18.3",
    "gunicorn==27.0.1",
    "asgiref==3.13.0",
    "beautifulsoup4==4.15.0",
    "certifi==2026.10.19.post1",
    "charset-normalizer==3.5.3",
    "django-cleanup==9.0.0",
    "django-model-utils==5.0.0",
    "email-reply-parser==0.5.12",
    "idna==3.20",
    "Markdown==3.11.3",
    "nh3==0.3.8",
    "oauthlib==4.0.1",
    "requests==2.34.2",
    "requests-oauthlib==2.0.0",
    "soupsieve==4.1.3",
    "sqlparse==0.6.1",
    "typing_extensions==4.16.0",
    "urllib3==2.8.0",
]
HELPDESK_VENV = CACHE / f"django-helpdesk-{HELPDESK_VERSION}"

# Shared by both peers: the same database setup as helpdesk/settings.py (WAL, busy timeout, kept connections).
SETTINGS = """
import os
SECRET_KEY = "bench-peer-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
ROOT_URLCONF = "peerproject.urls"
WSGI_APPLICATION = "peerproject.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
INSTALLED_APPS = ["django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
                  "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
                  "rest_framework", "rest_framework.authtoken"] + EXTRA_APPS
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware",
              "django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.common.CommonMiddleware",
              "django.middleware.csrf.CsrfViewMiddleware", "django.contrib.auth.middleware.AuthenticationMiddleware",
              "django.contrib.messages.middleware.MessageMiddleware"]
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True,
              "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                                 "django.contrib.auth.context_processors.auth",
                                                 "django.contrib.messages.context_processors.messages"]}}]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PEER_SQLITE_PATH"],
    "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True,
    "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
}}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
"""

WSGI = """
import os
from django.core.wsgi import get_wsgi_application
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerproject.settings")
application = get_wsgi_application()
"""

# Run by the peer's interpreter: `python tool.py <command> <json args>`; prints its JSON result.
TOOL = """
import json, sys
import django
django.setup()
from django.core.management import call_command
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

def migrate():
    call_command("migrate", verbosity=0)
    return {}

def superuser():
    user = User.objects.create_superuser("bench", "bench@example.com", "bench-pw")
    return {"token": Token.objects.create(user=user).key, "user": user.pk}

COMMANDS
print(json.dumps(globals()[sys.argv[1]](*json.loads(sys.argv[2]))), flush=True)
"""

HELPDESK_PROJECT = {
    "settings_extra": """
EXTRA_APPS = ["django.contrib.sites", "django.contrib.humanize", "helpdesk"]
SITE_ID = 1
HELPDESK_TEAMS_MODE_ENABLED = False
""",
    "urls": """
from django.urls import include, path
urlpatterns = [path("", include("helpdesk.urls"))]
""",
    "commands": '''
def setup():
    from helpdesk.models import Queue
    queue = Queue.objects.create(title="Support", slug="support")
    return {**superuser(), "queue": queue.pk}

def seed(target, queue):
    """Old tickets up to `target`, 5,000 per bulk INSERT."""
    from datetime import timedelta
    from django.utils import timezone
    from helpdesk.models import Ticket
    now, existing = timezone.now(), Ticket.objects.count()
    while existing < target:
        count = min(5000, target - existing)
        Ticket.objects.bulk_create(
            Ticket(queue_id=queue, title=f"Old case {existing + n}", description="My invoice is wrong",
                   submitter_email=f"old{existing + n}@example.com", status=1 + (existing + n) % 4,
                   priority=1 + (existing + n) % 5, created=now - timedelta(minutes=existing + n + 1),
                   modified=now - timedelta(minutes=existing + n + 1))
            for n in range(count))
        existing += count
    return {"tickets": existing}
''',
}

BARE_PROJECT = {
    "settings_extra": """
EXTRA_APPS = ["bare"]
""",
    "urls": """
from django.urls import path
from rest_framework import generics, pagination, serializers
from bare.models import Item

class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "title", "status", "priority", "created_at"]

class Page(pagination.PageNumberPagination):
    page_size = 50

class Items(generics.ListCreateAPIView):
    queryset = Item.objects.order_by("-id")
    serializer_class = ItemSerializer
    pagination_class = Page

urlpatterns = [path("items/", Items.as_view())]
""",
    "commands": '''
def setup():
    return superuser()

def seed(target):
    """Rows up to `target`, 5,000 per bulk INSERT."""
    from bare.models import Item
    existing = Item.objects.count()
    while existing < target:
        count = min(5000, target - existing)
        Item.objects.bulk_create(Item(title=f"Old case {existing + n}", status="open", priority="normal")
                                 for n in range(count))
        existing += count
    return {"items": existing}
''',
    "files": {
        "bare/__init__.py": "",
        "bare/models.py": """
from django.db import models
from django.utils import timezone

class Item(models.Model):
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20)
    priority = models.CharField(max_length=10)
    created_at = models.DateTimeField(default=timezone.now)
""",
        "bare/migrations/__init__.py": "",
        "bare/migrations/0001_initial.py": """
import django.utils.timezone
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.CreateModel(name="Item", fields=[
        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
        ("title", models.CharField(max_length=200)),
        ("status", models.CharField(max_length=20)),
        ("priority", models.CharField(max_length=10)),
        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
    ])]
""",
    },
}


def ensure_helpdesk_venv() -> str:
    """The python of a venv holding the pinned django-helpdesk; created (about 10 s) only when missing or stale."""
    python = HELPDESK_VENV / "bin" / "python"
    marker = HELPDESK_VENV / ".installed"
    wanted = "\n".join(HELPDESK_REQUIREMENTS)
    if marker.exists() and marker.read_text() == wanted and python.exists():
        return str(python)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(HELPDESK_VENV)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *HELPDESK_REQUIREMENTS], check=True
    )
    marker.write_text(wanted)
    return str(python)


class PeerProject:
    """One peer Django project in `workdir`: written, migrated, set up, seeded and served by `python`."""

    def __init__(self, name: str, spec: dict, python: str, workdir: Path) -> None:
        self.name, self.spec, self.python = name, spec, python
        self.dir = workdir / name
        self.server: Gunicorn | None = None
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "DJANGO_SETTINGS_MODULE": "peerproject.settings",
            "PYTHONPATH": str(self.dir),
            "PEER_SQLITE_PATH": str(self.dir / "peer.sqlite3"),
        }

    @property
    def base_url(self) -> str:
        assert self.server is not None, "start() the peer first"
        return self.server.base_url

    def write(self) -> None:
        files = {
            "peerproject/__init__.py": "",
            "peerproject/wsgi.py": WSGI,
            "peerproject/settings.py": self.spec["settings_extra"] + SETTINGS,
            "peerproject/urls.py": self.spec["urls"],
            "tool.py": TOOL.replace("COMMANDS", self.spec["commands"]),
            **self.spec.get("files", {}),
        }
        for relative, text in files.items():
            path = self.dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip())

    def tool(self, command: str, *args: object, timeout: float = 300) -> dict:
        """Run one command of the project's tool.py in the peer's interpreter and return its JSON result."""
        result = subprocess.run(
            [self.python, "tool.py", command, json.dumps(args)],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{self.name} {command} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    def prepare(self) -> dict:
        """Write, migrate and set up the project (a superuser with a token, plus what the peer needs)."""
        self.write()
        self.tool("migrate")
        return self.tool("setup")

    def start(self) -> PeerProject:
        self.server = Gunicorn(
            self.env, self.dir / "gunicorn.log", python=self.python, app="peerproject.wsgi:application", cwd=self.dir
        ).start(timeout=90)
        warm_up(self.server.base_url)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


def helpdesk_peer(workdir: Path) -> PeerProject:
    """django-helpdesk 2.6.1 with its REST API (tickets, follow-ups) as a superuser sees it."""
    return PeerProject("django-helpdesk", HELPDESK_PROJECT, ensure_helpdesk_venv(), workdir)


def bare_peer(workdir: Path) -> PeerProject:
    """The bare DRF floor, on our own interpreter (same Django, DRF and gunicorn)."""
    return PeerProject("bare-drf", BARE_PROJECT, sys.executable, workdir)


if __name__ == "__main__":
    print(f"django-helpdesk {HELPDESK_VERSION} venv ready: {ensure_helpdesk_venv()}")
