"""The inbox's API shape (docs/channels.md): servers without passwords (`has_password` instead), no secret, no token."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from conversations.choices import InboxChannel
from conversations.models import Inbox
from inboxes.services import inbox_secrets


class InboxSerializer(serializers.ModelSerializer):
    """Read shape; writes go through `inboxes.services` (the view passes the checked body on)."""

    # Plain text, not email/URI formats: an API inbox has no address and an email inbox no callback (empty strings).
    address = serializers.CharField(read_only=True, help_text=_("The support address mail is sent from (email)."))
    callback_url = serializers.CharField(read_only=True, help_text=_("API inboxes: where answers are POSTed."))
    imap = serializers.SerializerMethodField()
    smtp = serializers.SerializerMethodField()
    has_secret = serializers.SerializerMethodField()

    class Meta:
        model = Inbox
        fields = [
            "id",
            "name",
            "channel",
            "team",
            "address",
            "imap",
            "smtp",
            "callback_url",
            "has_secret",
            "active",
            "last_polled_at",
            "last_poll_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def _sealed(self, inbox: Inbox) -> dict:
        cache = self.context.setdefault("_sealed", {})
        if inbox.pk not in cache:
            cache[inbox.pk] = inbox_secrets(inbox)
        return cache[inbox.pk]

    def get_imap(self, inbox: Inbox) -> dict | None:
        if not inbox.imap:
            return None
        return {**inbox.imap, "has_password": bool(self._sealed(inbox)["imap_password"])}

    def get_smtp(self, inbox: Inbox) -> dict | None:
        if not inbox.smtp:
            return None
        return {**inbox.smtp, "has_password": bool(self._sealed(inbox)["smtp_password"])}

    def get_has_secret(self, inbox: Inbox) -> bool:
        return bool(self._sealed(inbox)["secret"])


class InboxWriteSerializer(serializers.Serializer):
    """The §13 body; field checks beyond types live in the service."""

    name = serializers.CharField(max_length=100)
    channel = serializers.ChoiceField(choices=InboxChannel.choices)
    team = serializers.JSONField(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=254)
    imap = serializers.JSONField(required=False, allow_null=True)
    smtp = serializers.JSONField(required=False, allow_null=True)
    callback_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    secret = serializers.CharField(required=False, allow_blank=True, max_length=500, write_only=True)
    active = serializers.BooleanField(required=False)


class InboundResultSerializer(serializers.Serializer):
    conversation = serializers.IntegerField()
    message = serializers.IntegerField()
