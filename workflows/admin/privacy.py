"""The contact list's "Erase personal data" action (GDPR Art. 17), for managers, with a confirmation page that
says what goes and what stays. The contact admin lives in `conversations`, which cannot see the erasure service,
so this module adds the action to it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from conversations.admin.people import ContactAdmin
from conversations.roles import is_manager
from workflows.privacy.erase import contact_erase


@admin.action(description=gettext_lazy("Erase personal data of the selected contacts…"))
def erase_personal_data(modeladmin, request, queryset):
    if not is_manager(request.user):
        modeladmin.message_user(request, _("Only support managers may erase personal data."), messages.ERROR)
        return None
    contacts = list(queryset.annotate(conversation_count=Count("conversations")))
    if request.POST.get("confirm") == "yes":
        for contact in contacts:
            contact_erase(contact=contact)
        modeladmin.message_user(
            request,
            ngettext(
                "Erased the personal data of %(count)d contact.",
                "Erased the personal data of %(count)d contacts.",
                len(contacts),
            )
            % {"count": len(contacts)},
            messages.SUCCESS,
        )
        return None
    return TemplateResponse(
        request,
        "admin/workflows/privacy/erase_confirmation.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": _("Erase personal data?"),
            "contacts": contacts,
            "opts": modeladmin.model._meta,
            "action": "erase_personal_data",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )


ContactAdmin.actions = [*(ContactAdmin.actions or ()), erase_personal_data]
