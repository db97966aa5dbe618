"""Project settings, read from the environment.

With no environment set, the embedded default is SQLite plus django-q2's ORM broker, so `make run` works on a
bare machine. `DATABASE_URL` (PostgreSQL) and `REDIS_URL` switch to the scale-out setup.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy

from conversations.api.schema_settings import SCHEMA_CLASS, spectacular_settings
from helpdesk.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    """Read a boolean flag from the environment ("1", "true", "yes", "on" are true)."""
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Read an integer from the environment, falling back to the default when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str) -> list[str]:
    """Read a comma-separated list from the environment."""
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-key-change-me-in-production-0123456789")
DEBUG = env_bool("DEBUG", default=False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or ["localhost", "127.0.0.1", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "conversations",
    "sla",
    "workflows",
    "reports",
    "inboxes",
    # After the helpdesk apps, so their admin/base_site.html (banner, API access link, list styles) is the one used.
    "django.contrib.admin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # Accept-Language picks admin's and the API's language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "conversations.middleware.UserTimeZoneMiddleware",  # admin times in the viewer's zone (My preferences)
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "helpdesk.wsgi.application"

DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()


def sqlite_tuned(database: dict) -> dict:
    """The one SQLite configuration, whether the file is named by SQLITE_PATH or by a `sqlite:///` DATABASE_URL.

    WAL + a busy timeout let the web server and the worker share the file without "database is locked"; IMMEDIATE
    transactions take the write lock at BEGIN, so two writers queue on the timeout instead of one failing at once
    when it upgrades a read lock. Any other engine is returned unchanged.
    """
    if database.get("ENGINE") != "django.db.backends.sqlite3":
        return database
    options = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    return {**database, "OPTIONS": {**options, **database.get("OPTIONS", {})}}


def database_from_env() -> dict:
    """`DATABASE_URL` (PostgreSQL, or SQLite) when set, else the SQLite file at SQLITE_PATH."""
    # Keep connections: django-q2's ORM broker calls close_old_connections() on every enqueue, which with the
    # default CONN_MAX_AGE=0 reopens the database (and re-runs the PRAGMAs) for each event.
    conn_max_age = env_int("HELPDESK_CONN_MAX_AGE", 60)
    if DATABASE_URL:
        database = dj_database_url.parse(DATABASE_URL, conn_max_age=conn_max_age, conn_health_checks=True)
    else:
        database = {
            "ENGINE": "django.db.backends.sqlite3",
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
        }
    return sqlite_tuned(database)


DATABASES = {"default": database_from_env()}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en-us")
# The languages admin and the API speak (Accept-Language, or a person's "My preferences").
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
# The project's own strings (admin site title, root templates); every app ships its catalog in its locale/ folder.
LOCALE_PATHS = [BASE_DIR / "helpdesk" / "locale"]
USE_TZ = True
# One date/time format in admin, with the zone's abbreviation (helpdesk/formats/en/formats.py).
FORMAT_MODULE_PATH = "helpdesk.formats"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media")))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "helpdesk@localhost")
# The SMTP server answers leave through (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend); an inbox may
# name its own server instead (docs/channels.md).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
HELPDESK_SITE_URL = SITE_URL  # the base of links the apps send (conversations/conf.py lists every HELPDESK_*)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "conversations.api.authentication.TokenAuthentication",  # DRF's, reading the role groups along with the user
        "conversations.api.authentication.BearerTokenAuthentication",  # the same token as `Bearer <key>`
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON bodies only; the views where files travel (recordings, messages) add multipart themselves.
    "DEFAULT_PARSER_CLASSES": ["conversations.api.parsers.SafeJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "conversations.api.base.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": SCHEMA_CLASS,  # operationIds named for what they do
    "EXCEPTION_HANDLER": "conversations.api.base.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",  # the API reads JSON bodies (multipart only where files travel)
}

SPECTACULAR_SETTINGS = spectacular_settings(  # the apps' own schema settings (conversations/api/schema_settings.py)
    SWAGGER_UI_DIST="SIDECAR",
    SWAGGER_UI_FAVICON_HREF="SIDECAR",
    REDOC_DIST="SIDECAR",
)

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
# timeout < retry, or django-q2 hands a running task out twice; max_attempts bounds a poison task.
Q_CLUSTER = {
    "name": "helpdesk",
    "workers": env_int("HELPDESK_Q_WORKERS", 2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "ack_failures": True,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    "poll": 0.2,
    # No successful result is saved (each saved one made django-q2 load up to save_limit rows to prune the oldest, on
    # every wake-up); failures still are. The supervisor sees finished tasks on its heartbeat file instead.
    "save_limit": -1,
    # A worker warms up once when it starts (workflows/engine/warmup.py) and is replaced after this many tasks, or
    # once its peak memory passes max_rss (KB): every wake-up is a task, so django-q2's default of 500 threw the
    # warm state away every few minutes of trickling messages (docs/operations.md "What a run costs").
    "recycle": env_int("HELPDESK_Q_RECYCLE", 5000),
    "max_rss": env_int("HELPDESK_Q_MAX_RSS_MB", 512) * 1024,
    "label": gettext_lazy("Task queue"),
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# Product settings (docs/reference/settings.md): all overridable from the environment.
# Admin messages live in the session, not a cookie: a webhook secret shown once must not travel in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

HELPDESK_OUTBOUND_ALLOWLIST = env_list("HELPDESK_OUTBOUND_ALLOWLIST")
# Fernet keys for integration secrets, newest first (rotation: prepend a new key, keep the old ones).
HELPDESK_ENCRYPTION_KEYS = env_list("HELPDESK_ENCRYPTION_KEYS")
HELPDESK_OUTBOUND_TIMEOUT_SECONDS = env_int("HELPDESK_OUTBOUND_TIMEOUT_SECONDS", 15)
HELPDESK_SLACK_BASE_URL = os.environ.get("HELPDESK_SLACK_BASE_URL", "https://slack.com/api/")
# `send_survey` with `via: sms` sends through this SMS integration, sender number and provider ("http" or "twilio")
# unless the step names its own.
HELPDESK_SMS_INTEGRATION = os.environ.get("HELPDESK_SMS_INTEGRATION", "")
HELPDESK_SMS_SENDER = os.environ.get("HELPDESK_SMS_SENDER", "")
HELPDESK_SMS_PROVIDER = os.environ.get("HELPDESK_SMS_PROVIDER", "http")
HELPDESK_MAX_DEPTH = env_int("HELPDESK_MAX_DEPTH", 3)
HELPDESK_RETENTION_DAYS = env_int("HELPDESK_RETENTION_DAYS", 0)
# Replay ("try on history"): recorded events one worker task evaluates before it enqueues the next chunk.
HELPDESK_REPLAY_CHUNK_EVENTS = env_int("HELPDESK_REPLAY_CHUNK_EVENTS", 500)
HELPDESK_RETRY_BASE_SECONDS = env_int("HELPDESK_RETRY_BASE_SECONDS", 10)
HELPDESK_RETRY_MAX_ATTEMPTS = env_int("HELPDESK_RETRY_MAX_ATTEMPTS", 5)
HELPDESK_SWEEP_SECONDS = env_int("HELPDESK_SWEEP_SECONDS", 15)
# How long a worker holds a run it executes (renewed after each step or segment): a run whose worker died is taken
# again once this passes. It must outlast the slowest single step (an outbound call with its timeout).
HELPDESK_RUN_LEASE_SECONDS = env_int("HELPDESK_RUN_LEASE_SECONDS", 150)
# Scheduling priority (nice) of worker processes draining events: on a machine shared with the web server the API is
# served first and automation catches up in spare CPU. 0 keeps the workers at the web's priority.
HELPDESK_WORKER_NICENESS = env_int("HELPDESK_WORKER_NICENESS", 10)
HELPDESK_SLA_SWEEP_SECONDS = env_int("HELPDESK_SLA_SWEEP_SECONDS", 30)
# How often the workers read each active IMAP inbox (docs/channels.md).
HELPDESK_IMAP_POLL_SECONDS = env_int("HELPDESK_IMAP_POLL_SECONDS", 60)
# Delivery health (docs/managers.md): an outbound endpoint failing for this many hours and at least this many
# consecutive attempts is disabled (its steps fail fast; managers are told once). A workflow whose last N finished runs
# all failed raises the same alert.
HELPDESK_ENDPOINT_DISABLE_AFTER_HOURS = env_int("HELPDESK_ENDPOINT_DISABLE_AFTER_HOURS", 120)
HELPDESK_ENDPOINT_DISABLE_AFTER_FAILURES = env_int("HELPDESK_ENDPOINT_DISABLE_AFTER_FAILURES", 50)
HELPDESK_WORKFLOW_ALERT_AFTER_FAILED_RUNS = env_int("HELPDESK_WORKFLOW_ALERT_AFTER_FAILED_RUNS", 10)
# Self-healing workers (`manage.py helpdesk_supervisor`, docs/operations.md): restart the cluster when it finishes no
# task for this long while a probe task waits; give it this long to stop before its process group is killed. The health
# check (`manage.py helpdesk_health`) fails when due work has waited longer than HELPDESK_HEALTH_MAX_AGE_SECONDS.
HELPDESK_WORKER_STALL_SECONDS = env_int("HELPDESK_WORKER_STALL_SECONDS", 60)
HELPDESK_WORKER_STOP_SECONDS = env_int("HELPDESK_WORKER_STOP_SECONDS", 10)
HELPDESK_HEALTH_MAX_AGE_SECONDS = env_int("HELPDESK_HEALTH_MAX_AGE_SECONDS", 120)
# Set by the supervisor for the cluster it runs: the supervisor sweeps, so the scheduled sweep task sweeps once.
HELPDESK_SWEEP_IN_SUPERVISOR = env_bool("HELPDESK_SWEEP_IN_SUPERVISOR")
# Where committed events are handed to; the workflows app replaces the foundation's placeholder with its dispatcher.
HELPDESK_EVENT_TASK = os.environ.get("HELPDESK_EVENT_TASK", "workflows.tasks.dispatch_event_task")
# Channels (docs/channels.md): the task that sends a queued answer (mail or API callback), how long a sender holds one, and
# the largest file a message may carry.
HELPDESK_DELIVERY_TASK = os.environ.get("HELPDESK_DELIVERY_TASK", "inboxes.tasks.send_delivery_task")
HELPDESK_DELIVERY_LEASE_SECONDS = env_int("HELPDESK_DELIVERY_LEASE_SECONDS", 120)
HELPDESK_MAX_ATTACHMENT_BYTES = env_int("HELPDESK_MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024)
# Speech to text for the `transcribe` step: "pocketsphinx" (offline, English) or "cloud" (Google-Speech-style API).
HELPDESK_SPEECH_BACKEND = os.environ.get("HELPDESK_SPEECH_BACKEND", "pocketsphinx")
HELPDESK_SPEECH_LANGUAGE = os.environ.get("HELPDESK_SPEECH_LANGUAGE", "en-US")
HELPDESK_SPEECH_CLOUD_URL = os.environ.get("HELPDESK_SPEECH_CLOUD_URL", "https://speech.googleapis.com")
HELPDESK_SPEECH_CLOUD_API_KEY = os.environ.get("HELPDESK_SPEECH_CLOUD_API_KEY", "")
HELPDESK_SPEECH_TIMEOUT_SECONDS = env_int("HELPDESK_SPEECH_TIMEOUT_SECONDS", 120)
# pocketsphinx decodes recordings up to this long as one utterance and splits longer ones at pauses.
HELPDESK_SPEECH_SEGMENT_SECONDS = env_int("HELPDESK_SPEECH_SEGMENT_SECONDS", 60)

# One line per record, or JSON lines with HELPDESK_LOG_JSON=1 (helpdesk/logs.py); a 403/404 is one line, 5xx keep
# their traceback.
LOGGING = logging_config(
    json_lines=env_bool("HELPDESK_LOG_JSON"),
    level=os.environ.get("LOG_LEVEL", "INFO"),
    q_level=os.environ.get("HELPDESK_Q_LOG_LEVEL", "WARNING"),
)

# The budget of one template render (workflows.engine.sandbox): steps (loop iterations, calls, filters, operators) and
# characters (all output, and any one value built).
HELPDESK_TEMPLATE_MAX_STEPS = env_int("HELPDESK_TEMPLATE_MAX_STEPS", 20_000)
HELPDESK_TEMPLATE_MAX_CHARS = env_int("HELPDESK_TEMPLATE_MAX_CHARS", 100_000)
HELPDESK_THROTTLE_USER = os.environ.get("HELPDESK_THROTTLE_USER", "3000/min")
HELPDESK_THROTTLE_ANON = os.environ.get("HELPDESK_THROTTLE_ANON", "60/min")
HELPDESK_REPLAY_MAX_PER_WORKFLOW = env_int("HELPDESK_REPLAY_MAX_PER_WORKFLOW", 1)
HELPDESK_REPLAY_MAX_RUNNING = env_int("HELPDESK_REPLAY_MAX_RUNNING", 3)
HELPDESK_TEMPLATE_MAX_SECONDS = float(os.environ.get("HELPDESK_TEMPLATE_MAX_SECONDS", "2"))
