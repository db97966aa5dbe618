"""A host project's settings as a team that already runs Django has them, plus the helpdesk apps, their urls and
Q_CLUSTER: no HELPDESK_* setting, no REST_FRAMEWORK, nothing from the helpdesk demo project."""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "host-project-secret-key-for-the-packaging-test-0123456789"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]

INSTALLED_APPS = [
    # The helpdesk apps first: their admin/base_site.html (delivery banner, API access link, list styles) must win
    # over django.contrib.admin's (docs/operations.md; check helpdesk.W002 otherwise).
    "conversations",
    "sla",
    "workflows",
    "reports",
    "inboxes",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "django_q",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "hostproject.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
# startproject's SQLite file, options untouched (the apps tune SQLite themselves: conversations/sqlite_tuning.py);
# the packaging test's PostgreSQL pass gives a database of the throwaway cluster as HOST_DATABASE.
DATABASES = {
    "default": json.loads(os.environ["HOST_DATABASE"])
    if os.environ.get("HOST_DATABASE")
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}
}
USE_TZ = True
STATIC_URL = "static/"

# The task queue the helpdesk's events and runs go through: django-q2 on the database.
Q_CLUSTER = {"name": "host", "orm": "default", "workers": 1, "timeout": 60, "retry": 90, "max_attempts": 3, "poll": 0.2}
