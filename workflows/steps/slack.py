"""`slack`: post a message with slack-sdk's `chat.postMessage` using an integration's bearer token (a bot token
with `chat:write`).

The request goes to `<base_url>chat.postMessage`, the base URL being the integration's, else
`HELPDESK_SLACK_BASE_URL` (default `https://slack.com/api/`). slack-sdk sends it, but the SSRF guard still checks the
URL and every redirect, slack-sdk's own retries are off (the runner retries later, with the same Idempotency-Key),
and Slack's answers map onto the outbound error model: `ok: false` fails the step with Slack's error, while
`ratelimited` (429 + Retry-After), 5xx and Slack's internal errors are retried.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from workflows.integrations import auth as integration_auth
from conversations.conf import helpdesk_setting
from workflows.models import AuthType
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse, retry_after_seconds
from workflows.outbound.ssrf import check_url
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, step_types

METHOD = "chat.postMessage"
# Slack errors that say "try again later" rather than "this request is wrong".
TRANSIENT_ERRORS = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable",
                              "request_timeout"})


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to where the SSRF guard lets requests go."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: PLR0913 (urllib's signature)
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class GuardedWebClient(WebClient):
    """slack-sdk's WebClient sending through an opener whose redirects pass the SSRF guard (the first hop is checked
    by the step before calling). Overrides slack-sdk 3.x's one transport hook, keeping its error handling."""

    def _perform_urllib_http_request_internal(self, url: str, req: urllib.request.Request) -> dict[str, Any]:
        check_url(url)
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=self.ssl), _GuardedRedirects)
        response = opener.open(req, timeout=self.timeout)
        charset = response.headers.get_content_charset() or "utf-8"
        return {"status": response.code, "headers": response.headers, "body": response.read().decode(charset)}


def slack_base_url(integration: Any) -> str:
    """The Web API base URL, ending with "/": the integration's, else the setting."""
    base = (getattr(integration, "base_url", "") or helpdesk_setting("SLACK_BASE_URL")).strip()
    return base if base.endswith("/") else base + "/"


def _error_for(exc: SlackApiError) -> OutboundError:
    """Slack's failure as the outbound client would report it (transient or permanent, with Retry-After)."""
    raw = exc.response
    data = raw.data if isinstance(raw.data, dict) else {}
    error = data.get("error") or "unknown_error"
    headers = {str(k): str(v) for k, v in (raw.headers or {}).items()}
    status = int(raw.status_code or 0)
    response = OutboundResponse(status_code=status, headers=headers, elapsed_ms=0,
                                text=json.dumps(data) if data else str(raw.data or ""))
    transient = status == 429 or status >= 500 or error in TRANSIENT_ERRORS
    retry_after = retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"))
    return OutboundError(f"Slack error: {error} (HTTP {status})", transient=transient, response=response,
                         retry_after=retry_after)


@step_types.register
class SlackStep(OutboundStep):
    type = "slack"
    label = "Slack message"
    schema = {
        "type": "object", "additionalProperties": False, "required": ["integration", "channel", "text"],
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

    def validate(self, config: dict, info: DefinitionInfo) -> list[tuple[str, str]]:
        errors = []
        emoji, icon_url = config.get("icon_emoji", ""), config.get("icon_url", "")
        if emoji and "{{" not in emoji and not (len(emoji) > 2 and emoji[0] == emoji[-1] == ":" and " " not in emoji):
            errors.append(("icon_emoji", 'An emoji name between colons, e.g. ":robot_face:".'))
        if icon_url and "{{" not in icon_url and not icon_url.startswith(("http://", "https://")):
            errors.append(("icon_url", "Use an http(s) URL."))
        if emoji and icon_url:
            errors.append(("icon_url", "Give icon_emoji or icon_url, not both (Slack uses only one)."))
        return errors

    def build_request(self, rendered: dict, integration: Any, ctx: StepContext) -> OutboundRequest:
        """The chat.postMessage call as data: the URL and the JSON fields Slack reads."""
        payload: dict[str, Any] = {"channel": rendered["channel"].strip(), "text": rendered["text"]}
        for key in ("icon_emoji", "icon_url"):
            if rendered.get(key):
                payload[key] = rendered[key].strip()
        payload["mrkdwn"] = bool(rendered.get("use_markdown", True))
        for key in ("channel", "text"):
            if not str(payload[key]).strip():
                raise ValueError(f"{key}: rendered empty, Slack needs one.")
        return OutboundRequest(method="POST", url=slack_base_url(integration) + METHOD, json_body=payload)

    def token_headers(self, integration: Any) -> dict[str, str]:
        """The integration's static headers and its bearer token (`Authorization: Bearer xoxb-...`)."""
        if integration.auth_type != AuthType.BEARER:
            raise ValueError(f'integration: "{integration.name}" needs bearer auth holding the Slack bot token.')
        static = {header["key"]: header["value"] for header in integration.headers}
        return {**static, **integration_auth.auth_headers(integration)}

    def post(self, request: OutboundRequest, headers: dict[str, str]) -> OutboundResponse:
        """Send through slack-sdk; raise OutboundError / BlockedDestination as the one HTTP client would."""
        check_url(request.url)
        base_url = request.url[: -len(METHOD)]
        client = GuardedWebClient(base_url=base_url, headers=headers, retry_handlers=[],
                                  timeout=helpdesk_setting("OUTBOUND_TIMEOUT_SECONDS"))
        try:
            reply = client.chat_postMessage(**request.json_body)
        except SlackApiError as exc:
            raise _error_for(exc) from exc
        except (TimeoutError, socket.timeout, urllib.error.URLError, ConnectionError) as exc:
            raise OutboundError(f"Slack unreachable: {exc}", transient=True) from exc
        except SlackClientError as exc:
            raise OutboundError(f"Slack request failed: {exc}", transient=False) from exc
        return OutboundResponse(status_code=reply.status_code, headers=dict(reply.headers), elapsed_ms=0,
                                text=json.dumps(reply.data))

    def execute(self, config: dict, ctx: StepContext) -> StepOutcome:
        rendered = self.render_for_request(config, ctx)
        integration = self.integration_for(config)
        try:
            request = self.build_request(rendered, integration, ctx)
            headers = {**self.token_headers(integration), "Idempotency-Key": self.request_key(ctx)}
        except ValueError as exc:
            return StepOutcome.failed(str(exc))
        return self.deliver(request, integration, ctx, lambda: self.post(request, headers), rendered)

    def read_response(self, response: OutboundResponse, rendered: dict, ctx: StepContext) -> StepOutcome:
        reply = response.json() or {}
        return StepOutcome(output={"status_code": response.status_code, "ok": True,
                                   "channel": reply.get("channel"), "ts": reply.get("ts")})
