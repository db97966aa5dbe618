"""The OpenAPI schema view, built once per process and language instead of on every request.

Generating the schema walks every view and serializer (one to three seconds here); its answer only changes with the
code, so a process keeps the first one it made. A settings change (tests, `override_settings`) forgets it.
"""

from __future__ import annotations

from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response

_built: dict[tuple[Any, ...], tuple[dict, dict]] = {}


@receiver(setting_changed, dispatch_uid="workflows.api.schema.forget")
def forget_built_schemas(**kwargs) -> None:
    _built.clear()


class CachedSchemaView(SpectacularAPIView):
    """`SpectacularAPIView` whose generated schema is kept per (version, language, urlconf)."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language(), id(self.urlconf), self.serve_public)
        if key not in _built:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            _built[key] = (
                generator.get_schema(request=request, public=self.serve_public),
                {"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
            )
        data, headers = _built[key]
        return Response(data=data, headers=headers)
