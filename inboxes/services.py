"""Every change to an inbox (docs/channels.md): create, update, rotate its inbound token, delete.

Passwords (IMAP, SMTP) and the API channel's signing secret are sealed together in `Inbox.secrets_encrypted`
(`workflows.integrations.crypto`, the integrations' keys) as `{"imap_password", "smtp_password", "secret"}` and are
never read back by the API or admin; `inbox_secret` opens one for the code that needs it (the IMAP poller, the
sender). The inbound token is random, shown once, and kept only as its SHA-256 digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from conversations.choices import InboxChannel
from conversations.models import Inbox, Team
from workflows.integrations.crypto import decrypt_json, encrypt_json

SECRET_NAMES = ("imap_password", "smtp_password", "secret")
IMAP_FIELDS = {"host": str, "port": int, "username": str, "ssl": bool, "folder": str}
SMTP_FIELDS = {"host": str, "port": int, "username": str, "starttls": bool}
IMAP_DEFAULTS = {"port": 993, "ssl": True, "folder": "INBOX"}


def token_digest(token: str) -> str:
    """The stored form of an inbound token."""
    return hashlib.sha256(token.encode()).hexdigest()


def inbox_check_token(*, inbox: Inbox, token: str) -> bool:
    """Whether `token` is the inbox's inbound token (constant-time compare of the digests)."""
    if not token or not inbox.inbound_token_digest:
        return False
    return hmac.compare_digest(token_digest(token), inbox.inbound_token_digest)


def inbox_secrets(inbox: Inbox) -> dict[str, str]:
    """The inbox's sealed passwords and secret, opened (empty strings for the ones not set)."""
    opened = decrypt_json(inbox.secrets_encrypted, default={}) or {}
    return {name: str(opened.get(name) or "") for name in SECRET_NAMES}


def inbox_secret(inbox: Inbox, name: str) -> str:
    """One sealed value: `imap_password`, `smtp_password` or `secret` (the API channel's signing secret)."""
    return inbox_secrets(inbox)[name]


def _clean_settings(
    value: Any, fields: dict[str, type], field: str, defaults: dict | None = None
) -> tuple[dict, str | None]:
    """A server block (`imap` or `smtp`) checked field by field; returns it without the password, and the password
    (None when the block does not mention one, so an update keeps the stored one)."""
    if value in (None, {}):
        return {}, None
    if not isinstance(value, dict):
        raise ValidationError({field: _("Give an object with host, port, username, password.")})
    unknown = set(value) - set(fields) - {"password"}
    if unknown:
        raise ValidationError({field: _("Unknown keys: %(value0)s.") % {"value0": ", ".join(sorted(unknown))}})
    cleaned = dict(defaults or {})
    for key, kind in fields.items():
        if key in value and value[key] is not None:
            cleaned[key] = _typed(value[key], kind, f"{field}.{key}")
    if not str(cleaned.get("host") or "").strip():
        raise ValidationError({field: _("A host is required.")})
    if "port" in cleaned and not 0 < cleaned["port"] < 65536:
        raise ValidationError({field: _("The port is a number from 1 to 65535.")})
    password = value.get("password")
    if password is not None and not isinstance(password, str):
        raise ValidationError({field: _("The password is text.")})
    return cleaned, password


def _typed(value: Any, kind: type, name: str) -> Any:
    if kind is int:
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise ValidationError({name.split(".")[0]: _("%(name)s is a whole number.") % {"name": name}})
        return int(value)
    if kind is bool:
        if not isinstance(value, bool):
            raise ValidationError({name.split(".")[0]: _("%(name)s is true or false.") % {"name": name}})
        return value
    if not isinstance(value, str):
        raise ValidationError({name.split(".")[0]: _("%(name)s is text.") % {"name": name}})
    return value.strip()


def _check_common(*, name: str, channel: str, address: str, callback_url: str, exclude_pk: int | None) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": _("An inbox needs a name.")})
    if len(name.strip()) > 100:
        raise ValidationError({"name": _("A name has at most 100 characters.")})
    if Inbox.objects.filter(name__iexact=name.strip()).exclude(pk=exclude_pk).exists():
        raise ValidationError({"name": _('There is already an inbox named "%(value0)s".') % {"value0": name.strip()}})
    if channel not in InboxChannel.values:
        raise ValidationError({"channel": _("Choose one of: %(value0)s.") % {"value0": ", ".join(InboxChannel.values)}})
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"address": _("Enter a valid email address.")}) from None
    if channel == InboxChannel.EMAIL and not address:
        raise ValidationError({"address": _("An email inbox needs its support address (mail is sent from it).")})
    if callback_url:
        try:
            URLValidator(schemes=["http", "https"])(callback_url)
        except ValidationError:
            raise ValidationError({"callback_url": _("Enter a valid http(s) URL.")}) from None


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes (docs/api.md)."""
    return "whsec_" + base64.b64encode(random_secrets.token_bytes(32)).decode()


def inbox_create(
    *,
    name: str,
    channel: str,
    team: Team | None = None,
    address: str = "",
    imap: dict | None = None,
    smtp: dict | None = None,
    callback_url: str = "",
    secret: str = "",
    active: bool = True,
    commit: bool = True,
) -> tuple[Inbox, str]:
    """Make an inbox; returns it and its inbound token (shown once, stored as a digest). An API inbox without a
    secret gets a generated one (read it once with `inbox_secret`). `commit=False` validates and seals without
    saving (the admin form saves the row itself)."""
    address, callback_url = (address or "").strip(), (callback_url or "").strip()
    _check_common(name=name, channel=channel, address=address, callback_url=callback_url, exclude_pk=None)
    imap_settings, imap_password = _clean_settings(imap, IMAP_FIELDS, "imap", IMAP_DEFAULTS)
    smtp_settings, smtp_password = _clean_settings(smtp, SMTP_FIELDS, "smtp")
    if channel == InboxChannel.API and not secret:
        secret = new_webhook_secret()
    token = random_secrets.token_urlsafe(32)
    inbox = Inbox(
        name=name.strip(),
        channel=channel,
        team=team,
        address=address,
        imap=imap_settings,
        smtp=smtp_settings,
        callback_url=callback_url,
        active=bool(active),
        inbound_token_digest=token_digest(token),
    )
    inbox.secrets_encrypted = encrypt_json(
        {"imap_password": imap_password or "", "smtp_password": smtp_password or "", "secret": secret or ""}
    )
    if commit:
        with transaction.atomic():
            inbox.save()
    return inbox, token


def inbox_update(*, inbox: Inbox, commit: bool = True, **fields: Any) -> Inbox:
    """Change an inbox. A server block replaces the stored one; its password is kept when the block leaves it out
    (an empty string clears it). `secret` replaces the signing secret when given."""
    allowed = {"name", "channel", "team", "address", "imap", "smtp", "callback_url", "secret", "active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(
            {"non_field_errors": _("Unknown fields: %(value0)s.") % {"value0": ", ".join(sorted(unknown))}}
        )
    sealed = inbox_secrets(inbox)
    for key in ("name", "channel", "team", "address", "callback_url", "active"):
        if key in fields:
            value = fields[key]
            setattr(inbox, key, value.strip() if isinstance(value, str) else value)
    _check_common(
        name=inbox.name,
        channel=inbox.channel,
        address=inbox.address,
        callback_url=inbox.callback_url,
        exclude_pk=inbox.pk,
    )
    for block, names, defaults in (("imap", IMAP_FIELDS, IMAP_DEFAULTS), ("smtp", SMTP_FIELDS, None)):
        if block in fields:
            cleaned, password = _clean_settings(fields[block], names, block, defaults)
            setattr(inbox, block, cleaned)
            if password is not None:
                sealed[f"{block}_password"] = password
            elif not cleaned:
                sealed[f"{block}_password"] = ""
    if fields.get("secret") is not None:
        sealed["secret"] = str(fields["secret"])
    inbox.secrets_encrypted = encrypt_json(sealed)
    if commit:
        with transaction.atomic():
            inbox.save()
    return inbox


def inbox_rotate_token(*, inbox: Inbox) -> str:
    """A new inbound token (the old one stops working at once); returned once."""
    token = random_secrets.token_urlsafe(32)
    inbox.inbound_token_digest = token_digest(token)
    with transaction.atomic():
        inbox.save(update_fields=["inbound_token_digest", "updated_at"])
    return token


def inbox_delete(*, inbox: Inbox) -> None:
    """Delete an inbox that no conversation belongs to; one with conversations is deactivated instead."""
    count = inbox.conversations.count()
    if count:
        raise ValidationError(
            {
                "non_field_errors": _(
                    "%(inbox_name)s has %(count)s conversation(s): deactivate it (active: false) instead of deleting it."
                )
                % {"inbox_name": inbox.name, "count": count}
            }
        )
    with transaction.atomic():
        inbox.delete()


def inbox_record_poll(*, inbox: Inbox, at, error: str = "") -> None:
    """Remember when the inbox was last read and why it failed (empty when it worked)."""
    Inbox.objects.filter(pk=inbox.pk).update(last_polled_at=at, last_poll_error=(error or "")[:500])
