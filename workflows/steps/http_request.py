"""`http_request`: call any HTTP API with templated headers and a JSON body built from typed values (the CloudTalk
"API request" action); the response JSON is saved to `vars.<save_as>`."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from workflows.integrations.services import integration_url
from workflows.models import HttpMethod
from workflows.outbound.client import OutboundRequest, OutboundResponse
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import DefinitionInfo, StepContext, StepOutcome, step_types

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
KEY_VALUE: dict[str, Any] = {
    "type": "object",
    "required": ["key", "value"],
    "additionalProperties": False,
    "properties": {
        "key": {"type": "string", "minLength": 1},
        "value": {"type": ["string", "number", "boolean", "null"]},
    },
}


class ValueFormatError(ValueError):
    pass


def to_number(text: Any) -> int | float:
    """Dot decimals only ("12.5"); a comma or other text is an error, not a silent zero."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return text
    try:
        number = Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise ValueFormatError(f"{text!r} is not a number (use a dot for decimals)") from exc
    if not number.is_finite():
        raise ValueFormatError(f"{text!r} is not a finite number")
    return int(number) if number == number.to_integral_value() and "." not in str(text) else float(number)


def to_boolean(text: Any) -> bool:
    """true/1/yes/on are true; any undefined form defaults to False (as the CloudTalk seed documents)."""
    return text is True or str(text).strip().lower() in TRUE_WORDS


def to_auto(text: Any) -> Any:
    """Guess: booleans and numbers become JSON booleans and numbers, everything else stays text."""
    if not isinstance(text, str):
        return text
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
        return to_number(text)
    return text


FORMATS = {
    "number": to_number,
    "boolean": to_boolean,
    "string": lambda text: "" if text is None else str(text),
    "auto": to_auto,
}


def build_body(values: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON object built from rendered values; dotted keys ("customer.name") nest."""
    body: dict[str, Any] = {}
    for item in values:
        converted = FORMATS[item.get("format", "auto")](item.get("value"))
        target = body
        *parents, leaf = item["key"].split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = converted
    return body


@step_types.register
class HttpRequestStep(OutboundStep):
    type = "http_request"
    label = _("HTTP request")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "minLength": 1},
            "integration": {"type": ["string", "integer"]},
            "path": {"type": "string"},
            "method": {"enum": list(HttpMethod.values)},
            "headers": {"type": "array", "items": KEY_VALUE},
            "values": {
                "type": "array",
                "items": {**KEY_VALUE, "properties": {**KEY_VALUE["properties"], "format": {"enum": list(FORMATS)}}},
            },
            "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
            "save_as": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
        },
    }
    templated = ("url", "path", "headers", "values")
    bound_url_keys = ("url", "path")

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        if not config.get("url") and not config.get("integration"):
            return [("url", gettext("Give a url, or an integration and a path."))]
        url = config.get("url", "")
        if url and "{{" not in url[:12] and not url.startswith(("http://", "https://")):
            return [("url", gettext("Use an http(s) URL."))]
        return []

    def build_request(self, rendered: dict[str, Any], integration: Any, ctx: StepContext) -> OutboundRequest:
        method = rendered.get("method", "POST")
        url = integration_url(integration, rendered.get("url") or rendered.get("path", ""))
        headers = {h["key"]: str(h["value"]) for h in rendered.get("headers", [])}
        body: dict[str, Any] | None
        try:
            body = build_body(rendered.get("values", []))
        except ValueFormatError as exc:
            raise ValueError(str(exc)) from exc
        if method in ("GET", "DELETE") and body:
            url += ("&" if "?" in url else "?") + urlencode(body)
            body = None
        return OutboundRequest(
            method=method,
            url=url,
            headers=headers,
            json_body=body if body != {} else None,
            timeout=rendered.get("timeout_seconds"),
        )

    def read_response(self, response: OutboundResponse, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        outcome = super().read_response(response, rendered, ctx)
        if rendered.get("save_as"):
            outcome.variables = {rendered["save_as"]: outcome.output["response"]}
        return outcome
