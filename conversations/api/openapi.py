"""The API's schema inspector: drf-spectacular's `AutoSchema` with operationIds named for what an operation does.

DRF's default names an extra action after its HTTP verb (`workflows_activate_create`, `workflows_export_retrieve`),
which client generators turn into method names. Here an extra action (a viewset `@action`, or an `APIView` such as
`conversations/{id}/apply-macro/`) is named after its path alone (`workflows_activate`, `conversations_apply_macro`),
as long as it answers one HTTP method; the CRUD operations keep `_list`, `_create`, `_retrieve`, `_update`,
`_partial_update` and `_destroy`. A host project names it in REST_FRAMEWORK's `DEFAULT_SCHEMA_CLASS` (drf-spectacular
builds the schema of an `@extend_schema`-decorated method from that setting, so a view attribute would not do).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework.generics import GenericAPIView

CRUD_ACTIONS = frozenset({"list", "create", "retrieve", "update", "partial_update", "destroy"})
OPERATION_METHODS = ("get", "post", "put", "patch", "delete")


class HelpdeskAutoSchema(AutoSchema):
    """`AutoSchema` whose extra actions are named without the verb suffix."""

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if not self._is_extra_action():
            return operation_id
        verb = "list" if self.method == "GET" and self._is_list_view() else self.method_mapping[self.method.lower()]
        return operation_id.removesuffix(f"_{verb}")

    def _is_extra_action(self) -> bool:
        """An operation that is not CRUD and is the only one its view answers on this path."""
        action_map = getattr(self.view, "action_map", None)
        if action_map is not None:  # a viewset route: its action, and how many methods share it (DRF adds `head`
            action = action_map.get(self.method.lower())  # to the route's map on its first GET, hence the filter)
            sharing = [method for method, name in action_map.items() if name == action and method in OPERATION_METHODS]
            return action not in CRUD_ACTIONS and len(sharing) == 1
        if isinstance(self.view, GenericAPIView):  # ListAPIView and the like are CRUD by nature
            return False
        answered = [method for method in OPERATION_METHODS if hasattr(self.view, method)]
        return answered == [self.method.lower()]
