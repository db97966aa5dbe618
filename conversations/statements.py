"""Statements built once per process (docs/operations.md "What a run costs").

The engine's hot path runs the same few statements thousands of times a second with only their values changing (the
step-row INSERT, the run-row UPDATE, the conversation lock, the tags read). Building each with the ORM every time
costs more CPU than the database spends on it. A `Statement` asks the ORM's own compiler for the SQL once per
database (alias and vendor), from a queryset whose variable parts are `Slot`s, and then executes it with the values
prepared by the model fields exactly as the ORM would (`get_db_prep_save` / `get_db_prep_value`). The models stay the
single source of the schema: nothing here names a table or column, and every compiled statement is dropped after a
migration (`post_migrate`, connected in `ConversationsConfig.ready`) and rebuilt on next use.
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connections, models, router
from django.db.models import Field, Model
from django.db.models.expressions import Expression
from django.db.models.query import get_related_populators
from django.db.models.sql import InsertQuery, UpdateQuery
from django.db.transaction import TransactionManagementError

_statements: weakref.WeakSet = weakref.WeakSet()


class _Marker:
    """Stands in a compiled statement's parameters for the value named `name`, given at execution."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<slot {self.name}>"


class Slot(Expression):
    """A value left open in a compiled statement: compiles to one placeholder, filled at execution."""

    def __init__(self, name: str, output_field: Field) -> None:
        super().__init__(output_field=output_field)
        self.marker = _Marker(name)

    def as_sql(self, compiler, connection):
        return "%s", [self.marker]

    def get_group_by_cols(self):
        return []


def forget_compiled_statements(**kwargs: Any) -> None:
    """Drop every compiled statement (the schema may have changed): `post_migrate` receiver."""
    for statement in list(_statements):
        statement.compiled.clear()


class _Compiled:
    """One statement's SQL on one database, with how to fill its parameters."""

    def __init__(self, sql: str, params: Sequence, slots: dict[str, Field], save: bool) -> None:
        self.sql = sql
        self.slots = slots
        self.save = save
        # Each parameter is a slot (prepared by its field at execution) or a constant the ORM already prepared.
        self.plan = [(param.name, None) if isinstance(param, _Marker) else (None, param) for param in params]
        self.compiler = None
        self.converters: dict = {}
        self.instance_plan: tuple | None = None  # `Statement.instances`: model, columns and related populators
        self.unchanged: dict[str, type | None] | None = None  # per slot: values of this type go as they are
        self.utc_text: dict[str, bool] = {}  # per slot: a UTC moment goes as its naive text (`utc_as_text`)

    def params(self, values: dict[str, Any], connection) -> list:
        if self.unchanged is None:
            self.unchanged = {name: unchanged_type(field, connection, self.save) for name, field in self.slots.items()}
            self.utc_text = {name: utc_as_text(field, connection, self.save) for name, field in self.slots.items()}
        unchanged, utc_text = self.unchanged, self.utc_text
        prepared = {}
        for name, field in self.slots.items():
            value = values[name]
            if value is None or type(value) is unchanged[name]:
                prepared[name] = value
            elif utc_text[name] and type(value) is dt.datetime and value.tzinfo is dt.UTC:
                prepared[name] = str(value.replace(tzinfo=None))
            else:
                prepared[name] = (
                    field.get_db_prep_save(value, connection)
                    if self.save
                    else field.get_db_prep_value(value, connection, prepared=False)
                )
        return [prepared[name] if name is not None else constant for name, constant in self.plan]


class Statement:
    """A SELECT or UPDATE compiled once per database from `build(slot)`, a function returning the queryset (for an
    UPDATE: a `(queryset, {field: value})` pair) with `slot(name, field_name)` where values vary."""

    def __init__(self, model: type[Model], build: Callable, *, update: bool = False, locks: bool = False) -> None:
        self.model, self.build, self.update, self.locks = model, build, update, locks
        self.compiled: dict[tuple[str, str], _Compiled] = {}
        _statements.add(self)

    def _slot(self, slots: dict[str, Field]) -> Callable[[str, str], Slot]:
        def slot(name: str, field_name: str, model: type[Model] | None = None) -> Slot:
            field = (model or self.model)._meta.get_field(field_name)
            field = getattr(field, "target_field", field) if field.is_relation else field
            slots[name] = field
            return Slot(name, field)

        return slot

    def for_connection(self, connection) -> _Compiled:
        key = (connection.alias, connection.vendor)
        compiled = self.compiled.get(key)
        if compiled is None:
            compiled = self.compiled[key] = self._compile(connection)
        return compiled

    def _compile(self, connection) -> _Compiled:
        slots: dict[str, Field] = {}
        built = self.build(self._slot(slots))
        if self.update:
            queryset, values = built
            query = queryset.query.chain(UpdateQuery)
            query.add_update_values(values)
            compiler = query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            return _Compiled(sql, params, slots, save=True)
        compiler = built.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        compiled = _Compiled(sql, params, slots, save=False)
        compiled.compiler = compiler
        compiled.converters = compiler.get_converters([column[0] for column in compiler.select])
        return compiled

    def _connection(self, using: str | None):
        return connections[using or router.db_for_write(self.model)]

    def rows(self, using: str | None = None, **values: Any) -> list[tuple]:
        """Execute the SELECT; its rows as the ORM would convert them (`values_list` order)."""
        connection = self._connection(using)
        if self.locks and connection.features.has_select_for_update and connection.get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        compiled = self.for_connection(connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(values, connection))
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return rows

    def instances(self, using: str | None = None, **values: Any) -> list[Model]:
        """Execute the SELECT of a model queryset; its rows as model instances (with `select_related` ones)."""
        connection = self._connection(using)
        compiled = self.for_connection(connection)
        rows = self.rows(connection.alias, **values)
        if not rows:
            return []
        if compiled.instance_plan is None:  # worked out once per statement and database, as the ORM does per query
            compiler = compiled.compiler
            klass_info, select = compiler.klass_info, compiler.select
            start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
            init_list = [column[0].target.attname for column in select[start:end]]
            populators = get_related_populators(klass_info, select, connection.alias)
            compiled.instance_plan = (klass_info["model"], start, end, init_list, populators)
        model, start, end, init_list, populators = compiled.instance_plan
        found = []
        for row in rows:
            obj = model.from_db(connection.alias, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def execute(self, using: str | None = None, **values: Any) -> int:
        """Execute the UPDATE; the number of rows it changed."""
        connection = self._connection(using)
        compiled = self.for_connection(connection)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, compiled.params(values, connection))
            return cursor.rowcount


_M = TypeVar("_M", bound=Model)


class Insert(Generic[_M]):
    """`bulk_create` of a model's rows with the INSERT compiled once per database and row count: every concrete
    field but an auto primary key, the primary keys read back where the database returns them (as `bulk_create`)."""

    def __init__(self, model: type[_M]) -> None:
        self.model = model
        self.compiled: dict[tuple[str, str, int], tuple[str, list, list]] = {}
        _statements.add(self)

    def fields(self) -> list[Field]:
        meta = self.model._meta
        return [field for field in meta.concrete_fields if not field.generated and field is not meta.auto_field]

    def sql(self, connection, objs: list[Model]) -> tuple[str, list[Field], list[Field]]:
        """The INSERT of `len(objs)` rows for `connection`, its fields and the fields it returns."""
        return self._compiled(connection, objs)[:3]

    def _compiled(self, connection, objs: list[Model]) -> tuple[str, list[Field], list[Field], list[tuple]]:
        key = (connection.alias, connection.vendor, len(objs))
        compiled = self.compiled.get(key)
        if compiled is None:
            sql, fields, returning = self._compile(connection, objs)
            plan = [
                (
                    field,
                    field.attname,
                    type(field).pre_save is Field.pre_save,
                    unchanged_type(field, connection, True),
                    utc_as_text(field, connection, True),
                )
                for field in fields
            ]
            compiled = self.compiled[key] = (sql, fields, returning, plan)
        return compiled

    def _compile(self, connection, objs: list[Model]) -> tuple[str, list[Field], list[Field]]:
        """The ORM's own INSERT for these rows (as `bulk_create` asks for it), kept for every later batch of as many
        rows: only the values change."""
        fields = self.fields()
        returning = list(self.model._meta.db_returning_fields)
        can_return = (
            connection.features.can_return_rows_from_bulk_insert
            if len(objs) > 1
            else connection.features.can_return_columns_from_insert
        )
        query = InsertQuery(self.model)
        query.insert_values(fields, objs)
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = returning if can_return else None
        ((sql, params),) = compiler.as_sql()
        # One plain placeholder per field and row, in field order: the values are prepared at execution, as the ORM
        # prepares them. A field type with its own placeholder (or a bulk form like UNNEST) cannot be kept.
        if len(params) != len(fields) * len(objs) or "UNNEST" in sql.upper():
            sql = self._compile_plain(connection, fields, len(objs), compiler.returning_fields)
        return sql, fields, returning if can_return else []

    def _compile_plain(self, connection, fields: list[Field], count: int, returning) -> str:
        """The same INSERT with every value left open (`Slot`s), for rows the ORM would write another way."""
        query = InsertQuery(self.model)
        rows = [self.model(**{field.attname: Slot(field.attname, field) for field in fields}) for _ in range(count)]
        query.insert_values(fields, rows)
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = returning
        ((sql, params),) = compiler.as_sql()
        if len(params) != len(fields) * count:
            raise ValueError(
                f"{self.model.__name__}: the INSERT has {len(params)} parameters, not {len(fields) * count}"
            )
        return sql

    def create(self, objs: list[_M], using: str | None = None) -> list[_M]:
        """Insert `objs` as `bulk_create` does (no signals; as many rows per statement as the database takes);
        returns them, saved."""
        if not objs:
            return objs
        connection = connections[using or router.db_for_write(self.model)]
        if len(objs) == 1:  # one row always fits one statement: no batch size to work out
            self._insert(objs, connection)
            return objs
        size = max(1, connection.ops.bulk_batch_size(self.fields(), objs))
        for first in range(0, len(objs), size):
            self._insert(objs[first : first + size], connection)
        return objs

    def _insert(self, objs: list[_M], connection) -> None:
        sql, _fields, returning, plan = self._compiled(connection, objs)
        params = []
        for obj in objs:
            state = obj.__dict__
            for field, attname, plain_pre_save, unchanged, utc_text in plan:
                # `field.pre_save(obj, True)` is the attribute itself for a field that does not override it
                value = state[attname] if plain_pre_save and attname in state else field.pre_save(obj, True)
                if value is None or type(value) is unchanged:
                    params.append(value)
                elif utc_text and type(value) is dt.datetime and value.tzinfo is dt.UTC:
                    params.append(str(value.replace(tzinfo=None)))
                else:
                    params.append(field.get_db_prep_save(value, connection))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if returning else []
        for obj, row in zip(objs, rows, strict=False):
            for field, value in zip(returning, row, strict=True):
                for converter in field.get_db_converters(connection):
                    value = converter(value, field, connection)
                setattr(obj, field.attname, value)
        for obj in objs:
            obj._state.adding, obj._state.db = False, connection.alias


# Field classes whose preparation of a value of one plain type is, on some databases, that value itself: a text for a
# text field, a whole number for an integer field or a key, a boolean, a float. Only the exact classes (a subclass
# may prepare its values its own way), and only where the check below confirms it for the connection.
_PLAIN_TYPES: dict[type[Field], type] = {
    models.CharField: str,
    models.TextField: str,
    models.SlugField: str,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.AutoField: int,
    models.BigAutoField: int,
    models.BooleanField: bool,
    models.FloatField: float,
}
_SAMPLES: dict[type, Any] = {str: "a text", int: 12345, bool: True, float: 0.25}


def unchanged_type(field: Field, connection, save: bool) -> type | None:
    """The plain type whose values `field` sends to `connection` exactly as they are (so preparing them can be
    skipped), or None. A key counts as its target field. Checked once on a sample: the field's own preparation must
    hand the very same object back."""
    target = field.target_field if isinstance(field, models.ForeignKey) and type(field) is models.ForeignKey else field
    plain = _PLAIN_TYPES.get(type(target))
    if plain is None:
        return None
    sample = _SAMPLES[plain]
    try:
        prepared = (
            field.get_db_prep_save(sample, connection)
            if save
            else field.get_db_prep_value(sample, connection, prepared=False)
        )
    except Exception:  # noqa: BLE001 - a field that refuses the sample is simply prepared every time
        return None
    return plain if prepared is sample else None


# Moments a check of `utc_as_text` prepares: with and without a fraction of a second (`str` leaves it out then).
_MOMENTS = (dt.datetime(2024, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC), dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=dt.UTC))


def utc_as_text(field: Field, connection, save: bool) -> bool:
    """Whether `field` sends a moment in UTC to `connection` as the text of that moment without its zone, as SQLite's
    backend does (`adapt_datetimefield_value` of a database in UTC), so the compiled statements can write that text
    directly. Only an exact `DateTimeField`, and only where the field's own preparation of sample moments gives
    exactly that text (PostgreSQL sends the moment itself: no)."""
    if type(field) is not models.DateTimeField:
        return False
    for moment in _MOMENTS:
        prepared = (
            field.get_db_prep_save(moment, connection)
            if save
            else field.get_db_prep_value(moment, connection, prepared=False)
        )
        if prepared != str(moment.replace(tzinfo=None)):
            return False
    return True


def compile_all(connection, insert_rows: int = 1) -> int:
    """Compile every statement this process has for `connection` now, each INSERT for 1 to `insert_rows` rows (a
    worker warming up before its first task, `workflows.engine.warmup`); returns how many were compiled. What cannot
    be compiled ahead is left to its first use, as before."""
    done = 0
    for statement in list(_statements):
        try:
            if isinstance(statement, Insert):
                for rows in range(1, insert_rows + 1):
                    statement._compiled(connection, [statement.model() for _ in range(rows)])
                    done += 1
            else:
                statement.for_connection(connection)
                done += 1
        except Exception:  # noqa: BLE001 - compiled on its first use instead
            continue
    return done
