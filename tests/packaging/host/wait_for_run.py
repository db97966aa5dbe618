"""Run in the host project by the packaging test while `manage.py qcluster` works: wait (up to the seconds given)
for the workflow's run to finish, then print the run and the conversation as the API shows them, as one JSON line."""

import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostproject.settings")
django.setup()

from rest_framework.test import APIClient  # noqa: E402

FINISHED = {"succeeded", "failed", "stopped", "cancelled"}
workflow, conversation, token, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
deadline = time.monotonic() + seconds
while True:
    runs = client.get("/api/workflow-runs/", {"workflow": workflow}).json()["results"]
    if (runs and runs[0]["status"] in FINISHED) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(json.dumps({"runs": runs, "conversation": client.get(f"/api/conversations/{conversation}/").json()}))
