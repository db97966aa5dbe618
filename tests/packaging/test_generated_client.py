"""The API as a client generator sees it: openapi-python-client (pinned in requirements-dev.txt) generates a Python
client from the schema `manage.py spectacular` writes, without a warning and with one module per operation; every
generated module imports; and the client, with its default `Bearer` login, takes a workflow, a contact, a
conversation and a customer message through a live server and reads the run the message started.

The generator runs in a subprocess on the schema file, the generated package is imported from a temporary
directory, and the live server is pytest-django's on 127.0.0.1 (the database is shared with the test thread, which
drains the events the way the sweep does).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from rest_framework.authtoken.models import Token

from conversations.api.base import API_VERSION, API_VERSION_HEADER
from tests.infra.plugin import require_service
from tests.support.runs import drain

pytestmark = pytest.mark.services

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "helpdesk_generated_client"
OPERATION_METHODS = ("get", "post", "put", "patch", "delete")


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings_test"},
    )
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def schema_file(tmp_path_factory) -> Path:
    """The OpenAPI document as `manage.py spectacular` writes it with the test settings."""
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    run([sys.executable, "manage.py", "spectacular", "--file", str(path)], cwd=ROOT)
    return path


@pytest.fixture(scope="module")
def generated(schema_file, tmp_path_factory) -> Iterator[tuple[Path, str]]:
    """The client package openapi-python-client generates, importable as PACKAGE, and the generator's output."""
    require_service(
        "openapi-python-client",
        importlib.util.find_spec("openapi_python_client") is not None,
        "pip install -r requirements-dev.txt",
    )
    where = tmp_path_factory.mktemp("client")
    config = where / "config.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: the code is judged as generated
    result = run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(schema_file),
            "--output-path",
            str(where / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        cwd=where,
    )
    sys.path.insert(0, str(where))
    try:
        yield where / PACKAGE, result.stdout + result.stderr
    finally:
        sys.path.remove(str(where))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operation_ids(schema_file: Path) -> set[str]:
    paths = yaml.safe_load(schema_file.read_text())["paths"]
    return {
        operation["operationId"]
        for item in paths.values()
        for method, operation in item.items()
        if method in OPERATION_METHODS
    }


def test_the_generator_makes_one_module_per_operation_without_a_warning(generated, schema_file):
    package, output = generated
    assert "warning" not in output.lower(), output
    modules = {path.stem for path in (package / "api").rglob("*.py") if path.name != "__init__.py"}
    assert modules == operation_ids(schema_file)


def test_every_generated_module_imports(generated, schema_file):
    failures, operations = {}, 0
    for module in pkgutil.walk_packages([str(generated[0])], PACKAGE + "."):
        try:
            importlib.import_module(module.name)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, not only the first
            failures[module.name] = f"{type(exc).__name__}: {exc}"
        else:
            operations += ".api." in module.name and not module.ispkg
    assert not failures, failures
    assert operations == len(operation_ids(schema_file)) > 80


def test_operation_ids_name_actions_without_the_verb(schema_file):
    ids = operation_ids(schema_file)
    assert {
        "workflows_activate",
        "workflows_deactivate",
        "workflows_export",
        "workflow_runs_retry",
        "conversations_apply_macro",
        "workflow_templates_use",
    } <= ids
    assert not {operation for operation in ids if operation.endswith(("_activate_create", "_export_retrieve"))}
    assert {"conversations_create", "conversations_messages_create", "workflows_list"} <= ids


def api(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def model(name: str):
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def created(response, status: int = 201):
    assert response.status_code == status, response.content
    return response.parsed


@pytest.mark.django_db(transaction=True)
def test_the_client_opens_a_conversation_and_reads_the_run(generated, live_server, manager):
    client = importlib.import_module(PACKAGE).AuthenticatedClient(  # its default prefix is `Bearer`
        base_url=live_server.url, token=Token.objects.create(user=manager).key, raise_on_unexpected_status=True
    )
    workflow = created(
        api("workflows.workflows_create").sync_detailed(
            client=client,
            body=model("WorkflowRequest").from_dict(
                {
                    "name": "Tag VIP messages",
                    "description": "",
                    "status": "draft",
                    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
                    "steps": [
                        {"type": "add_tag", "config": {"tags": ["vip"]}},
                        {"type": "set_priority", "config": {"priority": "high"}},
                    ],
                }
            ),
        )
    )
    activated = created(api("workflows.workflows_activate").sync_detailed(workflow.id, client=client), 200)
    assert activated.status.value == "active"

    contact = created(
        api("contacts.contacts_create").sync_detailed(
            client=client,
            body=model("ContactWriteRequest").from_dict({"name": "Ada Lovelace", "email": "ada@example.com"}),
        )
    )
    conversation = created(
        api("conversations.conversations_create").sync_detailed(
            client=client,
            body=model("ConversationCreateRequest").from_dict({"contact": contact.id, "channel": "email"}),
        )
    )
    message = api("conversations.conversations_messages_create").sync_detailed(
        conversation.id,
        client=client,
        body=model("MessageCreateRequest").from_dict({"body": "My order never arrived", "sender_type": "customer"}),
    )
    assert created(message).conversation == conversation.id
    assert message.headers[API_VERSION_HEADER] == API_VERSION

    drain()
    runs = created(api("workflow_runs.workflow_runs_list").sync_detailed(client=client, workflow=workflow.id), 200)
    assert runs.count == 1
    run = created(api("workflow_runs.workflow_runs_retrieve").sync_detailed(runs.results[0].id, client=client), 200)
    assert (run.status.value, run.conversation, run.error) == ("succeeded", conversation.id, "")
    assert [(step.type_, step.status.value) for step in run.steps] == [
        ("add_tag", "succeeded"),
        ("set_priority", "succeeded"),
    ]
    reread = created(api("conversations.conversations_retrieve").sync_detailed(conversation.id, client=client), 200)
    assert (reread.priority.value, list(reread.tags)) == ("high", ["vip"])


@pytest.mark.django_db(transaction=True)
def test_the_client_reads_a_refusal_as_field_messages(generated, live_server, manager):
    client = importlib.import_module(PACKAGE).AuthenticatedClient(
        base_url=live_server.url, token=Token.objects.create(user=manager).key
    )
    response = api("conversations.conversations_create").sync_detailed(
        client=client, body=model("ConversationCreateRequest").from_dict({"contact": 999999, "channel": "email"})
    )
    assert response.status_code == 400
    assert "contact" in response.parsed.to_dict()
    anonymous = importlib.import_module(PACKAGE).Client(base_url=live_server.url)
    refused = api("workflows.workflows_list").sync_detailed(client=anonymous)
    assert refused.status_code == 401 and refused.parsed.detail
