"""What macros and canned responses share in the API: any agent reads the shared ones and their own; support managers
make and change shared ones; anyone makes and changes their own personal ones (`"personal": true`)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.request import Request

from conversations.api.views import IsSupportAgent
from conversations.roles import is_manager


def owner_for(user, *, personal: bool, noun: str):
    """The owner a new item gets: the user for a personal one, none for a shared one (managers only)."""
    if not personal and not is_manager(user):
        raise exceptions.PermissionDenied(
            _('Only support managers make shared %(noun)s; an agent\'s own is "personal": true.') % {"noun": noun}
        )
    return user if personal else None


class PersonalOrSharedMixin:
    """Agents only; changing a shared item is for managers, a personal one for its owner."""

    shared_noun = "items"
    WRITE_ACTIONS = ("update", "partial_update", "destroy")

    def get_permissions(self):
        return [IsSupportAgent()]

    def check_object_permissions(self, request: Request, obj) -> None:
        super().check_object_permissions(request, obj)  # type: ignore[misc]
        if self.action in self.WRITE_ACTIONS and obj.owner_id != request.user.pk and not is_manager(request.user):  # type: ignore[attr-defined]
            raise exceptions.PermissionDenied(
                _("Only support managers change shared %(noun)s.") % {"noun": self.shared_noun}
            )
