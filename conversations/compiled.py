"""Reads of one row by primary key (or of a fixed set of rows) compiled once per process, for the API's hot paths.

Building a queryset's SQL (select_related, select_for_update) costs about a millisecond of Python per call, several
times what SQLite or PostgreSQL take to run it. `CompiledGet` states the read as a queryset and lets
`conversations.statements.Statement` (the engine's compiled statements) compile it once per database from the ORM
and rebuild it after a migration; it only adds what a primary-key read needs: the key as the ORM would send it and
`DoesNotExist` when no row has it.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet

from conversations.statements import Statement


class CompiledGet:
    """`model.objects[.select_for_update()].filter(pk=...)` with the forward foreign keys `related` joined, as one
    statement compiled on first use per database; `get(pk)` returns the instance with those relations cached, or
    raises `model.DoesNotExist` as `QuerySet.get` would. With `where=(("field", value), ...)` instead, fixed
    conditions and `all()` reads every matching row (e.g. the active SLA policies)."""

    def __init__(
        self,
        model: type[Model],
        *,
        related: tuple[str, ...] = (),
        for_update: bool = False,
        where: tuple[tuple[str, Any], ...] | None = None,
    ) -> None:
        self.model, self.for_update = model, for_update

        def build(slot: Any) -> QuerySet:
            queryset = model._default_manager.all()
            if related:
                queryset = queryset.select_related(*related)
            if where is not None:
                queryset = queryset.filter(**dict(where))
            else:
                queryset = queryset.filter(pk=slot("pk", model._meta.pk.name))
            return queryset.select_for_update() if for_update else queryset

        self.statement = Statement(model, build, locks=for_update)

    def __deepcopy__(self, memo: dict) -> CompiledGet:
        """Shared, not copied (DRF deep-copies a serializer's fields, and with them their arguments)."""
        return self

    def _alias(self) -> str:
        return router.db_for_write(self.model) if self.for_update else router.db_for_read(self.model)

    def _key(self, pk: Any, alias: str) -> Any:
        """The key as the ORM would send it; None for a whole number outside the column's range (no row has it)."""
        field = self.model._meta.pk
        key = field.get_prep_value(pk)
        if isinstance(key, int):
            low, high = connections[alias].ops.integer_field_range(field.get_internal_type())
            if (low is not None and key < low) or (high is not None and key > high):
                return None
        return key

    def get(self, pk: Any) -> Model:
        alias = self._alias()
        key = self._key(pk, alias)  # a TypeError or ValueError for a value that cannot be a key, as the ORM raises
        found = [] if key is None else self.statement.instances(alias, pk=key)
        if not found:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        return found[0]

    def all(self) -> list[Model]:
        """For a `where=` read: every matching row, in the model's default ordering."""
        return self.statement.instances(self._alias())
