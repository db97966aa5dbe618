"""What every outbound step shares: sealed secrets in templates (placed only into the request sent), the stable
idempotency key, and turning a failed request into a retry later (exponential backoff with jitter, honouring
Retry-After) or a final failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from django.core.exceptions import ValidationError

from conversations import clock
from conversations.conf import helpdesk_setting
from workflows.engine import sandbox
from workflows.engine.context import RenderError, render_value
from workflows.integrations import binding
from workflows.integrations import delivery as health
from workflows.integrations import secrets as secret_store
from workflows.integrations import services as integrations
from workflows.integrations.secrets import SealedSecrets
from workflows.models import Endpoint
from workflows.outbound.client import OutboundError, OutboundRequest, OutboundResponse, idempotency_key
from workflows.outbound.ssrf import BlockedDestination
from workflows.steps.registry import Outcome, StepContext, StepOutcome, StepType


def backoff_seconds(attempt: int, retry_after: float | None = None) -> float:
    """Delay before retry number `attempt` (1-based): base * 2^(attempt-1), "equal jitter", at least Retry-After."""
    ceiling = float(helpdesk_setting("RETRY_BASE_SECONDS")) * 2 ** max(0, attempt - 1)
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return float(max(delay, retry_after or 0.0))


def outcome_for_error(exc: Exception, attempts: int) -> StepOutcome:
    """A transient failure with attempts left becomes a retry; anything else fails the step with the details."""
    if isinstance(exc, BlockedDestination):
        return StepOutcome.failed(f"Blocked destination: {exc}")
    response = getattr(exc, "response", None)
    output = {"status_code": response.status_code, "body": response.excerpt} if response is not None else {}
    if isinstance(exc, OutboundError) and exc.transient and attempts < helpdesk_setting("RETRY_MAX_ATTEMPTS"):
        delay = backoff_seconds(attempts, exc.retry_after)
        resume_at = clock.now() + dt.timedelta(seconds=delay)
        return StepOutcome(
            status=Outcome.RETRY, resume_at=resume_at, error=f"{exc} (retry {attempts} in {delay:.0f}s)", output=output
        )
    return StepOutcome.failed(str(exc), **output)


def attempt_at(
    destination: health.Destination, ctx: StepContext, send: Callable[[], Any], hidden: Iterable[str] = ()
) -> tuple[Any, StepOutcome | None]:
    """One attempt through `send` at `destination`: fail fast when the endpoint is disabled, count the attempt on it,
    and turn a failure into a retry or a final failure. Returns (what `send` returned, None) or (None, the outcome);
    a failed outcome names the endpoint, so a re-enable can find the deliveries that failed there."""
    attempts = ctx.step_run.attempts if ctx.step_run is not None else 1
    endpoint: Endpoint | None = None
    try:
        with health.attempt(destination, hidden=hidden) as endpoint:
            return send(), None
    except health.EndpointDisabled as exc:
        return None, StepOutcome.failed(str(exc), endpoint=exc.endpoint_id)
    except (OutboundError, BlockedDestination) as exc:
        outcome = outcome_for_error(exc, attempts)
        if endpoint is not None:
            outcome.output["endpoint"] = endpoint.pk
        return None, outcome


class OutboundStep(StepType):
    """Base of steps that call other systems. Subclasses build a request in `build_request` and read the reply in
    `read_response`; failures, retries, secrets and idempotency are handled here once."""

    uses_secrets: ClassVar[bool] = True
    transactional: ClassVar[bool] = False
    references: ClassVar[dict[str, str]] = {"integration": "integration"}
    endpoint_kind: ClassVar[str] = ""  # "" = an integration's, or the host's when the step names a URL

    # Config keys holding the URL (or path) the request goes to, bound to the integration's origin on save.
    bound_url_keys: ClassVar[tuple[str, ...]] = ()

    def integration_for(self, config: dict[str, Any]) -> Any:
        reference = config.get("integration")
        return integrations.resolve_integration(reference) if reference not in (None, "") else None

    def default_base(self, rendered: dict[str, Any]) -> str:
        """Where the integration's credentials may go when it has no base URL (a provider's API), else ""."""
        return ""

    def binding_errors(self, config: dict[str, Any]) -> list[tuple[str, str]]:
        """Secrets only with an integration, and only its own; a literal URL only on the integration's origin. Reads
        the database only when the step uses a secret or names a URL beside its integration."""
        urls = [key for key in self.bound_url_keys if isinstance(config.get(key), str) and config[key]]
        if not urls and not binding.uses_secrets(config, self.templated):
            return []
        try:
            integration = self.integration_for(config)
        except ValidationError:  # a missing reference: the reference check names it
            return []
        errors = binding.secret_errors(config, self.templated, integration, names_integration=integration is not None)
        for key in urls if integration is not None else ():
            problem = binding.url_binding_error(
                integration, config[key], may_be_path=key == "path", default_base=self.default_base(config)
            )
            if problem:
                errors.append((key, problem))
        return errors

    def render_sealed(self, config: dict[str, Any], ctx: StepContext) -> tuple[dict[str, Any], SealedSecrets | None]:
        """The templated keys rendered with `secrets.*` as sealed tokens (and the seal, when any was used). A step
        naming no integration reads no secret: a template that tries fails the step before anything is sent."""
        data, sealed = ctx.data, None
        if any("secrets" in str(config.get(key, "")) for key in self.templated):
            integration = self.integration_for(config)
            if integration is None and any(binding.secrets_used(config.get(key))[0] for key in self.templated):
                raise RenderError(binding.NO_INTEGRATION_SECRETS)
            sealed = secret_store.sealed_secrets(integration)
            data = {**ctx.data, "secrets": sealed.refs}
        with sandbox.render_deadline():  # one deadline for the whole config
            rendered = {
                key: render_value(value, data) if key in self.templated else value for key, value in config.items()
            }
        return rendered, sealed

    def render(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """What run logs and dry runs record: every secret the templates placed shows as ****."""
        rendered, sealed = self.render_sealed(config, ctx)
        return sealed.mask(rendered) if sealed is not None else rendered

    def render_for_request(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """The rendered config with the real secrets in place: only for building the request this step sends."""
        rendered, sealed = self.render_sealed(config, ctx)
        return sealed.unseal(rendered) if sealed is not None else rendered

    def build_request(self, rendered: dict[str, Any], integration: Any, ctx: StepContext) -> OutboundRequest:
        raise NotImplementedError

    def read_response(self, response: OutboundResponse, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        """Default: the response JSON (or text) is the output."""
        body = response.json()
        return StepOutcome(
            output={"status_code": response.status_code, "response": body if body is not None else response.excerpt}
        )

    def request_key(self, ctx: StepContext) -> str:
        run_id = ctx.run.pk if ctx.run is not None else "dry-run"
        position = ctx.step_run.position if ctx.step_run is not None else 0
        return idempotency_key(run_id, position)

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        rendered = self.render(config, ctx)
        integration = self.integration_for(config)
        try:
            request = self.build_request(rendered, integration, ctx)
        except BlockedDestination as exc:  # e.g. a path rendering to another host than the integration's
            raise ValidationError(f"Blocked destination: {exc}") from exc
        described = {
            "would": str(self.label),
            "request": {
                "method": request.method,
                "url": request.url,
                "headers": request.headers,
                "json": request.json_body,
            },
        }
        # A dry run shows `****`, never a secret.
        masked: dict[str, Any] = secret_store.mask(described, secret_store.secret_values())
        return masked

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        rendered = self.render_for_request(config, ctx)
        integration = self.integration_for(config)
        try:
            request = self.build_request(rendered, integration, ctx)
        except ValueError as exc:
            return StepOutcome.failed(str(exc))
        except BlockedDestination as exc:  # the URL rendered to another host than the integration's
            return StepOutcome.failed(f"Blocked destination: {exc}")
        send = functools.partial(
            integrations.send_with_integration,
            integration,
            request,
            key=self.request_key(ctx),
            default_base=self.default_base(rendered),
        )
        return self.deliver(request, integration, ctx, send, rendered)

    def destination(self, request: OutboundRequest, integration: Any) -> health.Destination:
        """The endpoint whose health this step's attempts count on (docs/managers.md)."""
        kind = self.endpoint_kind or ("integration" if integration is not None else "http")
        return health.destination(kind, request.url, integration)

    def deliver(
        self,
        request: OutboundRequest,
        integration: Any,
        ctx: StepContext,
        send: Callable[[], OutboundResponse],
        rendered: dict[str, Any],
        hidden: Iterable[str] = (),
    ) -> StepOutcome:
        """Make one attempt through `send` at the request's endpoint (see `attempt_at`) and read its reply."""
        response, failed = attempt_at(self.destination(request, integration), ctx, send, hidden)
        if failed is not None:
            return failed
        return self.read_response(response, rendered, ctx)
