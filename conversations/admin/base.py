"""Building blocks shared by the conversations admin: read-only classes, role checks and service adapters."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.roles import is_manager

User = get_user_model()


def adopt(target, saved) -> None:
    """Make the admin's `target` the row a service saved, so the admin logs, messages and redirects to it.

    The admin keeps using the instance it built from the form after `save_model`; the service saved its own. Copying
    the concrete fields and the documented `Model._state` flags is the supported way to make one stand for the other.
    """
    for field in type(saved)._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding, target._state.db = False, saved._state.db


def split_tags(text: str) -> list[str]:
    """Comma-separated tag names, stripped and de-duplicated in order, checked as the service checks them."""
    names: list[str] = []
    for raw in (text or "").split(","):
        name = raw.strip()
        if len(name) > services.MAX_TAG_LENGTH:
            raise forms.ValidationError(
                _("A tag has at most %(services_MAX_TAG_LENGTH)s characters.")
                % {"services_MAX_TAG_LENGTH": services.MAX_TAG_LENGTH}
            )
        if name and name not in names:
            names.append(name)
    return names


def staff_users() -> QuerySet:
    return User.objects.filter(is_staff=True, is_active=True).order_by("username")


class NoWritesMixin:
    """Rows that are history (events, runs, transcripts): viewable, never added, changed or deleted in admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(NoWritesMixin, admin.ModelAdmin):
    """History and outputs of the engine: viewable with the view permission, never added, edited or deleted here."""


class ReadOnlyInline(NoWritesMixin):
    """Mixin for inlines that only show rows."""

    extra = 0
    can_delete = False
    show_change_link = False


class ManagersWriteMixin:
    """Teams and routing settings are configuration: agents see them, support managers change them."""

    def has_add_permission(self, request, *args) -> bool:
        return is_manager(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_manager(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_manager(request.user) and super().has_delete_permission(request, obj)


class ManagersOnlyMixin:
    """Configuration only support managers see and change (inboxes with their mail passwords, shared macros)."""

    def has_module_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_add_permission(self, request) -> bool:
        return is_manager(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_manager(request.user)


class ServiceErrorsAsMessages:
    """A rule only a service knows (the forms check the rest) comes back as an admin error message, not a 500.

    Django runs the save inside `transaction.atomic()`, so everything the failed save did is rolled back.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(
                request, gettext("Not saved: %(reasons)s") % {"reasons": " ".join(exc.messages)}, messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
