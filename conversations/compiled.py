"""Reads of one row by primary key whose SQL is compiled once per process from the ORM, for the API's hot paths.

Building a queryset's SQL (select_related, select_for_update) costs about a millisecond of Python per call, several
times what SQLite or PostgreSQL take to run it. `CompiledGet` compiles the queryset once per database alias and
vendor from the models (so the ORM stays the one source of the schema and the statement is exactly the one the
queryset would send), then only executes it: Django's cursor (so query counting and logging still see it), the
backend's value converters, and `Model.from_db` to build the instances.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.models import Model

_PK_SENTINEL = -7_319_402_861  # never an id: marks where the key goes among the compiled parameters


class _Statement:
    """One compiled statement: its SQL, parameters, where the key goes, and the column converters."""

    def __init__(self, sql: str, params: tuple, converters: dict) -> None:
        self.sql, self.params, self.converters = sql, params, converters
        self.key_index = params.index(_PK_SENTINEL) if _PK_SENTINEL in params else None

    def fetch(self, key: Any, alias: str) -> tuple | None:
        """The first row for `key` (converted), or None."""
        rows = self.fetch_all(alias, key, one=True)
        return rows[0] if rows else None

    def fetch_all(self, alias: str, key: Any = None, *, one: bool = False) -> list[tuple]:
        """The rows (converted), with `key` in its place when the statement reads by key."""
        params = list(self.params)
        if self.key_index is not None:
            params[self.key_index] = key
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = [cursor.fetchone()] if one else cursor.fetchall()
        converted = []
        for row in rows:
            if row is None:
                continue
            row = list(row)
            for position, (functions, expression) in self.converters.items():
                for convert in functions:
                    row[position] = convert(row[position], expression, connection)
            converted.append(tuple(row))
        return converted


# Per process: (model, related, for_update, database alias, vendor) -> its statement.
_statements: dict[tuple, _Statement] = {}


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
        self.model, self.related, self.for_update, self.where = model, related, for_update, where
        self.fields = tuple(field.attname for field in model._meta.concrete_fields)
        self.related_fields = {
            name: tuple(field.attname for field in self._related_model(name)._meta.concrete_fields) for name in related
        }

    def _related_model(self, name: str) -> type[Model]:
        return self.model._meta.get_field(name).related_model

    def _compile(self, alias: str) -> _Statement:
        columns = [
            *self.fields,
            *(f"{name}__{field}" for name, fields in self.related_fields.items() for field in fields),
        ]
        conditions = dict(self.where) if self.where is not None else {"pk": _PK_SENTINEL}
        queryset = self.model._default_manager.using(alias).filter(**conditions).values_list(*columns)
        if self.for_update:
            queryset = queryset.select_for_update()
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])
        return _Statement(sql, tuple(params), converters)

    def _key(self, pk: Any, alias: str) -> Any:
        """The key as the ORM would send it; None for a whole number outside the column's range (no row has it)."""
        field = self.model._meta.pk
        key = field.get_prep_value(pk)
        if isinstance(key, int):
            low, high = connections[alias].ops.integer_field_range(field.get_internal_type())
            if (low is not None and key < low) or (high is not None and key > high):
                return None
        return key

    def statement(self, alias: str) -> _Statement:
        """The statement for `alias`, compiled on first use (per vendor, so a test run on another backend recompiles)."""
        signature = (self.model, self.related, self.for_update, self.where, alias, connections[alias].vendor)
        if signature not in _statements:
            _statements[signature] = self._compile(alias)
        return _statements[signature]

    def __deepcopy__(self, memo: dict) -> CompiledGet:
        """Shared, not copied (DRF deep-copies a serializer's fields, and with them their arguments)."""
        return self

    def _alias(self) -> str:
        return router.db_for_write(self.model) if self.for_update else router.db_for_read(self.model)

    def get(self, pk: Any) -> Model:
        alias = self._alias()
        key = self._key(pk, alias)  # a TypeError or ValueError for a value that cannot be a key, as the ORM raises
        row = None if key is None else self.statement(alias).fetch(key, alias)
        if row is None:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        return self._instance(row, alias)

    def all(self) -> list[Model]:
        """For a `where=` read: every matching row, in the model's default ordering."""
        alias = self._alias()
        return [self._instance(row, alias) for row in self.statement(alias).fetch_all(alias)]

    def _instance(self, row: tuple, alias: str) -> Model:
        instance = self.model.from_db(alias, self.fields, row[: len(self.fields)])
        start = len(self.fields)
        for name, fields in self.related_fields.items():
            values = row[start : start + len(fields)]
            start += len(fields)
            related = None if values[0] is None else self._related_model(name).from_db(alias, fields, values)
            self.model._meta.get_field(name).set_cached_value(instance, related)
        return instance
