"""The API's JSON parser: DRF's, except that JSON nested too deeply for Python's decoder is a 400, not a 500.

`json.loads` raises RecursionError (not ValueError) past about a thousand levels of `[` or `{`, which DRF's parser
does not catch; a hostile or broken client must get a parse error like any other malformed body.
"""
from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class SafeJSONParser(JSONParser):
    """JSONParser that turns a too-deeply-nested body into a 400 `{"detail": ...}`."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
