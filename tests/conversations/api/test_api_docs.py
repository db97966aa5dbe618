"""The OpenAPI schema and the Swagger UI: the schema describes every conversations endpoint and filter of docs/api.md,
and the docs page works offline (every script, style and icon is served by this project, none from a CDN)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

SPEC_CONVERSATION_FILTERS = {
    "status",
    "channel",
    "priority",
    "assignee",
    "team",
    "tag",
    "contact",
    "created_after",
    "created_before",
    "sla_breached",
    "search",
}


def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_docs_page_loads_only_local_assets(agent_client):
    response = agent_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets), assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), f"{asset} is not served by this project"
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not among the static files"
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost)[\w.-]+", html.split("<script>")[0])
    assert "cdn" not in html.lower()


def test_docs_page_points_at_the_schema_endpoint(agent_client):
    html = agent_client.get("/api/docs/").content.decode()
    assert '"/api/schema/"' in html or "'/api/schema/'" in html or "/api/schema/" in html


def test_schema_lists_every_spec_conversation_filter(agent_client):
    operation = schema(agent_client)["paths"]["/api/conversations/"]["get"]
    parameters = {parameter["name"] for parameter in operation["parameters"]}
    assert parameters >= SPEC_CONVERSATION_FILTERS
    assert {"page", "page_size"} <= parameters


def test_schema_documents_token_auth_and_the_write_bodies(agent_client):
    document = schema(agent_client)
    assert "tokenAuth" in document["components"]["securitySchemes"]
    create = document["paths"]["/api/conversations/"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    # `channel` may be left out when `inbox` names it (docs/channels.md); the service still requires one of the two.
    assert set(document["components"]["schemas"][body]["required"]) == {"contact"}
    assert {"channel", "inbox"} <= set(document["components"]["schemas"][body]["properties"])
    upload = document["paths"]["/api/conversations/{conversation_pk}/recordings/"]["post"]["requestBody"]
    assert "multipart/form-data" in upload["content"]


@pytest.mark.django_db
def test_schema_is_valid_openapi_and_has_no_warning_about_conversations(tmp_path, capsys):
    # drf-spectacular's own validator checks the document against the OpenAPI 3 JSON Schema; a warning means a type
    # had to be guessed. Other apps' warnings are theirs to fix, so only this app's modules are held to none.
    call_command("spectacular", "--validate", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi:")
    printed = capsys.readouterr()
    warnings = [line for line in (printed.out + printed.err).splitlines() if "Warning" in line or "Error" in line]
    assert not [line for line in warnings if "conversations/" in line or "Conversation" in line], warnings


def test_the_schema_is_built_once_per_process(client):
    """The second request is served from the kept schema (the generator is not run again)."""
    from unittest import mock

    from drf_spectacular.generators import SchemaGenerator

    from workflows.api import schema

    schema.forget_built_schemas()
    first = client.get("/api/schema/?format=json")
    with mock.patch.object(SchemaGenerator, "get_schema", side_effect=AssertionError("rebuilt")):
        second = client.get("/api/schema/?format=json")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
