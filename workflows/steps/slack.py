"""`slack`: post a message with Slack's Web API `chat.postMessage` using an integration's bearer token (a bot token
with `chat:write`).

The request goes to `<base_url>chat.postMessage`, the base URL being the integration's, else
`HELPDESK_SLACK_BASE_URL` (default `https://slack.com/api/`). It is sent by the one outbound client
(`workflows.outbound.client`, through `send_with_integration`): the SSRF guard checks the URL, every redirect and
the address connected to, and the token goes only to that base URL's origin. Slack's answers map onto the outbound
error model: `ok: false` fails the step with Slack's error, while `ratelimited` (429 + Retry-After), 5xx and Slack's
internal errors are retried later with the same Idempotency-Key.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations.conf import helpdesk_setting
from workflows.integrations import services as integrations
from workflows.models import AuthType
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, step_types

METHOD = "chat.postMessage"
# Slack errors that say "try again later" rather than "this request is wrong".
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})


def slack_base_url(integration: Any) -> str:
    """The Web API base URL, ending with "/": the integration's, else the setting."""
    base = (getattr(integration, "base_url", "") or helpdesk_setting("SLACK_BASE_URL")).strip()
    return base if base.endswith("/") else base + "/"


def check_reply(response: OutboundResponse) -> OutboundResponse:
    """Slack answers HTTP 200 with `{"ok": false, "error": ...}` for a refused call: raise it as the outbound client
    would (transient for Slack's own trouble, permanent otherwise)."""
    reply = response.json()
    if not isinstance(reply, dict):
        raise OutboundError(
            f"Slack error: the reply is not JSON (HTTP {response.status_code}): {response.excerpt}",
            transient=False,
            response=response,
        )
    if not reply.get("ok"):
        error = reply.get("error") or "unknown_error"
        raise OutboundError(
            f"Slack error: {error} (HTTP {response.status_code})",
            transient=error in TRANSIENT_ERRORS,
            response=response,
        )
    return response


@step_types.register
class SlackStep(OutboundStep):
    type = "slack"
    label = _("Slack message")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["integration", "channel", "text"],
        "properties": {
            "integration": {"type": ["string", "integer"], "minLength": 1},
            "channel": {"type": "string", "minLength": 1, "maxLength": 200},
            "text": {"type": "string", "minLength": 1, "maxLength": 40000},
            "icon_emoji": {"type": "string", "minLength": 1, "maxLength": 100},
            "icon_url": {"type": "string", "minLength": 1, "maxLength": 1000},
            "use_markdown": {"type": "boolean"},
        },
    }
    templated = ("channel", "text", "icon_emoji", "icon_url")
    endpoint_kind = "slack"

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        errors = []
        emoji, icon_url = config.get("icon_emoji", ""), config.get("icon_url", "")
        if emoji and "{{" not in emoji and not (len(emoji) > 2 and emoji[0] == emoji[-1] == ":" and " " not in emoji):
            errors.append(("icon_emoji", gettext('An emoji name between colons, e.g. ":robot_face:".')))
        if icon_url and "{{" not in icon_url and not icon_url.startswith(("http://", "https://")):
            errors.append(("icon_url", gettext("Use an http(s) URL.")))
        if emoji and icon_url:
            errors.append(("icon_url", gettext("Give icon_emoji or icon_url, not both (Slack uses only one).")))
        return errors

    def build_request(self, rendered: dict[str, Any], integration: Any, ctx: StepContext) -> OutboundRequest:
        """The chat.postMessage call as data: the URL and the JSON fields Slack reads."""
        payload: dict[str, Any] = {"channel": rendered["channel"].strip(), "text": rendered["text"]}
        for key in ("icon_emoji", "icon_url"):
            if rendered.get(key):
                payload[key] = rendered[key].strip()
        payload["mrkdwn"] = bool(rendered.get("use_markdown", True))
        for key in ("channel", "text"):
            if not str(payload[key]).strip():
                raise ValueError(f"{key}: rendered empty, Slack needs one.")
        return OutboundRequest(
            method="POST",
            url=slack_base_url(integration) + METHOD,
            headers={"Content-Type": "application/json;charset=utf-8"},
            json_body=payload,
        )

    def check_auth(self, integration: Any) -> None:
        """The integration must hold the bot token as bearer auth (`Authorization: Bearer xoxb-...`)."""
        if integration.auth_type != AuthType.BEARER:
            raise ValueError(f'integration: "{integration.name}" needs bearer auth holding the Slack bot token.')

    def default_base(self, rendered: dict[str, Any]) -> str:
        return str(helpdesk_setting("SLACK_BASE_URL"))

    def post(self, integration: Any, request: OutboundRequest, key: str) -> OutboundResponse:
        """Send through the one outbound client (guard, token bound to the base URL); Slack's refusals raise."""
        try:
            response = integrations.send_with_integration(
                integration, request, key=key, default_base=helpdesk_setting("SLACK_BASE_URL")
            )
        except OutboundError as exc:
            if exc.response is None and exc.transient:
                raise OutboundError(f"Slack unreachable: {exc}", transient=True) from exc
            raise
        return check_reply(response)

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        rendered = self.render_for_request(config, ctx)
        integration = self.integration_for(config)
        try:
            self.check_auth(integration)
            request = self.build_request(rendered, integration, ctx)
        except ValueError as exc:
            return StepOutcome.failed(str(exc))
        key = self.request_key(ctx)
        return self.deliver(request, integration, ctx, lambda: self.post(integration, request, key), rendered)

    def read_response(self, response: OutboundResponse, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        reply = response.json() or {}
        return StepOutcome(
            output={
                "status_code": response.status_code,
                "ok": True,
                "channel": reply.get("channel"),
                "ts": reply.get("ts"),
            }
        )
