"""Custom actions (docs/managers.md): a method and path on an integration with input and output JSON Schemas. This
module saves them, checks their schemas, finds the published one a workflow names, builds the request and checks a reply
— shared by the `custom_action` step, the API's `test/` and the admin's "Test action", so all three agree.

Schema failures are results, not exceptions: the caller gets the jsonschema messages and decides (the step fails,
the test page shows them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

import jsonschema
from django.core.exceptions import ValidationError

from workflows.integrations import probe
from workflows.integrations import secrets as secret_store
from workflows.integrations import services as integrations
from workflows.models import CustomAction, HttpMethod, Integration
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse
from workflows.outbound.ssrf import BlockedDestination

MAX_ERRORS = 10
COERCIBLE = {"integer": int, "number": float}


# Schemas ------------------------------------------------------------------------------------------------------


def check_schema(schema: Any, field_name: str) -> dict:
    """A JSON Schema as a dict, or a ValidationError on `field_name` saying why it is not one."""
    if not isinstance(schema, dict):
        raise ValidationError({field_name: "A JSON Schema is a JSON object."})
    validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ValidationError({field_name: f"Not a valid JSON Schema: {exc.message}"}) from exc
    return schema


def schema_errors(schema: dict, instance: Any, *, where: str) -> list[str]:
    """The jsonschema messages for `instance` against `schema` (empty when valid), each prefixed by where/path."""
    if not schema:
        return []
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    errors = sorted(validator_class(schema).iter_errors(instance), key=lambda error: list(error.absolute_path))
    return [
        f"{where}{''.join(f'.{part}' for part in error.absolute_path)}: {error.message}"
        for error in errors[:MAX_ERRORS]
    ]


def coerce_to_schema(schema: dict, value: Any) -> Any:
    """Templates render to text; a top-level string whose schema property wants an integer, number or boolean and
    reads as one becomes that type (so `"{{ vars.seconds }}"` can fill an integer field). Anything else is kept."""
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(value, dict) or not isinstance(properties, dict):
        return value
    return {key: _coerce(properties.get(key), item) for key, item in value.items()}


def _coerce(property_schema: Any, item: Any) -> Any:
    wanted = property_schema.get("type") if isinstance(property_schema, dict) else None
    if not isinstance(item, str) or wanted not in (*COERCIBLE, "boolean"):
        return item
    text = item.strip()
    if wanted == "boolean":
        return {"true": True, "false": False}.get(text.lower(), item)
    try:
        return COERCIBLE[wanted](text)
    except ValueError:
        return item


# Saving and finding -------------------------------------------------------------------------------------------


def custom_action_save(
    *,
    action: CustomAction | None = None,
    integration: Integration,
    name: str,
    path: str,
    method: str = HttpMethod.POST,
    description: str = "",
    input_schema: Any = None,
    output_schema: Any = None,
    published: bool = False,
    commit: bool = True,
) -> CustomAction:
    """Create or update a custom action; both schemas must be valid JSON Schemas. commit=False validates and
    prepares the row without saving it (the admin form validates this way)."""
    action = action or CustomAction()
    action.integration, action.name, action.description = integration, (name or "").strip(), description or ""
    action.method, action.path, action.published = (method or "").upper(), (path or "").strip(), bool(published)
    action.input_schema = check_schema({} if input_schema is None else input_schema, "input_schema")
    action.output_schema = check_schema({} if output_schema is None else output_schema, "output_schema")
    if action.path.startswith(("http://", "https://")):
        raise ValidationError({"path": "A path on the integration's base URL, not a full URL."})
    action.full_clean()
    if commit:
        action.save()
    return action


def published_action(name: Any) -> CustomAction:
    """The published custom action a workflow names (by name or id); a ValidationError otherwise."""
    found = CustomAction.objects.select_related("integration").filter(name=str(name)).first()
    if found is None and str(name).isdigit():
        found = CustomAction.objects.select_related("integration").filter(pk=int(name)).first()
    if found is None:
        raise ValidationError({"action": f'No custom action "{name}".'})
    if not found.published:
        raise ValidationError({"action": f'Custom action "{found.name}" is not published.'})
    return found


# Calling ------------------------------------------------------------------------------------------------------


def build_request(action: CustomAction, payload: Any, *, timeout: float | None = None) -> OutboundRequest:
    """The request for one call: GET/DELETE send the input as query parameters, other methods as a JSON body."""
    url = integrations.integration_url(action.integration, action.path)
    if action.method in (HttpMethod.GET, HttpMethod.DELETE):
        if payload:
            url += ("&" if "?" in url else "?") + urlencode(payload, doseq=True)
        return OutboundRequest(method=action.method, url=url, timeout=timeout)
    return OutboundRequest(method=action.method, url=url, json_body=payload, timeout=timeout)


def output_of(response: OutboundResponse) -> Any:
    """The reply as JSON, or its text excerpt when it is not JSON (which then fails an object output schema)."""
    body = response.json()
    return body if body is not None else response.excerpt


@dataclass
class ActionResult:
    """What "Test action" shows (docs/api.md): status, response, whether both schemas held, and the messages."""

    status_code: int | None = None
    response: Any = None
    valid: bool = True
    errors: list[str] = field(default_factory=list)
    # The request never got an answer (connection refused, timeout, blocked address): no schema was checked, and
    # the admin page says "network error" instead of "schema check: invalid". The API keeps its documented shape.
    network_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if key != "network_error"}


def custom_action_test(*, action: CustomAction, payload: Any, key: str | None = None) -> ActionResult:
    """Execute an action once with `payload` (published or not, so it can be tried before publishing). Input is
    checked before the call (no call when it fails), output after; nothing is raised and no secret is returned."""
    payload = coerce_to_schema(action.input_schema, payload)
    errors = schema_errors(action.input_schema, payload, where="input")
    if errors:
        return _masked(ActionResult(valid=False, errors=errors))
    try:
        response = integrations.send_with_integration(action.integration, build_request(action, payload), key=key)
    except (OutboundError, BlockedDestination) as exc:
        failed = getattr(exc, "response", None)
        return _masked(
            ActionResult(
                status_code=failed.status_code if failed is not None else None,
                response=output_of(failed) if failed is not None else None,
                valid=False,
                errors=[f"request: {exc}"],
                network_error=probe.network_reason(exc) if failed is None else "",
            )
        )
    output = output_of(response)
    errors = schema_errors(action.output_schema, output, where="output")
    return _masked(ActionResult(status_code=response.status_code, response=output, valid=not errors, errors=errors))


def _masked(result: ActionResult) -> ActionResult:
    secrets = secret_store.secret_values()
    result.response, result.errors = (
        secret_store.mask(result.response, secrets),
        secret_store.mask(result.errors, secrets),
    )
    return result
