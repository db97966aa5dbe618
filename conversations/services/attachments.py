"""Attachments: files on messages (email and API channels), from an upload or from an inbound mail's parts.

One function checks the size and cleans the name for both doors, so a file from a mail and a file from the API
obey the same limit and never carry a path, a control character or a reserved name into the storage.
"""

from __future__ import annotations

import os
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _

from conversations.conf import helpdesk_setting
from conversations.models import Attachment, Message
from conversations.prefetch import forget_related

_UNSAFE = re.compile(r"[^\w.\- ()\[\]+,@]+", re.UNICODE)
_MAX_NAME = 150


def clean_filename(name: str | None) -> str:
    """A file name safe for any storage and any browser: no folders, no control or shell characters, not hidden,
    at most 150 characters with its extension kept. An empty result becomes `attachment`."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" ._")
    if not name:
        return "attachment"
    stem, ext = os.path.splitext(name)
    if len(name) > _MAX_NAME:
        ext = ext[:20]
        name = stem[: _MAX_NAME - len(ext)] + ext
    return name


def max_attachment_bytes() -> int:
    return int(helpdesk_setting("MAX_ATTACHMENT_BYTES"))


def check_attachment_size(*, filename: str, size: int) -> None:
    """Refuse a file over `HELPDESK_MAX_ATTACHMENT_BYTES`, naming it (a 400 on `files` in the API)."""
    limit = max_attachment_bytes()
    if size > limit:
        raise ValidationError(
            {
                "files": _("%(filename)s is %(size)s bytes; files may be at most %(limit)s bytes.")
                % {"filename": filename, "size": format(size, ","), "limit": format(limit, ",")}
            }
        )


def attachment_add(
    *, message: Message, filename: str | None, content: bytes, content_type: str = "", content_id: str = ""
) -> Attachment:
    """Store one file on a message through the default storage. The caller holds the message's transaction."""
    name = clean_filename(filename)
    check_attachment_size(filename=name, size=len(content))
    attachment = Attachment(
        message=message,
        filename=name,
        content_type=(content_type or "")[:150],
        size=len(content),
        content_id=(content_id or "")[:300],
    )
    attachment.file.save(name, ContentFile(content), save=False)
    attachment.save()
    forget_related(message, "attachments")  # a list kept on the message (message_create's) no longer holds
    return attachment
