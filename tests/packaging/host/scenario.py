"""Run in the host project by the packaging test, before any worker runs: a support manager creates a workflow
through the API (on customer messages: add a tag), a contact writes in, and the script prints, as one JSON line,
the ids and where Django found the apps, their templates and their static files."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostproject.settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.db import connection  # noqa: E402
from django.template.loader import get_template  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

import conversations  # noqa: E402
import sla  # noqa: E402
import workflows  # noqa: E402

TAG = "installed-from-the-wheel"


def created(client: APIClient, url: str, body: dict) -> dict:
    """POST `body` as JSON and return the created object (any other answer stops the script with its body)."""
    response = client.post(url, body, format="json")
    assert response.status_code == 201, (url, response.status_code, response.content[:2000])
    return response.json()


manager = get_user_model().objects.create_superuser("manager", "manager@example.org", "a-long-password-1")
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=manager).key}")
workflow = created(
    client,
    "/api/workflows/",
    {
        "name": "Tag customer messages",
        "status": "active",
        "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
        "steps": [{"type": "add_tag", "config": {"tags": [TAG]}}],
    },
)
contact = created(client, "/api/contacts/", {"name": "Ada", "email": "ada@example.org"})
conversation = created(client, "/api/conversations/", {"contact": contact["id"], "channel": "email"})
created(
    client,
    f"/api/conversations/{conversation['id']}/messages/",
    {"body": "My printer is on fire", "sender_type": "customer"},
)

admin = APIClient()
admin.force_login(manager)
# The admin chrome the apps ship (not the demo project): a disabled endpoint shows in the delivery-health banner,
# the user menu links the API access page, and list pages load the list stylesheet.
from django.utils import timezone  # noqa: E402

from workflows.models import Endpoint  # noqa: E402

Endpoint.objects.create(
    key="host-test",
    kind="webhook",
    url="https://hooks.example.org/down",
    consecutive_failures=7,
    disabled_at=timezone.now(),
)
index = admin.get("/admin/").content.decode()
api_access = admin.get("/admin/conversations/userpreference/api-access/")
print(
    json.dumps(
        {
            "workflow": workflow["id"],
            "conversation": conversation["id"],
            "tag": TAG,
            "database": connection.vendor,
            "token": Token.objects.get(user=manager).key,
            "apps": [module.__file__ for module in (conversations, sla, workflows)],
            "template": get_template("admin/workflows/workflow/change_list.html").origin.name,
            "static": finders.find("workflows/editor.js"),
            "gallery": client.get("/api/workflow-templates/").json()["results"],
            "chrome": {
                "banner": 'id="delivery-alerts"' in index and "https://hooks.example.org/down" in index,
                "api_access_link": 'href="/admin/conversations/userpreference/api-access/" id="api-access-link"'
                in index,
                "list_styles": "helpdesk/admin-lists.css" in admin.get("/admin/workflows/workflow/").content.decode(),
                "api_access_page": api_access.status_code,
                "templates": [
                    get_template(name).origin.name for name in ("admin/base_site.html", "admin/api_access.html")
                ],
            },
            "admin_pages": {
                url: admin.get(url).status_code
                for url in (
                    "/admin/workflows/workflow/",
                    "/admin/workflows/workflow/add/",
                    f"/admin/conversations/conversation/{conversation['id']}/change/",
                )
            },
        }
    )
)
