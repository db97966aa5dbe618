"""`webhook`: POST the run's event envelope (docs/operations.md) to a URL, signed by the Standard Webhooks scheme.

Zapier ("Catch Hook") and Make ("Custom webhook") are presets of the same step: they only check that the URL is
one of theirs. The secret is write-only: generated on save when left empty, shown once by the save that set it, masked
in every read (API, export, admin), stored encrypted (`definition.seal_write_only`), decrypted only to sign, and never
recorded in a run log or a dry run.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import clock
from workflows.integrations import crypto
from workflows.integrations.secrets import mask, secret_values
from workflows.outbound import signing as webhooks
from workflows.outbound.client import OutboundRequest, OutboundResponse, send
from workflows.steps.outbound import OutboundStep
from workflows.steps.registry import WRITE_ONLY_MASK, DefinitionInfo, StepContext, StepOutcome, step_types

# Hosts each preset's URLs live on (a host equal to an entry, or ending with "." + it).
PRESET_HOSTS: dict[str, tuple[str, ...]] = {
    "generic": (),
    "zapier": ("hooks.zapier.com",),
    "make": ("make.com", "integromat.com"),
}


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def preset_url_error(preset: str, url: str) -> str | None:
    """Why `url` is not a hook URL of the preset's service, or None when it is (or the preset is generic)."""
    hosts = PRESET_HOSTS[preset]
    host = (urlsplit(url).hostname or "").lower()
    if not hosts or any(host == h or host.endswith("." + h) for h in hosts):
        return None
    return f"A {preset} webhook URL is on {' or '.join(hosts)}, not {host or 'no host'}."


@step_types.register
class WebhookStep(OutboundStep):
    type = "webhook"
    label = _("Webhook")
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "minLength": 1},
            "secret": {"type": "string"},
            "preset": {"enum": list(PRESET_HOSTS)},
        },
    }
    templated = ("url", "secret")
    write_only = ("secret",)
    endpoint_kind = "webhook"

    def validate(self, config: dict[str, Any], info: DefinitionInfo) -> list[tuple[str, str]]:
        errors = []
        url, secret = config.get("url", ""), config.get("secret", "")
        if not _is_template(url):
            if not url.startswith(("http://", "https://")):
                errors.append(("url", gettext("Use an http(s) URL.")))
            elif problem := preset_url_error(config.get("preset", "generic"), url):
                errors.append(("url", problem))
        if secret and not _is_template(secret):
            try:
                webhooks.secret_key(secret)
            except ValueError as exc:
                errors.append(("secret", str(exc)))
        return errors

    def prepare(self, config: dict[str, Any]) -> dict[str, Any]:
        """A webhook saved without a secret gets a fresh `whsec_...` one (shown once, by the save's response)."""
        if config.get("secret") and config["secret"] != WRITE_ONLY_MASK:
            return config
        return {**config, "secret": webhooks.generate_secret()}

    def render_with_secret(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """The rendered config including the real signing secret, decrypted from storage here (only ever used to
        sign, never recorded)."""
        opened = {**config, "secret": crypto.open_text(config["secret"])} if config.get("secret") else config
        return self.render_for_request(opened, ctx)

    def render(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        """What run logs and dry runs show: the rendered config with the secret replaced by ****."""
        return self.mask_write_only(super().render(config, ctx))

    def build_request(self, rendered: dict[str, Any], integration: Any, ctx: StepContext) -> OutboundRequest:
        """The signed POST of the envelope; the signature covers the exact body bytes sent."""
        if not rendered.get("url", "").startswith(("http://", "https://")):
            raise ValueError(f"The webhook URL {rendered.get('url')!r} is not an http(s) URL.")
        run = ctx.run
        body = webhooks.encode(
            webhooks.envelope(ctx.data, workflow=getattr(run, "workflow", None), run_id=getattr(run, "pk", None))
        )
        headers = {"Content-Type": "application/json", webhooks.EVENT_HEADER: str(ctx.data["event"].get("type"))}
        secret = rendered.get("secret") or ""
        if secret != WRITE_ONLY_MASK:  # a dry run (or a masked definition) describes the request unsigned
            if not secret:
                raise ValueError("The webhook has no secret to sign with (it rendered empty).")
            try:
                headers.update(
                    webhooks.signature_headers(
                        secret, webhooks.message_id(self.request_key(ctx)), int(clock.now().timestamp()), body
                    )
                )
            except ValueError as exc:
                raise ValueError(f"secret: {exc}") from exc
        return OutboundRequest(method="POST", url=rendered["url"], headers=headers, data=body)

    def describe(self, config: dict[str, Any], ctx: StepContext) -> dict[str, Any]:
        request = self.build_request(self.render(config, ctx), None, ctx)
        masked: dict[str, Any] = mask(
            {
                "would": gettext("POST the signed %(event)s envelope")
                % {"event": request.headers[webhooks.EVENT_HEADER]},
                "preset": config.get("preset", "generic"),
                "url": request.url,
                "headers": [*request.headers, "webhook-id", "webhook-timestamp", "webhook-signature"],
                "envelope": webhooks.envelope(ctx.data),
            },
            secret_values(),
        )
        return masked

    def execute(self, config: dict[str, Any], ctx: StepContext) -> StepOutcome:
        rendered = self.render_with_secret(config, ctx)
        outcome = self._deliver(rendered, ctx)
        # A receiver may echo what it got; its reply must not carry the secret into the run log.
        secret = rendered.get("secret") or ""
        hidden = {value for value in (secret, secret.removeprefix(webhooks.SECRET_PREFIX)) if value}
        outcome.output, outcome.error = mask(outcome.output, hidden), mask(outcome.error, hidden)
        return outcome

    def _deliver(self, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        try:
            request = self.build_request(rendered, None, ctx)
        except ValueError as exc:
            return StepOutcome.failed(str(exc))
        secret = rendered.get("secret") or ""
        return self.deliver(
            request,
            None,
            ctx,
            lambda: send(request, key=self.request_key(ctx)),
            rendered,
            hidden={secret, secret.removeprefix(webhooks.SECRET_PREFIX)},
        )

    def read_response(self, response: OutboundResponse, rendered: dict[str, Any], ctx: StepContext) -> StepOutcome:
        outcome = super().read_response(response, rendered, ctx)
        outcome.output["webhook_id"] = webhooks.message_id(self.request_key(ctx))
        return outcome
