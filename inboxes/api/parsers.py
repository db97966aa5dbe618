"""A parser for `message/rfc822` bodies: the raw mail's bytes passed through untouched (any charset, any line
ending), bounded (`max_mail_bytes`)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import BaseParser

from conversations.conf import helpdesk_setting


def max_mail_bytes() -> int:
    """The largest raw mail taken: room for a file at the attachment limit in base64, or the project's body limit."""
    attachment_limit = int(helpdesk_setting("MAX_ATTACHMENT_BYTES"))
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, attachment_limit * 4 // 3 + 1024 * 1024)


class RawMailParser(BaseParser):
    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        limit = max_mail_bytes()
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise RequestDataTooBig(f"A raw mail has at most {limit} bytes.")
        return data


class RawMailOctetParser(RawMailParser):
    """The same bytes sent as `application/octet-stream` (what some mail gateways and scripts send)."""

    media_type = "application/octet-stream"
