"""A write serializer's fields copied per request without `copy.deepcopy` (docs/operations.md "Performance of the
API").

DRF gives every serializer instance its own fields by deep-copying the declared ones, and with them every argument
they were declared with: choice lists, lazily translated help texts, querysets. Those arguments are never changed
by a field, so `CheapFieldCopies` builds each field again from the same arguments (DRF's own way of copying a field,
`Field.__deepcopy__`, minus the deep copy of the arguments); an argument that is itself a field (a list's `child`)
is still deep-copied, so no two serializers ever share a bound field.

A field declared with no field among its arguments is copied cheaper still: `copy.copy` of the declared (never
bound) field gives the same attributes `__init__` would set from the same arguments, at a fraction of the cost of
running `__init__` again (DRF's field constructors are most of a create request's validation time). The containers a
field may change after construction (its validators, error messages and style) are copied too, so no two
serializers share one.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers

_OWN_CONTAINERS = ("_validators", "error_messages", "style")


def _plain(field: serializers.Field) -> bool:
    """A field that can be copied attribute by attribute: unbound, and with no field among its arguments."""
    return (
        not isinstance(field, serializers.BaseSerializer)
        and field.parent is None
        and not any(isinstance(value, serializers.Field) for value in field._kwargs.values())
    )


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    clone = object.__new__(type(field))
    state = field.__dict__.copy()
    for name in _OWN_CONTAINERS:
        value = state.get(name)
        if value is not None:
            state[name] = value.copy()
    clone.__dict__.update(state)
    return clone


def _field_copy(field: serializers.Field) -> serializers.Field:
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    kwargs = {
        key: copy.deepcopy(value) if isinstance(value, serializers.Field) else value
        for key, value in field._kwargs.items()
    }
    return field.__class__(*field._args, **kwargs)


class CheapFieldCopies:
    """First in a plain `Serializer`'s bases: its declared fields copied as above rather than deep-copied."""

    _declared_fields: dict[str, serializers.Field]

    def get_fields(self) -> dict[str, Any]:
        return {
            name: _shallow_copy(field) if _plain(field) else _field_copy(field)
            for name, field in self._declared_fields.items()
        }
