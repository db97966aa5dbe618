"""Provider inbound webhooks through django-anymail (docs/channels.md): anymail's own views validate and normalise the
provider's payload into an `AnymailInboundMessage`; here each URL names its inbox, and the message's raw bytes go
through the same `import_raw_mail` as the other doors (instead of anymail's global `inbound` signal).

- Mailgun (route action `forward("https://<host>/inboxes/anymail/<id>/mailgun/inbound_mime/")`): signed with the
  Mailgun webhook signing key — the inbox's `secret`, else `ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"]`.
- Postmark (inbound webhook URL `https://postmark:<inbound token>@<host>/inboxes/anymail/<id>/postmark/inbound/`,
  "Include raw email content" on): HTTP basic auth whose password is the inbox's inbound token.
"""

from __future__ import annotations

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.utils import get_request_basic_auth
from anymail.webhooks.mailgun import MailgunInboundWebhookView
from anymail.webhooks.postmark import PostmarkInboundWebhookView
from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _

from conversations.models import Inbox
from inboxes.inbound import import_raw_mail
from inboxes.services import inbox_check_token, inbox_secret


class _InboxInboundMixin:
    """Post handling shared by the providers: find the inbox, validate, import each message."""

    inbox: Inbox

    def post(self, request, *args, inbox_id: int, **kwargs):
        self.inbox = Inbox.objects.select_related("team").filter(pk=inbox_id, active=True).first()
        if self.inbox is None:
            raise Http404(_("No such inbox."))
        self.prepare_validation(request)
        self.run_validators(request)
        for event in self.parse_events(request):
            import_raw_mail(inbox=self.inbox, raw=self.raw_mail(request, event))
        return HttpResponse()

    def prepare_validation(self, request) -> None:
        """Per-inbox credentials for the provider's own validator."""

    def raw_mail(self, request, event) -> bytes:
        return event.message.as_bytes()


class InboxMailgunInboundView(_InboxInboundMixin, MailgunInboundWebhookView):
    """Mailgun's inbound route (raw MIME `body-mime` or fully parsed fields), signed with the signing key."""

    def __init__(self, **kwargs):
        kwargs.setdefault("webhook_signing_key", "")  # the key is per inbox, read in prepare_validation
        super().__init__(**kwargs)

    def prepare_validation(self, request) -> None:
        key = inbox_secret(self.inbox, "secret") or getattr(settings, "ANYMAIL", {}).get(
            "MAILGUN_WEBHOOK_SIGNING_KEY", ""
        )
        if not key:
            raise AnymailWebhookValidationFailure("This inbox has no Mailgun signing key (set its secret).")
        self.webhook_signing_key = key.encode("ascii", "ignore")

    def raw_mail(self, request, event) -> bytes:
        if "body-mime" in request.POST:
            return request.POST["body-mime"].encode("utf-8", "surrogateescape")
        return event.message.as_bytes()


class InboxPostmarkInboundView(_InboxInboundMixin, PostmarkInboundWebhookView):
    """Postmark's inbound webhook (JSON with `RawEmail`, or the parsed fields), basic auth with the inbound token."""

    warn_if_no_basic_auth = False  # the inbound token is the basic auth password, checked per inbox

    def prepare_validation(self, request) -> None:
        credentials = get_request_basic_auth(request) or ""
        password = credentials.partition(":")[2]
        if not inbox_check_token(inbox=self.inbox, token=password):
            raise AnymailWebhookValidationFailure("Missing or wrong inbound token in the webhook's basic auth.")

    def raw_mail(self, request, event) -> bytes:
        raw = event.esp_event.get("RawEmail") if isinstance(event.esp_event, dict) else None
        return raw.encode("utf-8", "surrogateescape") if raw else event.message.as_bytes()
