""" "Test connection" of an integration: one GET of its base URL through the outbound client (the SSRF guard, its
static headers and auth), told in words a manager can act on. A network failure says it is one (the host could not
be reached), distinct from the server answering with an error and from the outbound rules refusing the address.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.integrations import services as integrations
from workflows.models import Integration
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse
from workflows.outbound.ssrf import BlockedDestination

PROBE_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class ConnectionResult:
    """What "Test connection" shows: whether the base URL answered usefully, the HTTP status and the words."""

    ok: bool
    message: str
    status_code: int | None = None
    kind: str = "ok"  # ok | http_error | auth_error | network_error | blocked | not_configured


def integration_test_connection(*, integration: Integration) -> ConnectionResult:
    """GET the integration's base URL once and say what happened (never raises for a failed request)."""
    url = integration.base_url
    if not url:
        return ConnectionResult(False, "There is no base URL to test: set one and save first.", kind="not_configured")
    try:
        response = integrations.send_with_integration(
            integration, OutboundRequest(method="GET", url=url, timeout=PROBE_TIMEOUT_SECONDS)
        )
    except BlockedDestination as exc:
        return ConnectionResult(False, f"Blocked by the outbound rules: {exc}", kind="blocked")
    except OutboundError as exc:
        return _failure(url, exc)
    return ConnectionResult(
        True,
        f"Connected: {url} answered HTTP {response.status_code} in {response.elapsed_ms} ms.",
        response.status_code,
    )


def network_reason(exc: Exception) -> str:
    """The root reason of a failed connection in a few words ("Failed to establish a new connection: [Errno 111]
    Connection refused"), not the HTTP library's whole chain of wrappers."""
    cause = exc.__cause__
    reason = getattr(cause.args[0], "reason", None) if cause is not None and cause.args else None
    return str(reason).split("): ", 1)[-1] if reason is not None else str(exc)


def _failure(url: str, exc: OutboundError) -> ConnectionResult:
    response = exc.response
    if response is None:
        return ConnectionResult(
            False, f"Network error: {url} could not be reached ({network_reason(exc)}).", kind="network_error"
        )
    return _answered_with_error(url, response)


def _answered_with_error(url: str, response: OutboundResponse) -> ConnectionResult:
    code = response.status_code
    if code in (401, 403):
        return ConnectionResult(
            False,
            f"The server at {url} refused the credentials: HTTP {code}. Check the integration's auth.",
            code,
            kind="auth_error",
        )
    if code < 500:
        # Many APIs answer 404 or 405 at their root: the host, TLS and network are fine, and that is what is tested.
        return ConnectionResult(
            True,
            f"Reached {url}: it answered HTTP {code} (the connection works; many APIs answer this at their base URL).",
            code,
            kind="http_error",
        )
    return ConnectionResult(
        False, f"Reached {url}, but the server answered with an error: HTTP {code}.", code, kind="http_error"
    )
