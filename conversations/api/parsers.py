"""The API's JSON parser: DRF's, plus the checks that keep hostile bodies out of storage (`conversations.safetext`).

`json.loads` raises RecursionError (not ValueError) past about a thousand levels of `[` or `{`, which DRF's parser
does not catch; a hostile or broken client must get a parse error like any other malformed body. A body that parses
is then walked once, without recursion: a NUL, a lone surrogate, nesting past `MAX_DEPTH` or more than `MAX_VALUES`
values is a 400 naming the top-level field, before any serializer, validator or `json.dumps` walks it recursively.
DRF may read the request stream itself, bypassing Django's DATA_UPLOAD_MAX_MEMORY_SIZE, so the parser enforces it
before decoding (raising Django's own RequestDataTooBig, which the API's error handler turns into a JSON 400).
"""

from __future__ import annotations

import io
import re

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from conversations.safetext import MAX_DEPTH, TOO_DEEP, text_problem_errors

# Strings (skipped whole, escapes included), brackets, and the colon that marks a key.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}:]')


def too_deep_field(raw: bytes) -> str | None:
    """The top-level key whose value nests past MAX_DEPTH, found without recursion (only asked once the decoder
    gave up), or None when there is no such key (e.g. the body itself is a deep list)."""
    depth, previous, key = 0, b"", None
    for token in _TOKENS.finditer(raw):
        text = token.group(0)
        if text in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH + 1 and key is not None:
                return key
        elif text in (b"]", b"}"):
            depth -= 1
        elif text == b":" and depth == 1 and previous.startswith(b'"'):
            key = previous[1:-1].decode("utf-8", "replace")
        previous = text
    return None


class SafeJSONParser(JSONParser):
    """JSONParser whose too-deep, too-big or unstorable bodies are a 400, never a 500 later on."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            raw = stream.read(limit + 1)
            if len(raw) > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            stream = io.BytesIO(raw)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            field = None
            if hasattr(stream, "seek"):
                stream.seek(0)
                field = too_deep_field(stream.read())
            if field is not None:  # name the field, as for a body the decoder could still read
                raise ValidationError({field: [TOO_DEEP]}) from exc
            raise ParseError(_("JSON parse error - the body is nested too deeply.")) from exc
        errors = text_problem_errors(data)
        if errors:
            raise ValidationError(errors)
        return data
