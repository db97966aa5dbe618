""" "My preferences": every person who can open admin edits their own preferences (the time zone times are shown
in), and nobody else's. The list URL opens the person's own page."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext_lazy as _

from conversations import preferences
from conversations.admin.api_access import api_access_view
from conversations.models import UserPreference


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", _("Site default (%(zone)s)") % {"zone": settings.TIME_ZONE})] + [
        (name, name.replace("_", " ")) for name in preferences.time_zone_names()
    ]


class PreferenceForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        required=False,
        label=_("My time zone"),
        help_text=_("Every time in admin is shown in this zone, labelled with its abbreviation."),
    )

    language = forms.ChoiceField(
        choices=lambda: [("", _("The browser's language"))] + list(settings.LANGUAGES),
        required=False,
        label=_("My language"),
        help_text=_("The language admin speaks to you."),
    )

    class Meta:
        model = UserPreference
        fields = ["time_zone", "language"]


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    form = PreferenceForm

    def _own(self, request: HttpRequest, obj: UserPreference | None) -> bool:
        user = request.user
        return user.is_active and user.is_staff and (obj is None or obj.user_id == user.pk)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._own(request, None)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._own(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return self._own(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(user=request.user)

    def get_urls(self):
        """The "API access" page (conversations/admin/api_access.py) lives beside the person's preferences."""
        page = self.admin_site.admin_view(lambda request: api_access_view(request, site_name=self.admin_site.name))
        return [path("api-access/", page, name="api_access"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """The person's own form (their row is made on first visit) instead of a list; it saves back here."""
        if not self.has_module_permission(request):
            raise PermissionDenied
        own, _created = UserPreference.objects.get_or_create(user=request.user)
        return self.change_view(request, str(own.pk), extra_context={"title": _("My preferences")})

    def save_model(self, request: HttpRequest, obj: UserPreference, form, change: bool) -> None:
        preferences.preference_save(user=request.user, time_zone=obj.time_zone, language=obj.language)

    def response_change(self, request: HttpRequest, obj: UserPreference):
        messages.success(request, _("Your preferences are saved."))
        return HttpResponseRedirect(request.path)
