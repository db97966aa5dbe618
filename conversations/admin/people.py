"""Admins of the people in the domain: contacts (phone and attributes through the services), teams, agents."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from conversations import services
from conversations.admin.base import ManagersWriteMixin, ServiceErrorsAsMessages, User, adopt, staff_users
from conversations.admin.routing import AgentStatusMixin, QueuePageMixin, SkillsFormField
from conversations.models import AgentProfile, Contact, Team
from conversations.phones import normalize_e164
from conversations.safetext import SafeJSONFormField


def attributes_patch(current: dict, wanted: dict) -> dict:
    """The patch that turns `current` into `wanted` in `services.contact_update`'s merge terms (None removes)."""
    patch: dict = {key: None for key in current if key not in wanted}
    patch.update({key: value for key, value in wanted.items() if current.get(key, object()) != value})
    return patch


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "segment", "language", "attributes"]
        field_classes = {"attributes": SafeJSONFormField}

    def clean_phone(self) -> str:
        """Accept any spelling of a valid number (spaces, dashes) and keep its E.164 form."""
        phone = (self.cleaned_data.get("phone") or "").strip()
        if not phone:
            return ""
        try:
            return normalize_e164(phone)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def clean_attributes(self) -> dict:
        attributes = self.cleaned_data.get("attributes")
        if attributes in (None, ""):
            return {}
        if not isinstance(attributes, dict):
            raise forms.ValidationError(_('Attributes are a JSON object, e.g. {"vip": true, "plan": "enterprise"}.'))
        return attributes


@admin.register(Contact)
class ContactAdmin(ServiceErrorsAsMessages, admin.ModelAdmin):
    form = ContactForm
    list_display = ["name", "email", "phone", "segment", "attributes_display", "created_at"]
    list_filter = ["segment"]
    search_fields = ["name", "email", "phone"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description=_("Attributes"))
    def attributes_display(self, contact: Contact) -> str:
        return json.dumps(contact.attributes, sort_keys=True) if contact.attributes else "–"

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # contacts carry conversations and events

    def save_model(self, request, obj: Contact, form: ContactForm, change: bool) -> None:
        data = form.cleaned_data
        fields = {key: data[key] for key in ("name", "email", "phone", "segment", "language")}
        if not change:
            adopt(obj, services.contact_create(**fields, attributes=data["attributes"]))
            return
        current = Contact.objects.get(pk=obj.pk)  # `obj` already carries the form's values
        patch = attributes_patch(current.attributes or {}, data["attributes"])
        adopt(obj, services.contact_update(contact=current, attributes_patch=patch, **fields))


class TeamForm(forms.ModelForm):
    """A team; the queue settings may be left out of a post (they keep their values), so a rename needs only the
    name."""

    class Meta:
        model = Team
        fields = ["name", "email", "auto_assign", "strategy", "skills_timeout_minutes", "reassign_after_minutes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("strategy", "skills_timeout_minutes"):
            if name in self.fields:  # absent where the admin shows the team read-only (agents)
                self.fields[name].required = False

    def clean_strategy(self) -> str:
        return self.cleaned_data.get("strategy") or self.instance.strategy

    def clean_skills_timeout_minutes(self) -> int:
        value = self.cleaned_data.get("skills_timeout_minutes")
        return self.instance.skills_timeout_minutes if value is None else value


@admin.register(Team)
class TeamAdmin(QueuePageMixin, ManagersWriteMixin, admin.ModelAdmin):
    form = TeamForm
    list_display = ["name", "email", "agent_count", "open_conversations", "auto_assign", "queue_link"]
    search_fields = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "email"]}),
        (
            _("Queue (routing)"),
            {
                "fields": [
                    "auto_assign",
                    "strategy",
                    "skills_timeout_minutes",
                    "reassign_after_minutes",
                    "members_with_skills",
                ]
            },
        ),
    ]
    readonly_fields = ["members_with_skills"]

    def get_queryset(self, request):
        open_filter = Q(conversations__status__in=services.OPEN_STATUSES)
        return (
            super()
            .get_queryset(request)
            .annotate(
                agent_count=Count("agents", distinct=True),
                open_conversations=Count("conversations", filter=open_filter, distinct=True),
            )
        )

    @admin.display(description=_("Agents"), ordering="agent_count")
    def agent_count(self, team) -> int:
        return team.agent_count

    @admin.display(description=_("Open conversations"), ordering="open_conversations")
    def open_conversations(self, team) -> int:
        return team.open_conversations

    def save_model(self, request, obj: Team, form, change: bool) -> None:
        fields = {key: form.cleaned_data[key] for key in form.changed_data if key in TEAM_FORM_FIELDS}
        if change:
            # teams have no events; the service fills the queue when a queue setting changed
            adopt(obj, services.team_update(team=Team.objects.get(pk=obj.pk), **fields))
        else:
            adopt(obj, services.team_create(**{"name": obj.name, "email": obj.email, **fields}))


TEAM_FORM_FIELDS = {"name", "email", "auto_assign", "strategy", "skills_timeout_minutes", "reassign_after_minutes"}


class AgentProfileForm(forms.ModelForm):
    skills = SkillsFormField(label=_("Skills"))

    class Meta:
        model = AgentProfile
        fields = ["user", "teams", "capacity", "status", "skills"]
        widgets = {"teams": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = staff_users()


@admin.register(AgentProfile)
class AgentProfileAdmin(AgentStatusMixin, ManagersWriteMixin, admin.ModelAdmin):
    """Routing settings of agents: teams, capacity and availability (what `route` steps respect)."""

    form = AgentProfileForm
    list_display = ["user", "team_list", "capacity", "status", "skill_list", "open_conversations", "last_assigned_at"]
    list_editable = ["capacity", "status"]
    list_filter = ["status", "teams"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    readonly_fields = ["last_assigned_at"]

    def get_queryset(self, request):
        open_filter = Q(user__assigned_conversations__status__in=services.OPEN_STATUSES)
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .prefetch_related("teams")
            .annotate(open_conversations=Count("user__assigned_conversations", filter=open_filter, distinct=True))
        )

    @admin.display(description=_("Teams"))
    def team_list(self, profile: AgentProfile) -> str:
        return ", ".join(team.name for team in profile.teams.all())

    @admin.display(description=_("Skills"))
    def skill_list(self, profile: AgentProfile) -> str:
        return ", ".join(profile.skills or []) or "–"

    @admin.display(description=_("Open conversations"), ordering="open_conversations")
    def open_conversations(self, profile) -> int:
        return profile.open_conversations

    def save_model(self, request, obj: AgentProfile, form, change: bool) -> None:
        """Status, capacity and skills through the routing service (going offline hands work back)."""
        if not change:
            obj.save()
            return
        data = {key: form.cleaned_data[key] for key in ("status", "capacity", "skills") if key in form.cleaned_data}
        adopt(obj, services.agent_update(profile=AgentProfile.objects.get(pk=obj.pk), **data))


class AgentProfileInlineForm(forms.ModelForm):
    skills = SkillsFormField(label=_("Skills"))

    class Meta:
        model = AgentProfile
        fields = ["teams", "capacity", "status", "skills"]


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    form = AgentProfileInlineForm
    fields = ["teams", "capacity", "status", "skills"]
    filter_horizontal = ["teams"]
    can_delete = False
    verbose_name = verbose_name_plural = _("Agent profile (routing)")


class HelpdeskUserAdmin(UserAdmin):
    """Django's user admin with the agent profile inline, so a new agent is set up on one page."""

    inlines = [*UserAdmin.inlines, AgentProfileInline]


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, HelpdeskUserAdmin)
