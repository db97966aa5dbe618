"""The OpenAPI schema settings of the helpdesk API, for the demo project and any host project alike:

    # settings.py of a host project
    from conversations.api.schema_settings import rest_framework_settings, spectacular_settings

    REST_FRAMEWORK = rest_framework_settings()          # or merge DEFAULT_SCHEMA_CLASS into your own
    SPECTACULAR_SETTINGS = spectacular_settings(TITLE="Acme support API")

With them the schema views (`drf_spectacular.views`, or `workflows.api.schema.CachedSchemaView`) work, every
operation documents its error answers, enums have their models' names (`ConversationStatusEnum`, not
`Status0f0Enum`) and operationIds name what an operation does. This module imports nothing from Django or DRF, so a
settings module may import it.
"""

from __future__ import annotations

from typing import Any

import conversations

SCHEMA_CLASS = "conversations.api.openapi.HelpdeskAutoSchema"

# Several models have a `status`; name each enum after its model so the schema has no naming collision.
ENUM_NAME_OVERRIDES = {
    "ConversationStatusEnum": "conversations.choices.Status",
    "TicketStatusEnum": "conversations.choices.TicketStatus",
    "ChannelEnum": "conversations.choices.Channel",
    "InboxChannelEnum": "conversations.choices.InboxChannel",
    "AgentStatusEnum": "conversations.choices.AgentStatus",
    "DeliveryStatusEnum": "conversations.choices.DeliveryStatus",
    "WorkflowStatusEnum": "workflows.choices.WorkflowStatus",
    "RunStatusEnum": "workflows.choices.RunStatus",
    "StepRunStatusEnum": "workflows.choices.StepStatus",
    "TriggerTypeEnum": "workflows.api.serializers.TRIGGER_TYPE_CHOICES",
    "StepTypeEnum": "workflows.api.serializers.STEP_TYPE_CHOICES",
    "ReplayStatusEnum": "workflows.choices.ReplayStatus",
    "PresenceStateEnum": "conversations.models.PresenceState",
}


def spectacular_settings(**overrides: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS for the helpdesk API; keyword arguments add or replace keys (TITLE, SWAGGER_UI_DIST...)."""
    return {
        "TITLE": "Helpdesk workflows API",
        "DESCRIPTION": "Conversations, workflows, SLA and integrations of the helpdesk workflow engine.",
        "VERSION": conversations.__version__,
        "SERVE_INCLUDE_SCHEMA": False,
        "COMPONENT_SPLIT_REQUEST": True,  # request and response bodies as separate models (`ContactWriteRequest`)
        # Every operation's error answers (400/401/403/404) and their bodies (conversations/api/openapi_errors.py).
        "POSTPROCESSING_HOOKS": [
            "drf_spectacular.hooks.postprocess_schema_enums",
            "conversations.api.openapi_errors.document_error_responses",
        ],
        "ENUM_NAME_OVERRIDES": dict(ENUM_NAME_OVERRIDES),
        **overrides,
    }


def rest_framework_settings(**overrides: Any) -> dict[str, Any]:
    """The REST_FRAMEWORK keys the schema needs from a host (the API's views carry everything else themselves)."""
    return {"DEFAULT_SCHEMA_CLASS": SCHEMA_CLASS, **overrides}
