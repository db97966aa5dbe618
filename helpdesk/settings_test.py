"""Test settings: the production settings with an in-process task queue and fast password hashing.

`Q_CLUSTER["sync"]` is read once at import by django-q2, so it is set here rather than by a fixture.
"""

import os

os.environ.setdefault("SQLITE_PATH", ":memory:")

from helpdesk.settings import *  # noqa: E402,F401,F403
from helpdesk.settings import Q_CLUSTER  # noqa: E402

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The whole suite signs in as a handful of users in one process (one cache): no test may meet the API rate limits
# by accident; the throttling tests lower them themselves.
HELPDESK_THROTTLE_USER = HELPDESK_THROTTLE_ANON = "1000000/min"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = os.environ.get("TEST_MEDIA_ROOT", "/tmp/helpdesk-test-media")
