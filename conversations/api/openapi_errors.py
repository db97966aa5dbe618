"""What the OpenAPI schema says about failures: one drf-spectacular postprocessing hook documents the error answers
of every operation (400, 401, 403, 404) with their body shapes, from what the operation itself declares.

The rules follow how DRF answers here: a request body, a query parameter or a change (any method but GET/HEAD) can
be refused with field messages (400); an operation that needs a login answers 401 without one and 403 to a role
that may not use it; an operation with a path parameter answers 404 for an unknown id, and so does a list asked for
a page past its last. Answers a view documents itself are kept as they are.
"""

from __future__ import annotations

from typing import Any

ERROR_DETAIL = "ErrorDetail"
VALIDATION_ERROR = "ValidationError"

ERROR_COMPONENTS: dict[str, dict[str, Any]] = {
    ERROR_DETAIL: {
        "type": "object",
        "description": "Why the request was refused, as one message.",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    VALIDATION_ERROR: {
        "type": "object",
        "description": 'Messages per field (`{"name": ["..."]}`; nested fields nest, list items by index), '
        "`non_field_errors` for the request as a whole, or `detail` for a body that is not "
        "readable at all.",
        "additionalProperties": {},
        "minProperties": 1,
    },
}

ERROR_DESCRIPTIONS = {
    "400": ("The request was refused; the body names each wrong field.", VALIDATION_ERROR),
    "401": ("No valid credentials (a token or a session) were given.", ERROR_DETAIL),
    "403": ("The account's role may not do this (or a session request lacks its CSRF token).", ERROR_DETAIL),
    "404": ("No such object, or a page past the last one.", ERROR_DETAIL),
}

SAFE_METHODS = frozenset({"get", "head", "options"})


def error_codes(method: str, operation: dict) -> list[str]:
    """The error statuses an operation can answer, read from its method, parameters, body and security."""
    parameters = operation.get("parameters", [])
    query_names = {parameter["name"] for parameter in parameters if parameter["in"] == "query"}
    has_path_parameter = any(parameter["in"] == "path" for parameter in parameters)
    codes = []
    if query_names or "requestBody" in operation or method not in SAFE_METHODS:
        codes.append("400")
    security = operation.get("security")
    if security and {} not in security:
        codes += ["401", "403"]
    if has_path_parameter or "page" in query_names:
        codes.append("404")
    return codes


def error_response(code: str) -> dict:
    """The response object of one error status, pointing at its shared body component."""
    description, component = ERROR_DESCRIPTIONS[code]
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]): the error answers of
    every operation, so a client generated from the schema knows each status it can get and its body."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_COMPONENTS)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in error_codes(method, operation):
                responses.setdefault(code, error_response(code))
            operation["responses"] = dict(sorted(responses.items()))
    return result
