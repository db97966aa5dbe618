"""Secrets are usable only whole, where they go out (issue 11, finding 5).

`{{ secrets.NAME }}` renders to an opaque token that becomes the secret only in the request a step sends; every
filter, slice, method or loop over it fails the step, so a manager cannot read a secret back through a transform
(`|reverse`, `[0:6]`, `|lower`) that the exact-value masking of dry runs and run inputs would miss. Webhook signing
secrets are encrypted at rest, with the integration secrets' keys, and still sign.
"""

import base64
import importlib
import json

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.db import connection

from conversations import services as conversations
from tests.support.outbound import receiver_verifies
from tests.support.runs import drain
from workflows import services
from workflows.integrations.services import integration_save, integrations_rotate_keys
from workflows.models import Step, StepRun, Workflow, WorkflowVersion

pytestmark = pytest.mark.usefixtures("allow_loopback")

SECRET = "Zq9-Marker-Secret-77"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"marker-webhook-key-0123456789abc").decode()
TRANSFORMS = {
    "reverse": "{{ secrets.api_key|reverse }}",
    "slice": "{{ secrets.api_key[0:8] }}",
    "lower": "{{ secrets.api_key|lower }}",
    "method": "{{ secrets.api_key.upper() }}",
    "join": "{{ secrets.api_key|join(' ') }}",
    "loop": "{% for c in secrets.api_key %}{{ c }}.{% endfor %}",
    "format": "{{ '%s!'|format(secrets.api_key) }}",
    "test": "{{ secrets.api_key is string }}",
}


def readable_forms(secret: str) -> list[str]:
    """What the transforms above would make of the secret, if they worked."""
    return [secret[::-1], secret[0:8], secret.lower(), secret.upper(), " ".join(secret), ".".join(secret) + "."]


@pytest.fixture
def api_key(db, httpserver):
    integration_save(name="crm", base_url=httpserver.url_for("/"), secrets={"api_key": SECRET})


def header_step(url: str, value: str) -> dict:
    """A request through the integration "crm" (a step reads only the secrets of the integration it names)."""
    return {
        "type": "http_request",
        "config": {
            "integration": "crm",
            ("path" if url.startswith("/") else "url"): url,
            "method": "POST",
            "headers": [{"key": "X-Key", "value": value}],
        },
    }


@pytest.mark.parametrize("template", TRANSFORMS.values(), ids=TRANSFORMS.keys())
def test_a_dry_run_cannot_read_a_transformed_secret(api_key, manager_client, conversation, template):
    created = manager_client.post(
        "/api/workflows/",
        {
            "name": "Leak",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": [header_step("/x", template)],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    report = manager_client.post(
        f"/api/workflows/{created.json()['id']}/test/", {"conversation": conversation.pk}, format="json"
    )
    assert report.status_code == 200, report.content
    text = report.content.decode()
    assert not [form for form in readable_forms(SECRET) if form in text], text
    step = report.json()["steps"][0]
    assert step["status"] == "failed" and "can only be used whole" in step["error"], step


@pytest.mark.parametrize(
    "template", [TRANSFORMS["reverse"], TRANSFORMS["slice"], TRANSFORMS["lower"]], ids=["reverse", "slice", "lower"]
)
def test_a_run_cannot_record_or_send_a_transformed_secret(api_key, make_workflow, contact, httpserver, template):
    httpserver.expect_request("/x").respond_with_data("{}", content_type="application/json")
    make_workflow("conversation.created", [header_step(httpserver.url_for("/x"), template)])
    conversations.conversation_open(contact=contact, channel="web", subject="Leak")
    drain()
    step = StepRun.objects.get()
    recorded = json.dumps([step.input, step.output, step.error])
    assert step.status == "failed" and "can only be used whole" in step.error
    assert not [form for form in readable_forms(SECRET) if form in recorded], recorded
    assert httpserver.log == []  # nothing was sent


def test_a_whole_secret_goes_out_and_is_recorded_masked(api_key, make_workflow, contact, httpserver):
    httpserver.expect_request("/x").respond_with_data("{}", content_type="application/json")
    make_workflow("conversation.created", [header_step(httpserver.url_for("/x"), "Bearer {{ secrets.api_key }}")])
    conversations.conversation_open(contact=contact, channel="web", subject="Whole")
    drain()
    step = StepRun.objects.get()
    assert step.status == "succeeded", step.error
    [(request, _)] = httpserver.log
    assert request.headers["X-Key"] == f"Bearer {SECRET}"
    assert step.input["headers"] == [{"key": "X-Key", "value": "Bearer ****"}]


def test_a_secret_joined_into_text_then_transformed_sends_nothing_readable(api_key, make_workflow, contact, httpserver):
    """Joining first (`~`) yields the opaque token; transforming that gives noise, never the secret."""
    httpserver.expect_request("/x").respond_with_data("{}", content_type="application/json")
    make_workflow(
        "conversation.created", [header_step(httpserver.url_for("/x"), "{{ (secrets.api_key ~ '')|reverse }}")]
    )
    conversations.conversation_open(contact=contact, channel="web", subject="Noise")
    drain()
    [(request, _)] = httpserver.log
    sent = request.headers["X-Key"]
    assert SECRET not in sent and not [form for form in readable_forms(SECRET) if form in sent], sent


def database_text() -> str:
    with connection.cursor() as cursor:
        rows = []
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            rows += [str(value) for row in cursor.fetchall() for value in row]
    return " ".join(rows)


def webhook_workflow(manager_client, url: str) -> dict:
    created = manager_client.post(
        "/api/workflows/",
        {
            "name": "Hook",
            "status": "active",
            "trigger": {"type": "conversation.created", "config": {}},
            "steps": [{"type": "webhook", "config": {"url": url, "secret": WEBHOOK_SECRET}}],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    return created.json()


def test_a_webhook_secret_is_encrypted_at_rest_and_still_signs(manager_client, contact, httpserver, allow_loopback):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    created = webhook_workflow(manager_client, httpserver.url_for("/hook"))
    assert created["steps"][0]["config"]["secret"] == WEBHOOK_SECRET  # shown once, by the save that set it
    stored = database_text()
    assert WEBHOOK_SECRET not in stored and WEBHOOK_SECRET.removeprefix("whsec_") not in stored
    conversations.conversation_open(contact=contact, channel="web", subject="Signed")
    drain()
    [(request, _)] = httpserver.log
    assert receiver_verifies(request, WEBHOOK_SECRET)
    edited = manager_client.patch(f"/api/workflows/{created['id']}/", {"description": "x"}, format="json").json()
    assert edited["steps"][0]["config"]["secret"] == "****"  # kept, not shown again


def test_the_migration_encrypts_secrets_saved_in_plain_text(manager_client, contact, httpserver, allow_loopback):
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    workflow = Workflow.objects.get(pk=webhook_workflow(manager_client, httpserver.url_for("/hook"))["id"])
    plain = {"url": httpserver.url_for("/hook"), "secret": WEBHOOK_SECRET}  # a row from before encryption
    Step.objects.filter(workflow=workflow).update(config=plain)
    version = WorkflowVersion.objects.get(workflow=workflow)
    version.definition["steps"][0]["config"] = plain
    version.save()
    migration = importlib.import_module("workflows.migrations.0004_encrypt_webhook_secrets")
    migration.encrypt(apps, None)
    assert WEBHOOK_SECRET not in database_text()
    assert services.workflow_definition(workflow, reveal="all")["steps"][0]["config"]["secret"] == WEBHOOK_SECRET
    conversations.conversation_open(contact=contact, channel="web", subject="Migrated")
    drain()
    [(request, _)] = httpserver.log
    assert receiver_verifies(request, WEBHOOK_SECRET)


def test_rotating_keys_reencrypts_webhook_secrets(manager_client, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.HELPDESK_ENCRYPTION_KEYS = [old]
    workflow = Workflow.objects.get(pk=webhook_workflow(manager_client, "https://example.com/hook")["id"])
    settings.HELPDESK_ENCRYPTION_KEYS = [new, old]
    integrations_rotate_keys()
    settings.HELPDESK_ENCRYPTION_KEYS = [new]  # the old key is gone: only re-encrypted values still open
    assert services.workflow_definition(workflow, reveal="all")["steps"][0]["config"]["secret"] == WEBHOOK_SECRET
