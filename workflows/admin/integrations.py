"""Admin of integrations and custom actions (docs/managers.md). Secrets are password inputs that never render their
value (blank keeps the current one); the forms validate through the same services as the API. A custom action's change
page has a "Test action" button leading to a page that executes it and shows status, response and schema check.

Loaded from `WorkflowsConfig.ready()`.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations.safetext import SafeJSONFormField
from workflows.integrations import custom_actions, probe
from workflows.integrations import services as integrations
from workflows.models import AuthType, CustomAction, Integration

KEEP_HELP = gettext_lazy("Leave blank to keep the current value.")
SET_HELP = gettext_lazy("Set. Leave blank to keep the current value.")
JSON_WIDGET = forms.Textarea(attrs={"rows": 12, "cols": 90, "style": "font-family:monospace"})


def secret_input(label: str, help_text: str = KEEP_HELP) -> forms.CharField:
    """A password-style input that never shows the stored value."""
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the named field when the form has it, else on top."""
    for key, texts in exc.message_dict.items():
        form.add_error(
            key if key in form.fields else None, [f"{key}: {m}" if key not in form.fields else m for m in texts]
        )


class IntegrationForm(forms.ModelForm):
    """Auth fields per type; secret fields are write-only. Validation and encryption happen in the service."""

    base_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label=gettext_lazy("Base URL"),
        widget=forms.URLInput(attrs={"class": "vURLField", "style": "width: 36em"}),
        help_text=gettext_lazy("Custom action paths and http_request paths are joined to it."),
    )
    auth_type = forms.ChoiceField(choices=AuthType.choices, label=gettext_lazy("Auth type"))
    auth_username = forms.CharField(required=False, label=gettext_lazy("Username (basic)"))
    auth_password = secret_input(gettext_lazy("Password (basic)"))
    auth_token = secret_input(gettext_lazy("Token (bearer)"))
    auth_header = forms.CharField(required=False, label=gettext_lazy("Header name (header)"))
    auth_value = secret_input(gettext_lazy("Header value (header)"))
    auth_client_id = forms.CharField(required=False, label=gettext_lazy("Client ID (OAuth2)"))
    auth_client_secret = secret_input(gettext_lazy("Client secret (OAuth2)"))
    auth_token_url = forms.CharField(required=False, label=gettext_lazy("Token URL (OAuth2)"))
    auth_scope = forms.CharField(required=False, label=gettext_lazy("Scope (OAuth2)"))
    static_headers = SafeJSONFormField(
        required=False,
        label=gettext_lazy("Static headers"),
        widget=JSON_WIDGET,
        help_text=gettext_lazy('[{"key": "X-Api-Version", "value": "2"}] — not secret; use secrets.'),
    )
    remove_secrets = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Remove secrets"),
        help_text=gettext_lazy("Tick to delete a named secret."),
    )
    new_secret_name = forms.CharField(
        required=False,
        label=gettext_lazy("New secret name"),
        help_text=gettext_lazy("Add a named secret, used as {{ secrets.NAME }}."),
    )
    new_secret_value = secret_input(gettext_lazy("New secret value"), help_text="")

    class Meta:
        model = Integration
        fields = ["name", "base_url"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        summary = integrations.auth_summary(self.instance)
        self.fields["auth_type"].initial = summary["type"]
        for name, value in summary.items():
            if f"auth_{name}" in self.fields and not name.startswith("has_"):
                self.fields[f"auth_{name}"].initial = value
        for name in {name for fields in integrations.AUTH_FIELDS.values() for name in fields["secret"]}:
            if summary.get(f"has_{name}"):
                self.fields[f"auth_{name}"].help_text = SET_HELP
        self.fields["static_headers"].initial = self.instance.headers or []
        for name in self.instance.secret_names:
            self.fields[f"secret_{name}"] = secret_input(_("Secret %(name)s") % {"name": name}, help_text=SET_HELP)
        self.fields["remove_secrets"].choices = [(name, name) for name in self.instance.secret_names]
        # integration_form.js shows only the chosen type's fields; the server validates only those.
        self.fields["auth_type"].widget.attrs["data-auth-fields"] = json.dumps(
            {str(kind): [*fields["public"], *fields["secret"]] for kind, fields in integrations.AUTH_FIELDS.items()}
        )

    def _auth(self) -> dict[str, Any]:
        kind = self.cleaned_data.get("auth_type") or AuthType.NONE
        fields = integrations.AUTH_FIELDS[kind]
        return {
            "type": kind,
            **{name: self.cleaned_data.get(f"auth_{name}") or None for name in (*fields["public"], *fields["secret"])},
        }

    def _secrets(self) -> dict[str, str]:
        changed = {
            name: self.cleaned_data[f"secret_{name}"]
            for name in self.instance.secret_names
            if self.cleaned_data.get(f"secret_{name}")
        }
        changed.update({name: "" for name in self.cleaned_data.get("remove_secrets") or []})
        new_name = (self.cleaned_data.get("new_secret_name") or "").strip()
        if new_name:
            changed[new_name] = self.cleaned_data.get("new_secret_value") or ""
            if not changed[new_name]:
                self.add_error("new_secret_value", "Give the new secret's value.")
        return changed

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            integrations.integration_save(
                integration=self.instance,
                name=cleaned.get("name", ""),
                base_url=cleaned.get("base_url", ""),
                auth=self._auth(),
                headers=cleaned.get("static_headers") or [],
                secrets=self._secrets(),
                commit=False,
            )
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


class IntegrationAdmin(admin.ModelAdmin):
    form = IntegrationForm
    change_form_template = "admin/workflows/integration/change_form.html"
    list_display = ("name", "base_url", "auth_type", "secret_list", "updated_at")
    list_filter = ("auth_type",)
    search_fields = ("name", "base_url")
    readonly_fields = ("secret_list", "oauth_token_expires_at")

    def get_fieldsets(self, request, obj=None):
        auth = (
            "auth_type",
            "auth_username",
            "auth_password",
            "auth_token",
            "auth_header",
            "auth_value",
            "auth_client_id",
            "auth_client_secret",
            "auth_token_url",
            "auth_scope",
        )
        secrets = (
            "secret_list",
            *(f"secret_{name}" for name in (obj.secret_names if obj else [])),
            "remove_secrets",
            "new_secret_name",
            "new_secret_value",
        )
        return (
            (None, {"fields": ("name", "base_url", "static_headers")}),
            (_("Authentication"), {"fields": auth + (("oauth_token_expires_at",) if obj else ())}),
            (_("Named secrets"), {"fields": secrets}),
        )

    def get_form(self, request, obj=None, **kwargs):
        # The per-secret inputs are added by the form itself; only model fields go to modelform_factory.
        kwargs["fields"] = IntegrationForm.Meta.fields
        return super().get_form(request, obj, **kwargs)

    class Media:
        js = ("workflows/integration_form.js",)

    def get_urls(self):
        test = path(
            "<path:object_id>/test-connection/",
            self.admin_site.admin_view(self.test_connection_view),
            name="workflows_integration_test_connection",
        )
        return [test, *super().get_urls()]

    def test_connection_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: GET the saved base URL through the outbound client and say what happened, on the change page."""
        integration = get_object_or_404(Integration, pk=object_id)
        if not self.has_change_permission(request, integration):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        result = probe.integration_test_connection(integration=integration)
        self.message_user(
            request,
            _("Test connection: %(result)s") % {"result": result.message},
            messages.SUCCESS if result.ok else messages.ERROR,
        )
        return HttpResponseRedirect(reverse("admin:workflows_integration_change", args=[integration.pk]))

    @admin.display(description=gettext_lazy("Secrets"))
    def secret_list(self, obj: Integration) -> str:
        return ", ".join(obj.secret_names) or "–"

    def save_model(self, request, obj: Integration, form: IntegrationForm, change: bool) -> None:
        """The form's clean() ran the service with commit=False (validated, encrypted); this stores the row."""
        obj.save()


STARTER_SCHEMA = {"type": "object", "properties": {}}


class CustomActionForm(forms.ModelForm):
    # A new action starts from an empty object schema to fill in, not from `null`.
    input_schema = SafeJSONFormField(
        required=False,
        widget=JSON_WIDGET,
        initial=STARTER_SCHEMA,
        label=gettext_lazy("Input schema"),
        help_text=gettext_lazy("JSON Schema of the input."),
    )
    output_schema = SafeJSONFormField(
        required=False,
        widget=JSON_WIDGET,
        initial=STARTER_SCHEMA,
        label=gettext_lazy("Output schema"),
        help_text=gettext_lazy("JSON Schema of the output."),
    )

    class Meta:
        model = CustomAction
        fields = ["integration", "name", "description", "method", "path", "input_schema", "output_schema", "published"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            custom_actions.custom_action_save(action=self.instance, commit=False, **cleaned)
        except ValidationError as exc:
            add_service_errors(self, exc)
        return cleaned


class TestActionForm(forms.Form):
    input = SafeJSONFormField(
        required=False,
        widget=JSON_WIDGET,
        label=gettext_lazy("Input"),
        help_text=gettext_lazy("The input JSON to execute the action with ({} when empty)."),
    )


def example_input(schema: dict) -> dict:
    """A starting input for the test page: each property of the input schema with an empty value of its type."""
    blanks = {"string": "", "integer": 0, "number": 0, "boolean": False, "array": [], "object": {}}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return {}
    return {name: blanks.get(_main_type(spec), "") for name, spec in properties.items()}


def _main_type(spec: Any) -> str | None:
    """A property's type; for a list of types (["string", "null"]) the first that is not null."""
    declared = spec.get("type") if isinstance(spec, dict) else None
    if isinstance(declared, list):
        declared = next((kind for kind in declared if kind != "null"), None)
    return declared if isinstance(declared, str) else None


class CustomActionAdmin(admin.ModelAdmin):
    form = CustomActionForm
    change_form_template = "admin/workflows/customaction/change_form.html"
    list_display = ("name", "integration", "method", "path", "published", "updated_at")
    list_filter = ("published", "method", "integration")
    list_select_related = ("integration",)
    search_fields = ("name", "path", "description")

    def save_model(self, request, obj: CustomAction, form: CustomActionForm, change: bool) -> None:
        """The form's clean() ran the service with commit=False (validated); this stores the row."""
        obj.save()

    def get_urls(self):
        test = path(
            "<path:object_id>/test/",
            self.admin_site.admin_view(self.test_action_view),
            name="workflows_customaction_test",
        )
        return [test, *super().get_urls()]

    def test_action_view(self, request, object_id: str):
        """Execute the action with an input JSON and show status, response and schema check."""
        action = get_object_or_404(CustomAction.objects.select_related("integration"), pk=object_id)
        if not self.has_change_permission(request, action):
            raise PermissionDenied
        result = None
        if request.method == "POST":
            form = TestActionForm(request.POST)
            if form.is_valid():
                payload = form.cleaned_data["input"]
                result = custom_actions.custom_action_test(action=action, payload={} if payload is None else payload)
        else:
            form = TestActionForm(initial={"input": example_input(action.input_schema)})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": action,
            "title": _("Test action: %(name)s") % {"name": action.name},
            "form": form,
            "result": result,
            "response_json": json.dumps(result.response, indent=2) if result is not None else "",
            "change_url": reverse("admin:workflows_customaction_change", args=[action.pk]),
            "action_url": integrations.integration_url(action.integration, action.path),
        }
        return TemplateResponse(request, "admin/workflows/customaction/test_action.html", context)


admin.site.register(Integration, IntegrationAdmin)
admin.site.register(CustomAction, CustomActionAdmin)
