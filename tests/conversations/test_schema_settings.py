"""A host project's schema from the apps' own settings helper (conversations/api/schema_settings.py) alone: enums
named after their models, every operation's error answers, operationIds named for what they do."""

import re

from django.conf import settings
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import spectacular_settings as live_settings

from conversations.api.schema_settings import rest_framework_settings, spectacular_settings


def host_schema() -> dict:
    """drf-spectacular reads SPECTACULAR_SETTINGS once, so its settings object is reloaded around the build."""
    host = spectacular_settings(TITLE="Acme support API")
    try:
        live_settings.reload()
        live_settings._user_settings = host
        with override_settings(SPECTACULAR_SETTINGS=host, REST_FRAMEWORK=rest_framework_settings()):
            return SchemaGenerator(urlconf="workflows.api.helpdesk_urls").get_schema(request=None, public=True)
    finally:
        live_settings.reload()
        live_settings._user_settings = settings.SPECTACULAR_SETTINGS


def test_a_host_schema_names_its_enums_and_documents_errors():
    schema = host_schema()
    assert schema["info"]["title"] == "Acme support API"
    names = set(schema["components"]["schemas"])
    assert {"ConversationStatusEnum", "RunStatusEnum", "WorkflowStatusEnum", "ValidationError", "ErrorDetail"} <= names
    assert not [name for name in names if re.search(r"[0-9a-f]{3}Enum$", name)]
    create = schema["paths"]["/conversations/"]["post"]
    assert {"201", "400", "401", "403"} <= set(create["responses"])
    operation_ids = {operation["operationId"] for item in schema["paths"].values() for operation in item.values()}
    assert {"workflows_activate", "workflows_export", "conversations_apply_macro"} <= operation_ids
    assert not [operation for operation in operation_ids if re.search(r"_(activate|run|test|use)_create$", operation)]


def test_operation_ids_stay_the_same_once_an_action_has_been_served(manager_client):
    """DRF adds `head` to a route's action map on its first GET; the export must not become `..._retrieve` then."""
    created = manager_client.post(
        "/api/workflows/",
        {
            "name": "Export me",
            "status": "draft",
            "trigger": {"type": "manual", "config": {}},
            "steps": [{"type": "add_tag", "config": {"tags": ["x"]}}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert manager_client.get(f"/api/workflows/{created.json()['id']}/export/").status_code == 200
    paths = host_schema()["paths"]
    assert paths["/workflows/{id}/export/"]["get"]["operationId"] == "workflows_export"
