"""Admin of macros: support managers create and edit them; agents meet them as one-click buttons on the
conversation page, which post to `apply/<conversation id>/` here and come back to the page.

The buttons are a panel added to the conversation workspace through `conversations.admin.workspace` (conversations
never imports workflows). Every write goes through `workflows.engine.macros`.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from conversations.admin import workspace
from conversations.admin.base import ManagersOnlyMixin
from conversations.models import Conversation
from conversations.roles import is_agent
from workflows.admin.macro_editor import MacroEditorForm
from workflows.engine import macros
from workflows.models import Macro
from workflows.steps import step_types


# With JavaScript, a macro button previews first (Zendesk's behaviour): its reply fills the reply box for the agent to
# edit, its other changes are listed, and "Apply and send" applies them with the edited reply. Without JavaScript the
# button applies the macro at once.
def preview_box() -> str:
    """The hidden preview panel the script fills, in the agent's language."""
    return format_html(
        '<div class="ws-box ws-macro-preview" role="region" aria-label="{}" hidden>'
        '<p><strong class="ws-macro-name"></strong>: {}</p>'
        '<ul class="ws-macro-changes"></ul><p class="errornote ws-macro-error" hidden></p>'
        '<button type="button" class="button default ws-macro-send">{}</button> '
        '<button type="button" class="button ws-macro-cancel">{}</button></div>',
        _("Macro preview"),
        _("the reply is in the reply box; edit it, then apply."),
        _("Apply and send"),
        _("Cancel"),
    )


PREVIEW_SCRIPT = mark_safe("""<script>
(function () {
  "use strict";
  var panel = document.querySelector(".ws-macros"), box = document.getElementById("ws-body");
  if (!panel || !box || !window.fetch) { return; }
  var preview = panel.querySelector(".ws-macro-preview"), pending = null;
  panel.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form, event.submitter || undefined);
      var token = data.get("csrfmiddlewaretoken");
      fetch(panel.dataset.preview, {method: "POST", body: data, credentials: "same-origin",
                                    headers: {"X-CSRFToken": token}})
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          var error = preview.querySelector(".ws-macro-error");
          preview.hidden = false;
          error.hidden = !answer.error; error.textContent = answer.error || "";
          if (answer.error) { pending = null; return; }
          pending = {form: form, data: data};
          preview.querySelector(".ws-macro-name").textContent = answer.macro;
          var list = preview.querySelector(".ws-macro-changes");
          list.replaceChildren();
          answer.changes.forEach(function (text) {
            var li = document.createElement("li"); li.textContent = text; list.append(li); });
          if (answer.reply) { box.value = answer.reply; box.dispatchEvent(new Event("input")); }
          box.focus();
        });
    });
  });
  preview.querySelector(".ws-macro-cancel").addEventListener("click", function () {
    preview.hidden = true; pending = null; });
  preview.querySelector(".ws-macro-send").addEventListener("click", function () {
    if (!pending) { return; }
    var out = document.createElement("form");
    out.method = "post"; out.action = pending.form.action; out.hidden = true;
    pending.data.set("reply", box.value);
    pending.data.forEach(function (value, key) {
      var input = document.createElement("input"); input.type = "hidden"; input.name = key; input.value = value;
      out.append(input);
    });
    document.body.append(out); out.submit();
  });
})();
</script>""")


@admin.register(Macro)
class MacroAdmin(ManagersOnlyMixin, admin.ModelAdmin):
    form = MacroEditorForm
    list_display = ["name", "active", "step_summary", "created_by", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    list_select_related = ["created_by"]

    @admin.display(description=gettext_lazy("Steps"))
    def step_summary(self, macro: Macro) -> str:
        return ", ".join(
            str(step_types.get(step["type"]).label) for step in macro.steps if step_types.get(step["type"])
        )

    def save_model(self, request, obj: Macro, form: MacroEditorForm, change: bool) -> None:
        data = form.cleaned_data
        if change:
            macros.macro_update(
                macro=obj, name=data["name"], steps=data["steps"], active=data["active"], inputs=data["inputs"]
            )
        else:
            saved = macros.macro_create(
                name=data["name"],
                steps=data["steps"],
                active=data["active"],
                inputs=data["inputs"],
                created_by=request.user,
            )
            obj.pk, obj.created_at = saved.pk, saved.created_at
            obj._state.adding = False

    def get_urls(self):
        apply = path(
            "apply/<int:conversation_id>/",
            self.admin_site.admin_view(require_POST(self.apply_view)),
            name="workflows_macro_apply",
        )
        preview = path(
            "apply/<int:conversation_id>/preview/",
            self.admin_site.admin_view(require_POST(self.preview_view)),
            name="workflows_macro_preview",
        )
        return [apply, preview, *super().get_urls()]

    def _chosen(self, request: HttpRequest) -> Macro | None:
        chosen = request.POST.get("macro", "")
        return (
            macros.macros_for_agents(request.user).filter(pk=int(chosen)).first()
            if chosen.isdigit() and len(chosen) < 18
            else None
        )

    def preview_view(self, request: HttpRequest, conversation_id: int) -> JsonResponse:
        """The workspace's macro preview: the reply it would post (to edit) and its other changes, as JSON."""
        if not (is_agent(request.user) and request.user.has_perm("conversations.change_conversation")):
            raise PermissionDenied
        conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=conversation_id)
        macro = self._chosen(request)
        if macro is None:
            return JsonResponse({"error": _("Choose a macro.")}, status=400)
        try:
            preview = macros.macro_preview(
                macro=macro, conversation=conversation, agent=request.user, inputs=_input_values(request)
            )
        except ValidationError as exc:
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)
        return JsonResponse({"macro": macro.name, **preview})

    def apply_view(self, request: HttpRequest, conversation_id: int) -> HttpResponseRedirect:
        """A macro button on the conversation page: apply it as the agent, then back to the page with the result."""
        if not (is_agent(request.user) and request.user.has_perm("conversations.change_conversation")):
            raise PermissionDenied
        conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=conversation_id)
        macro = self._chosen(request)
        try:
            if macro is None:
                raise ValidationError(_("Choose a macro."))
            macros.macro_apply(
                macro=macro,
                conversation=conversation,
                agent=request.user,
                inputs=_input_values(request),
                reply=request.POST.get("reply"),
            )
            self.message_user(request, _('Applied the macro "%(name)s".') % {"name": macro.name}, messages.SUCCESS)
        except ValidationError as exc:
            self.message_user(
                request, _("Macro not applied: %(error)s") % {"error": " ".join(exc.messages)}, messages.ERROR
            )
        return HttpResponseRedirect(reverse("admin:conversations_conversation_change", args=[conversation.pk]))


INPUT_WIDGETS = {"text": "text", "number": "number", "date": "date"}


def _input_values(request: HttpRequest) -> dict[str, str]:
    """The macro inputs a workspace form posted (`input_<key>` fields)."""
    return {key[len("input_") :]: value for key, value in request.POST.items() if key.startswith("input_")}


def _macro_with_inputs(macro: Macro, url: str, token: str) -> str:
    """A macro that asks for values: its inputs inline (labelled), then Apply."""
    fields = format_html_join(
        "",
        '<label for="m{0}-{1}">{2}</label> <input id="m{0}-{1}" name="input_{1}" type="{3}" required size="12">',
        [(macro.pk, spec["key"], spec["label"], INPUT_WIDGETS.get(spec["type"], "text")) for spec in macro.inputs],
    )
    return format_html(
        '<form method="post" action="{}" class="ws-box ws-macro-inputs" aria-label="{}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
        '<input type="hidden" name="macro" value="{}">{}'
        '<button type="submit" class="button">{}</button></form>',
        url,
        macro.name,
        token,
        macro.pk,
        fields,
        macro.name,
    )


def macro_buttons(request: HttpRequest, conversation: Conversation) -> str:
    """The conversation page's macro panel: one button per active macro, inputs inline for those that ask (one
    query)."""
    offered = list(macros.macros_for_agents(request.user))
    url, token = reverse("admin:workflows_macro_apply", args=[conversation.pk]), get_token(request)
    plain = [(macro.pk, macro.name) for macro in offered if not macro.inputs]
    buttons = format_html_join("", '<button type="submit" name="macro" value="{}" class="button">{}</button>', plain)
    asking = format_html_join("", "{}", [(_macro_with_inputs(macro, url, token),) for macro in offered if macro.inputs])
    body = (
        format_html(
            '<form method="post" action="{}" class="ws-box"><input type="hidden" '
            'name="csrfmiddlewaretoken" value="{}">{}</form>{}',
            url,
            token,
            buttons,
            asking,
        )
        if offered
        else format_html('<div class="ws-box"><span class="ws-empty">{}</span></div>', _("No macros yet."))
    )
    preview_url = reverse("admin:workflows_macro_preview", args=[conversation.pk])
    return format_html(
        '<div class="module ws-macros" data-preview="{}"><h2>{}</h2>{}{}</div>{}',
        preview_url,
        _("Macros"),
        body,
        preview_box(),
        PREVIEW_SCRIPT,
    )


workspace.register_panel(workspace.Panel("side", macro_buttons))


# "Apply macro…" on the conversation list: choose a macro, give its inputs, see each conversation's outcome -------


class ApplyMacroForm(forms.Form):
    """The macro, then one field per input of the chosen macro (asked on a second page once it is chosen)."""

    macro = forms.ModelChoiceField(queryset=Macro.objects.none(), empty_label=gettext_lazy("Choose a macro…"))

    FIELD_FOR_TYPE = {"text": forms.CharField, "number": forms.DecimalField, "date": forms.DateField}

    def __init__(self, data, user, chosen: str = "", **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["macro"].queryset = macros.macros_for_agents(user)
        chosen = chosen or (data or {}).get("macro", "")
        macro = self.fields["macro"].queryset.filter(pk=int(chosen)).first() if str(chosen).isdigit() else None
        for spec in macro.inputs if macro else []:
            field = self.FIELD_FOR_TYPE.get(spec["type"], forms.CharField)(label=spec["label"])
            if spec["type"] == "date":
                field.widget = forms.DateInput(attrs={"type": "date"})
            self.fields[f"input_{spec['key']}"] = field
        if macro and macro.inputs:
            self.fields["inputs_shown"] = forms.CharField(
                widget=forms.HiddenInput, initial="1", required=False, label=""
            )
        # A macro with inputs chosen on the first page: ask its inputs before applying (docs/agent_day.md).
        self.needs_inputs = bool(macro and macro.inputs) and "inputs_shown" not in (data or {})
        self.chosen = macro

    def input_values(self) -> dict[str, str]:
        return {
            name[len("input_") :]: str(value) for name, value in self.cleaned_data.items() if name.startswith("input_")
        }


def _report(model_admin, request: HttpRequest, macro: Macro, results: list[dict]) -> None:
    done = [f"#{r['conversation']}" for r in results if r["ok"]]
    failed = [f"#{r['conversation']}: {r['error']}" for r in results if not r["ok"]]
    if done:
        model_admin.message_user(
            request,
            _('Applied "%(name)s" to %(done)s.') % {"name": macro.name, "done": ", ".join(done)},
            messages.SUCCESS,
        )
    if failed:
        model_admin.message_user(request, _("Not applied: %(failed)s") % {"failed": "; ".join(failed)}, messages.ERROR)


@admin.action(description=gettext_lazy("Apply macro…"), permissions=["change"])
def apply_macro(model_admin, request: HttpRequest, queryset):
    """Apply one macro (with its inputs) to each selected conversation, each on its own; list every outcome."""
    form = ApplyMacroForm(request.POST if "apply" in request.POST else None, request.user)
    if form.is_bound and form.needs_inputs:
        form = ApplyMacroForm(None, request.user, chosen=str(form.chosen.pk), initial={"macro": form.chosen.pk})
    elif form.is_bound and form.is_valid():
        macro = form.cleaned_data["macro"]
        try:
            results = macros.macro_apply_bulk(
                macro=macro,
                agent=request.user,
                inputs=form.input_values(),
                conversation_ids=list(queryset.values_list("pk", flat=True)[:101]),
            )
        except ValidationError as exc:
            model_admin.message_user(
                request, _("Macro not applied: %(error)s") % {"error": " ".join(exc.messages)}, messages.ERROR
            )
            return None
        _report(model_admin, request, macro, results)
        return None
    return model_admin.action_form_page(request, queryset, form, _("Apply a macro to conversations"))


workspace.register_list_action(apply_macro)
