"""The error-responses hook moved to conversations/api/openapi_errors.py (host projects need it without this demo
package); the name stays importable from here for settings that still point at it."""

from conversations.api.openapi_errors import document_error_responses  # noqa: F401
