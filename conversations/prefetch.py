"""Filling Django's prefetch cache of one object by hand, when the writer already knows the related rows.

A service that has just created a row knows what its relations hold (a new conversation has no tags; the SLA
projector knows the clocks it started), so the API response can render them without reading them back. Django's
own related managers drop such a cache when they change the relation (`add`, `remove`, `set`, `clear`).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model


def remember_related(instance: Model, name: str, rows: Iterable[Model]) -> None:
    """Make `instance.<name>.all()` return `rows` without a query, exactly as `prefetch_related(name)` would."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = queryset


def forget_related(instance: Model | None, name: str) -> None:
    """Drop what `remember_related` (or a prefetch) kept for `name`, so the next read goes to the database."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache:
        cache.pop(name, None)
