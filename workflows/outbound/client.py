"""The one outbound HTTP client: SSRF guard on every hop, timeouts, a stable `Idempotency-Key`, and a clear split
between transient failures (retried later by the runner) and permanent ones (the step fails).
"""

from __future__ import annotations

import email.utils
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from conversations import clock
from conversations.conf import helpdesk_setting
from workflows.outbound.ssrf import (
    ResolutionFailed,
    Resolver,
    check_url,
    guard_session,
    guarded_connections,
    guarded_session,
    system_resolver,
)

MAX_REDIRECTS = 5
BODY_EXCERPT = 500
IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c3c8e-8a55-4b1e-9d0c-2a4b5f0e7d21")


@dataclass
class OutboundRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json_body: Any = None
    data: bytes | None = None
    timeout: float | None = None


@dataclass
class OutboundResponse:
    status_code: int
    headers: dict[str, str]
    text: str
    elapsed_ms: int

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None

    @property
    def excerpt(self) -> str:
        return self.text[:BODY_EXCERPT]


class OutboundError(Exception):
    """A request that did not succeed; `transient` says whether trying again later may help."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        response: OutboundResponse | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.transient, self.response, self.retry_after = transient, response, retry_after


# Headers a redirect to another origin keeps; auth, API keys and integration headers stay with their own host.
KEPT_ACROSS_ORIGINS = frozenset({"user-agent", "idempotency-key", "content-type", "accept"})


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme)


def idempotency_key(run_id: Any, position: int) -> str:
    """Stable per run step, so every retry of one step carries the same key."""
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"run:{run_id}:step:{position}"))


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds, from either of its two forms (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - clock.now()).total_seconds())


def _to_response(raw: requests.Response, started: float) -> OutboundResponse:
    return OutboundResponse(
        status_code=raw.status_code,
        headers=dict(raw.headers),
        text=raw.text,
        elapsed_ms=int((time.monotonic() - started) * 1000),
    )


def _classify(response: OutboundResponse) -> None:
    status = response.status_code
    if status == 429 or status >= 500:
        raise OutboundError(
            f"HTTP {status}: {response.excerpt}",
            transient=True,
            response=response,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status >= 400:
        raise OutboundError(f"HTTP {status}: {response.excerpt}", transient=False, response=response)


def send(
    request: OutboundRequest,
    *,
    key: str | None = None,
    session: requests.Session | None = None,
    resolver: Resolver = system_resolver,
) -> OutboundResponse:
    """Send one request (following redirects through the SSRF guard); raise OutboundError unless it is 2xx/3xx."""
    headers = {"User-Agent": "helpdesk-workflows/1.0", **request.headers}
    if key:
        headers["Idempotency-Key"] = key
    method, url, body = request.method.upper(), request.url, request.json_body
    timeout = request.timeout or helpdesk_setting("OUTBOUND_TIMEOUT_SECONDS")
    http = guard_session(session) if session is not None else guarded_session()
    for _ in range(MAX_REDIRECTS + 1):
        started = time.monotonic()
        try:
            check_url(url, resolver)
            with guarded_connections(resolver):
                raw = http.request(
                    method,
                    url,
                    headers=headers,
                    json=body if request.data is None else None,
                    data=request.data,
                    timeout=timeout,
                    allow_redirects=False,
                )
        except ResolutionFailed as exc:  # DNS down or the name not there (yet): try again later, not a block
            raise OutboundError(str(exc), transient=True) from exc
        except requests.Timeout as exc:
            raise OutboundError(f"Timed out after {timeout}s: {exc}", transient=True) from exc
        except requests.ConnectionError as exc:
            raise OutboundError(f"Connection failed: {exc}", transient=True) from exc
        except requests.RequestException as exc:
            raise OutboundError(f"Request failed: {exc}", transient=False) from exc
        if raw.is_redirect and raw.headers.get("Location"):
            target = urljoin(url, raw.headers["Location"])
            if _origin(target) != _origin(url):  # credentials are for the host they were configured for
                headers = {k: v for k, v in headers.items() if k.lower() in KEPT_ACROSS_ORIGINS}
            url = target
            if raw.status_code == 303 or (raw.status_code in (301, 302) and method == "POST"):
                method, body = "GET", None
            continue
        response = _to_response(raw, started)
        _classify(response)
        return response
    raise OutboundError(f"More than {MAX_REDIRECTS} redirects.", transient=False)
