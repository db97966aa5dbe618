"""Admin of canned responses: support managers keep the shared ones; agents meet them on the conversation page as a
"Canned responses" picker that fills the reply box with the text, placeholders filled, for them to edit and send
(nothing is sent by the picker). Every write goes through `workflows.engine.canned`."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from conversations.admin import workspace
from conversations.admin.base import ManagersOnlyMixin
from conversations.models import Conversation
from conversations.roles import is_agent
from workflows.engine import canned
from workflows.models import CannedResponse

# The picker inserts the rendered text at the cursor of the reply box (or after what is there) and focuses it.
PICKER_SCRIPT = mark_safe("""<script>
(function () {
  "use strict";
  var panel = document.querySelector(".ws-canned"), box = document.getElementById("ws-body");
  if (!panel || !box || !window.fetch) { return; }
  var select = panel.querySelector("select"), status = panel.querySelector(".ws-canned-status");
  panel.querySelector("button").addEventListener("click", function () {
    if (!select.value) { select.focus(); return; }
    var data = new FormData();
    data.set("canned", select.value);
    fetch(panel.dataset.render, {method: "POST", body: data, credentials: "same-origin",
                                 headers: {"X-CSRFToken": panel.dataset.csrf}})
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        status.textContent = answer.error || "";
        status.className = answer.error ? "ws-canned-status errornote" : "ws-canned-status";
        if (answer.error) { return; }
        var start = box.selectionStart || box.value.length, end = box.selectionEnd || box.value.length;
        box.value = box.value.slice(0, start) + answer.text + box.value.slice(end);
        box.dispatchEvent(new Event("input"));
        box.focus();
        box.selectionStart = box.selectionEnd = start + answer.text.length;
      });
  });
})();
</script>""")


@admin.register(CannedResponse)
class CannedResponseAdmin(ManagersOnlyMixin, admin.ModelAdmin):
    fields = ["name", "body"]
    list_display = ["name", "owner", "updated_at"]
    search_fields = ["name", "body"]
    list_select_related = ["owner"]

    def save_model(self, request, obj: CannedResponse, form, change: bool) -> None:
        data = form.cleaned_data
        if change:
            canned.canned_response_update(canned=obj, name=data["name"], body=data["body"])
        else:
            saved = canned.canned_response_create(name=data["name"], body=data["body"], created_by=request.user)
            obj.pk, obj.created_at = saved.pk, saved.created_at
            obj._state.adding = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):  # type: ignore[misc, valid-type]
            """The service's checks (a name taken, a template error) shown on the fields they name."""

            def clean(self) -> dict:
                cleaned = super().clean()
                try:
                    canned.canned_response_check(
                        name=cleaned.get("name"), body=cleaned.get("body"), owner=obj.owner if obj else None, canned=obj
                    )
                except ValidationError as exc:
                    for field, messages in exc.message_dict.items():
                        self.add_error(field if field in self.fields else None, messages)
                return cleaned

        return CheckedForm

    def get_urls(self):
        render = path(
            "render/<int:conversation_id>/",
            self.admin_site.admin_view(require_POST(self.render_view)),
            name="workflows_cannedresponse_render",
        )
        return [render, *super().get_urls()]

    def render_view(self, request: HttpRequest, conversation_id: int) -> JsonResponse:
        """The workspace picker: the chosen response's text for this conversation, as JSON."""
        if not (is_agent(request.user) and request.user.has_perm("conversations.change_conversation")):
            raise PermissionDenied
        conversation = get_object_or_404(Conversation.objects.select_related("contact"), pk=conversation_id)
        chosen = request.POST.get("canned", "")
        item = (
            canned.canned_responses_for(request.user).filter(pk=int(chosen)).first()
            if chosen.isdigit() and len(chosen) < 18
            else None
        )
        if item is None:
            return JsonResponse({"error": _("Choose a canned response.")}, status=400)
        try:
            return JsonResponse({"text": canned.canned_response_render(canned=item, conversation=conversation)})
        except ValidationError as exc:
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)


def canned_picker(request: HttpRequest, conversation: Conversation) -> str:
    """The conversation page's canned responses: a labelled select and Insert (one query); none: nothing shown."""
    offered = list(canned.canned_responses_for(request.user).values_list("pk", "name"))
    if not offered:
        return ""
    options = format_html_join("", '<option value="{}">{}</option>', offered)
    url = reverse("admin:workflows_cannedresponse_render", args=[conversation.pk])
    return format_html(
        '<div class="module ws-canned" data-render="{}" data-csrf="{}"><h2>{}</h2><div class="ws-box">'
        '<label for="ws-canned-pick" class="visually-hidden">{}</label>'
        '<select id="ws-canned-pick"><option value="">{}</option>{}</select> '
        '<button type="button" class="button">{}</button>'
        '<p class="ws-canned-status" aria-live="polite"></p></div></div>{}',
        url,
        get_token(request),
        _("Canned responses"),
        _("Canned response"),
        _("Choose a response…"),
        options,
        _("Insert"),
        PICKER_SCRIPT,
    )


workspace.register_panel(workspace.Panel("side", canned_picker))
