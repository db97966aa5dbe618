"""Run in the host project by the packaging test while `manage.py qcluster` drains: post N customer messages through
the API, one after the other, then wait (up to the seconds given) until every run of the workflow finished; print,
as one JSON line, the answers' status codes and the runs by status."""

import collections
import json
import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hostproject.settings")
django.setup()

from rest_framework.test import APIClient  # noqa: E402

from workflows.models import WorkflowRun  # noqa: E402

FINISHED = {"succeeded", "failed", "stopped", "cancelled"}
workflow, conversation, token, count, seconds = (
    sys.argv[1],
    sys.argv[2],
    sys.argv[3],
    int(sys.argv[4]),
    float(sys.argv[5]),
)
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
answers = collections.Counter(
    client.post(
        f"/api/conversations/{conversation}/messages/",
        {"body": f"Message {number}", "sender_type": "customer"},
        format="json",
    ).status_code
    for number in range(count)
)
deadline = time.monotonic() + seconds
while True:
    runs = collections.Counter(WorkflowRun.objects.filter(workflow_id=workflow).values_list("status", flat=True))
    if sum(runs[status] for status in FINISHED) >= count + 1 or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(json.dumps({"answers": dict(answers), "runs": dict(runs)}))
