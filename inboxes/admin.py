"""Admin of inboxes (docs/channels.md), registered for `conversations.Inbox`: server settings as plain fields, passwords and
the secret as write-only inputs (blank keeps the stored value), the inbound token shown once after saving (and
after "New inbound token"), and a "Test connection" button that names the step that failed."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from conversations.admin.base import ManagersOnlyMixin
from conversations.models import Inbox
from inboxes import probe, services

KEEP_HELP = _("Leave blank to keep the current value.")
MODEL_FIELDS = ["name", "channel", "team", "address", "callback_url", "active"]


def _secret_input(label: str, help_text: str = KEEP_HELP) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


class InboxForm(forms.ModelForm):
    """The §13 fields; the service validates and seals (commit=False), the admin saves the row."""

    callback_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("API inboxes: where agents' answers are POSTed."),
        label=_("Callback url"),
    )
    imap_host = forms.CharField(required=False, label=_("IMAP host"))
    imap_port = forms.IntegerField(required=False, min_value=1, max_value=65535, label=_("IMAP port"), initial=993)
    imap_username = forms.CharField(required=False, label=_("IMAP username"))
    imap_password = _secret_input(_("IMAP password"))
    imap_ssl = forms.BooleanField(required=False, initial=True, label=_("IMAP over SSL"))
    imap_folder = forms.CharField(required=False, initial="INBOX", label=_("IMAP folder"))
    smtp_host = forms.CharField(
        required=False, label=_("SMTP host"), help_text=_("Empty: the project's EMAIL_* settings.")
    )
    smtp_port = forms.IntegerField(required=False, min_value=1, max_value=65535, label=_("SMTP port"), initial=587)
    smtp_username = forms.CharField(required=False, label=_("SMTP username"))
    smtp_password = _secret_input(_("SMTP password"))
    smtp_starttls = forms.BooleanField(required=False, initial=True, label=_("SMTP STARTTLS"))
    secret = _secret_input(
        _("Secret"),
        format_lazy(
            "{} {}",
            _(
                "API inboxes: the callback signing secret (empty on a new inbox: generated). Email inboxes: a provider "
                "webhook's signing key."
            ),
            KEEP_HELP,
        ),
    )

    class Meta:
        model = Inbox
        fields = MODEL_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.inbound_token = ""
        for block in ("imap", "smtp"):
            for key, value in (self.instance.imap if block == "imap" else self.instance.smtp).items():
                if f"{block}_{key}" in self.fields:
                    self.fields[f"{block}_{key}"].initial = value

    def _block(self, block: str, keys: tuple[str, ...]) -> dict | None:
        data = self.cleaned_data
        if not data.get(f"{block}_host"):
            return {}
        values = {key: data.get(f"{block}_{key}") for key in keys if data.get(f"{block}_{key}") not in (None, "")}
        for flag in ("ssl", "starttls"):
            if f"{block}_{flag}" in self.fields:
                values[flag] = bool(data.get(f"{block}_{flag}"))
        if data.get(f"{block}_password"):
            values["password"] = data[f"{block}_password"]
        return values

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        fields = {key: data.get(key) for key in MODEL_FIELDS}
        fields["imap"] = self._block("imap", ("host", "port", "username", "folder"))
        fields["smtp"] = self._block("smtp", ("host", "port", "username"))
        try:
            if self.instance.pk:
                services.inbox_update(inbox=self.instance, commit=False, secret=data.get("secret") or None, **fields)
            else:
                for key in ("address", "callback_url"):
                    fields[key] = fields[key] or ""
                inbox, self.inbound_token = services.inbox_create(
                    commit=False, secret=data.get("secret") or "", **fields
                )
                self.instance.__dict__.update({k: v for k, v in inbox.__dict__.items() if not k.startswith("_")})
        except ValidationError as exc:
            for key, texts in exc.message_dict.items():
                self.add_error(key if key in self.fields else None, texts)
        return data


@admin.register(Inbox)
class InboxAdmin(ManagersOnlyMixin, admin.ModelAdmin):
    form = InboxForm
    change_form_template = "admin/inboxes/inbox/change_form.html"
    list_display = ("name", "channel", "address", "team", "active", "last_polled_at", "last_poll_error")
    list_filter = ("channel", "active")
    search_fields = ("name", "address")
    readonly_fields = ("last_polled_at", "last_poll_error")
    fieldsets = (
        (None, {"fields": ("name", "channel", "team", "address", "callback_url", "secret", "active")}),
        (
            _("Incoming mail (IMAP)"),
            {
                "fields": (
                    "imap_host",
                    "imap_port",
                    "imap_username",
                    "imap_password",
                    "imap_ssl",
                    "imap_folder",
                    "last_polled_at",
                    "last_poll_error",
                )
            },
        ),
        (
            _("Outgoing mail (SMTP)"),
            {"fields": ("smtp_host", "smtp_port", "smtp_username", "smtp_password", "smtp_starttls")},
        ),
    )

    def save_model(self, request, obj: Inbox, form: InboxForm, change: bool) -> None:
        """The form's clean() ran the service (validated, sealed); this stores the row and shows a new token once."""
        obj.save()
        if form.inbound_token:
            self._announce_token(request, obj, form.inbound_token)

    def _announce_token(self, request, inbox: Inbox, token: str) -> None:
        url = request.build_absolute_uri(reverse("inbox-inbound", args=[inbox.pk]))
        self.message_user(
            request,
            _(
                "%(inbox_name)s: the inbound token is %(token)s — copy it now, it is not shown again. POST raw mail to %(url)s with 'Authorization: Token %(token)s'."
            )
            % {"inbox_name": inbox.name, "token": token, "url": url},
            messages.WARNING,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/test-connection/",
                self.admin_site.admin_view(self.test_connection_view),
                name="inboxes_inbox_test_connection",
            ),
            path(
                "<path:object_id>/rotate-token/",
                self.admin_site.admin_view(self.rotate_token_view),
                name="inboxes_inbox_rotate_token",
            ),
            *super().get_urls(),
        ]

    def _posted_inbox(self, request: HttpRequest, object_id: str) -> Inbox:
        inbox = get_object_or_404(Inbox, pk=object_id)
        if not self.has_change_permission(request, inbox):
            raise PermissionDenied
        return inbox

    def test_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: log in to IMAP and SMTP with the saved settings and say, per server, what worked or failed."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        inbox = self._posted_inbox(request, object_id)
        for result in probe.inbox_test_connection(inbox=inbox):
            self.message_user(
                request,
                _("Test connection: %(result_message)s") % {"result_message": result.message},
                messages.SUCCESS if result.ok else messages.ERROR,
            )
        return HttpResponseRedirect(reverse("admin:conversations_inbox_change", args=[inbox.pk]))

    def rotate_token_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        inbox = self._posted_inbox(request, object_id)
        self._announce_token(request, inbox, services.inbox_rotate_token(inbox=inbox))
        return HttpResponseRedirect(reverse("admin:conversations_inbox_change", args=[inbox.pk]))
