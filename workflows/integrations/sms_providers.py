"""SMS providers behind one interface, used by the `sms` step and by `send_survey` over SMS.

A provider turns a message into an outbound request on an integration and reads the provider's reply. Two ship:
`http`, a generic JSON POST to the integration's base URL (`{"from", "to", "text"}`, authenticated by the
integration's auth, e.g. an access key id + secret), and `twilio`, Twilio's Programmable Messaging API
(`POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`/`From`/`Body`, basic auth
`AccountSid:AuthToken`). Numbers are E.164, checked with phonenumbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from django.core.exceptions import ValidationError

from conversations.phones import normalize_e164
from workflows.integrations import services as integrations
from workflows.models import AuthType, Integration
from workflows.outbound.client import OutboundRequest, OutboundResponse

MAX_TEXT = 1600  # the longest body carriers (and Twilio) accept as one concatenated message
TWILIO_BASE_URL = "https://api.twilio.com"


@dataclass(frozen=True)
class SmsMessage:
    sender: str
    recipient: str
    text: str


def phone_number(value: Any, key: str) -> str:
    """`value` as E.164, or a ValidationError keyed by the config key that holds it."""
    try:
        return normalize_e164(str(value or ""))
    except ValidationError as exc:
        raise ValidationError({key: f"{value!r} is not an E.164 phone number: {' '.join(exc.messages)}"}) from exc


def sms_message(*, sender: Any, recipient: Any, text: Any) -> SmsMessage:
    """A message with both numbers in E.164 and a text carriers accept (errors keyed sender/recipient/text)."""
    body = str(text or "").strip()
    if not body:
        raise ValidationError({"text": "The SMS text is empty."})
    if len(body) > MAX_TEXT:
        raise ValidationError({"text": f"An SMS has at most {MAX_TEXT} characters (this one {len(body)})."})
    return SmsMessage(sender=phone_number(sender, "sender"), recipient=phone_number(recipient, "recipient"), text=body)


class SmsProvider:
    """One SMS API: `build_request` makes the call for a message, `read_result` reads the provider's message id."""

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    # Where the integration's credentials may go when it has no base URL (its own base URL otherwise).
    default_base_url: ClassVar[str] = ""

    def check_integration(self, integration: Integration) -> None:
        """Raise ValidationError({"integration": ...}) when the integration cannot carry this provider's calls."""

    def build_request(self, integration: Integration, message: SmsMessage) -> OutboundRequest:
        raise NotImplementedError

    def read_result(self, response: OutboundResponse) -> dict[str, Any]:
        body = response.json()
        body = body if isinstance(body, dict) else {}
        return {
            "status_code": response.status_code,
            "message_id": body.get("id") or body.get("message_id"),
            "status": body.get("status"),
        }


class HttpSmsProvider(SmsProvider):
    name, label = "http", "Generic HTTP (JSON POST to the integration's base URL)"

    def check_integration(self, integration: Integration) -> None:
        if not integration.base_url:
            raise ValidationError({"integration": f'"{integration.name}" needs a base URL to send SMS to.'})

    def build_request(self, integration: Integration, message: SmsMessage) -> OutboundRequest:
        return OutboundRequest(
            method="POST",
            url=integration.base_url,
            json_body={"from": message.sender, "to": message.recipient, "text": message.text},
        )


class TwilioSmsProvider(SmsProvider):
    name, label = "twilio", "Twilio Programmable Messaging"
    default_base_url = TWILIO_BASE_URL

    def check_integration(self, integration: Integration) -> None:
        if integration.auth_type != AuthType.BASIC or not integration.auth_public.get("username"):
            raise ValidationError(
                {
                    "integration": f'"{integration.name}" needs basic auth: the Account SID as '
                    "username and the Auth Token as password."
                }
            )

    def build_request(self, integration: Integration, message: SmsMessage) -> OutboundRequest:
        account_sid = integration.auth_public["username"]
        base = (integration.base_url or TWILIO_BASE_URL).rstrip("/")
        form = urlencode({"To": message.recipient, "From": message.sender, "Body": message.text})
        return OutboundRequest(
            method="POST",
            url=f"{base}/2010-04-01/Accounts/{quote(account_sid)}/Messages.json",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            data=form.encode(),
        )

    def read_result(self, response: OutboundResponse) -> dict[str, Any]:
        body = response.json()
        body = body if isinstance(body, dict) else {}
        return {"status_code": response.status_code, "message_id": body.get("sid"), "status": body.get("status")}


PROVIDERS: dict[str, SmsProvider] = {provider.name: provider for provider in (HttpSmsProvider(), TwilioSmsProvider())}
DEFAULT_PROVIDER = HttpSmsProvider.name


def get_provider(name: str | None) -> SmsProvider:
    """The provider called `name` (default: the generic HTTP one)."""
    provider = PROVIDERS.get(name or DEFAULT_PROVIDER)
    if provider is None:
        raise ValidationError({"provider": f"Unknown SMS provider {name!r}; use one of: {', '.join(PROVIDERS)}."})
    return provider


def sms_request(*, integration: Integration, provider: str | None, message: SmsMessage) -> OutboundRequest:
    """The provider's request for `message` over `integration` (checked to fit the provider first)."""
    backend = get_provider(provider)
    backend.check_integration(integration)
    return backend.build_request(integration, message)


def send_sms(*, integration: Integration, provider: str | None, message: SmsMessage, key: str) -> dict[str, Any]:
    """Send one SMS now; returns the provider's message id and status. Raises OutboundError (transient or not)."""
    request = sms_request(integration=integration, provider=provider, message=message)
    response = integrations.send_with_integration(
        integration, request, key=key, default_base=get_provider(provider).default_base_url
    )
    return get_provider(provider).read_result(response)
