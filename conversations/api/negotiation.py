"""Content negotiation with the answer remembered per Accept header (docs/operations.md, "Performance of the API").

DRF's negotiation works out the renderer anew for every request: it builds the request's `headers` mapping (a walk
over every WSGI variable) and parses the Accept header and each renderer's media type, ~100 µs of CPU for a create.
Its answer depends only on the Accept header, the renderers and a format override (`?format=` or a `.json`
suffix), so without an override the answer for a header is kept (a bounded table per process) and the same renderer
and media type are handed back; with an override, or a header that fails (406), DRF's own negotiation runs.
"""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation

# Accept headers remembered per process: clients send a handful; past this the table starts again.
MAX_REMEMBERED = 256


class RememberingContentNegotiation(DefaultContentNegotiation):
    """`DefaultContentNegotiation`, remembering its choice per (Accept header, renderer classes)."""

    _chosen: dict[tuple, tuple[int, str]] = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        meta = request._request.META
        if format_suffix or self.settings.URL_FORMAT_OVERRIDE in meta.get("QUERY_STRING", ""):
            return super().select_renderer(request, renderers, format_suffix)
        key: tuple[Any, ...] = (meta.get("HTTP_ACCEPT"), *(type(renderer) for renderer in renderers))
        chosen = self._chosen.get(key)
        if chosen is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            if len(self._chosen) >= MAX_REMEMBERED:
                self._chosen.clear()
            chosen = self._chosen[key] = (renderers.index(renderer), media_type)
        return renderers[chosen[0]], chosen[1]
