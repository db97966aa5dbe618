"""A write serializer's fields copied per request without `copy.deepcopy` (docs/operations.md "Performance of the
API").

DRF gives every serializer instance its own fields by deep-copying the declared ones, and with them every argument
they were declared with: choice lists, lazily translated help texts, querysets. Those arguments are never changed
by a field, so `CheapFieldCopies` builds each field again from the same arguments (DRF's own way of copying a field,
`Field.__deepcopy__`, minus the deep copy of the arguments); an argument that is itself a field (a list's `child`)
is still deep-copied, so no two serializers ever share a bound field.
"""

from __future__ import annotations

import copy
from typing import Any

from rest_framework import serializers


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
        return {name: _field_copy(field) for name, field in self._declared_fields.items()}
