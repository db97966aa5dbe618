"""The conversation list page read as rows: `values()` for the page, one narrow query per related column (tags, and
each column another app adds with a page loader, e.g. the SLA app's `sla`), and the JSON built from the
serializer's own field objects, built once per process.

Why: with model instances, a 50-row page spent most of its time building instances, DRF's per-row related-field
machinery (`tags`) and a nested serializer per row (`sla`). The JSON is the same, byte for byte, as
`ConversationSerializer(page, many=True).data` (tests/conversations/test_list_rows.py compares them); a field this
module cannot read from rows (a new serializer field without a page loader) makes the page fall back to the
serializer, so adding a field never breaks the list.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import ISO_8601, relations, serializers
from rest_framework.settings import api_settings

from conversations.models import Conversation

# Given the ids of a page's rows, a mapping that answers every one of them (a defaultdict for the empty value).
PageLoader = Callable[[list[int]], dict[int, Any]]


@dataclass(frozen=True)
class Column:
    """One key of a row's JSON: read `source` from the values() row and pass a non-null value to `convert`, or
    (`loader`) take the value a page loader gave for the row's id."""

    name: str
    source: str | None = None
    convert: Callable[[Any], Any] | None = None
    loader: PageLoader | None = None
    iso_datetime: bool = False  # a DateTimeField in ISO 8601 in the current time zone: converted in `_iso`


def _iso(value: Any, zone: Any, convert: Callable[[Any], Any]) -> Any:
    """What DRF's DateTimeField gives for an aware datetime in the current zone `zone` (ISO 8601, UTC as `Z`),
    without its per-value settings and time-zone lookups; anything else goes through the field itself."""
    if zone is None or not isinstance(value, dt.datetime) or value.utcoffset() is None:
        return convert(value)
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _identity(value: Any) -> Any:
    return value


def many_to_many_slugs(model: type, name: str, slug_field: str) -> PageLoader | None:
    """A loader of `name` (a many-to-many) as lists of `slug_field`, in the related model's default ordering (the
    order `prefetch_related` gives); None when that model has no ordering (the serializer's order is then unknown)."""
    field = model._meta.get_field(name)
    target = field.related_model
    if not target._meta.ordering:
        return None
    through = field.remote_field.through
    source_name, target_name = field.m2m_field_name(), field.m2m_reverse_field_name()
    ordering = [
        f"-{target_name}__{key[1:]}" if key.startswith("-") else f"{target_name}__{key}"
        for key in target._meta.ordering
    ]

    def load(ids: list[int]) -> dict[int, list]:
        values: dict[int, list] = defaultdict(list)
        for owner, slug in (
            through.objects.filter(**{f"{source_name}__in": ids})
            .order_by(*ordering)
            .values_list(f"{source_name}_id", f"{target_name}__{slug_field}")
        ):
            values[owner].append(slug)
        return values

    return load


def _column(field: serializers.Field, model: type, loaders: dict[str, PageLoader]) -> Column | None:
    """How to read one serializer field from rows, or None when it cannot be."""
    if field.field_name in loaders:
        return Column(field.field_name, loader=loaders[field.field_name])
    source = field.source
    if isinstance(field, relations.ManyRelatedField):
        child = field.child_relation
        if isinstance(child, relations.SlugRelatedField) and "." not in source:
            loader = many_to_many_slugs(model, source, child.slug_field)
            return Column(field.field_name, loader=loader) if loader else None
        return None
    try:
        model_field = model._meta.get_field(source)
    except Exception:
        return None
    if not model_field.concrete:
        return None
    if model_field.is_relation:
        if isinstance(field, relations.PrimaryKeyRelatedField) and field.pk_field is None and model_field.many_to_one:
            return Column(field.field_name, source=model_field.attname, convert=_identity)
        return None
    if isinstance(field, (serializers.SerializerMethodField, relations.RelatedField)):
        return None
    iso = (
        isinstance(field, serializers.DateTimeField)
        and not hasattr(field, "timezone")
        and str(getattr(field, "format", api_settings.DATETIME_FORMAT)).lower() == ISO_8601
    )
    return Column(field.field_name, source=model_field.attname, convert=field.to_representation, iso_datetime=iso)


def _remembered(instance: Any, field: serializers.Field) -> Any:
    """The rows a many-related field reads, straight from the instance's prefetch cache (filled by a prefetch or by
    `conversations.prefetch.remember_related`), without building the related manager; None when not cached."""
    if not isinstance(field, relations.ManyRelatedField) or "." in field.source:
        return None
    return getattr(instance, "_prefetched_objects_cache", {}).get(field.source)


class RowRenderer:
    """The columns of one serializer class, worked out once from one instance of it (built once per process)."""

    def __init__(self, serializer: serializers.ModelSerializer, loaders: dict[str, PageLoader]) -> None:
        model = serializer.Meta.model
        columns = [_column(field, model, loaders) for field in serializer._readable_fields]
        self.columns: list[Column] | None = None if any(column is None for column in columns) else columns

    @property
    def sources(self) -> list[str]:
        """The values() columns a page reads (the id always among them)."""
        names = {"id", *(column.source for column in self.columns or [] if column.source)}
        return sorted(names)

    def render(self, rows: Iterable[dict]) -> list[dict]:
        """The serializer's dicts for the values() rows, with each loader's column read for the whole page."""
        rows = list(rows)
        ids = [row["id"] for row in rows]
        loaded = {column.name: column.loader(ids) for column in self.columns if column.loader} if ids else {}
        zone = timezone.get_current_timezone() if settings.USE_TZ else None  # read once per page, not per value
        return [self._row(row, loaded, zone) for row in rows]

    def render_instance(self, instance: Any, fields: dict[str, serializers.Field]) -> dict:
        """The serializer's dict for one model instance (a create's or a change's response): each plain column read
        from the instance's attribute and converted as for a row; a loader's column (tags, `sla`) rendered by the
        serializer's own field from what the instance holds (its prefetch cache, when a service remembered it)."""
        row = {"id": instance.pk}
        loaded: dict[str, dict] = {}
        for column in self.columns or ():
            if column.loader is None:
                row[column.source] = getattr(instance, column.source)
                continue
            field = fields[column.name]
            attribute = _remembered(instance, field)
            if attribute is None:
                attribute = field.get_attribute(instance)
            loaded[column.name] = {instance.pk: None if attribute is None else field.to_representation(attribute)}
        return self._row(row, loaded, timezone.get_current_timezone() if settings.USE_TZ else None)

    def _row(self, row: dict, loaded: dict[str, dict], zone: Any) -> dict:
        """One row's dict: a loader's column from what it loaded for the row's id, the others converted."""
        data = {}
        for column in self.columns or ():
            if column.loader is not None:
                data[column.name] = loaded[column.name][row["id"]]
                continue
            value = row[column.source]
            if value is None:
                data[column.name] = None
            elif column.iso_datetime:
                data[column.name] = _iso(value, zone, column.convert)
            else:
                data[column.name] = column.convert(value)
        return data


_renderers: dict[tuple, RowRenderer] = {}


def conversation_rows(serializer_class: type, loaders: dict[str, PageLoader]) -> RowRenderer | None:
    """The renderer of `serializer_class` (None when a field cannot be read from rows), built once per field set."""
    signature = (serializer_class, tuple(serializer_class.Meta.fields), tuple(loaders.items()))
    if signature not in _renderers:
        _renderers.clear()
        _renderers[signature] = RowRenderer(serializer_class(), loaders)
    renderer = _renderers[signature]
    return renderer if renderer.columns is not None else None


def page_rows(queryset, renderer: RowRenderer):
    """`queryset` (of conversations, ordered) narrowed to the columns the renderer reads."""
    assert queryset.model is Conversation
    return queryset.values(*renderer.sources)
