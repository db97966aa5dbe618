"""Admin form bodies tests post: a workflow definition and the editor's VIP form (workflows), and the POST body of a
conversation's change page as rendered (conversations)."""

from django.urls import reverse

DEFINITION = {
    "name": "Tag refunds",
    "description": "",
    "status": "draft",
    "trigger": {"type": "message.created", "config": {"sender_types": ["customer"]}},
    "steps": [{"type": "add_tag", "config": {"tags": ["refund"]}}],
}


ADD_URL = "/admin/workflows/workflow/add/"


VIP_FORM = {
    "name": "VIP cancellation",
    "description": "Route VIP cancellations",
    "status": "draft",
    "trigger.type": "message.created",
    "trigger.config.sender_types": ["customer"],
    "trigger.config.content_contains": "cancel\nterminate\n",
    "steps[0].type": "condition",
    "steps[0].config.all[0].field": "contact.attributes.vip",
    "steps[0].config.all[0].op": "eq",
    "steps[0].config.all[0].value": "true",
    "steps[0].config.all[1].any[0].field": "conversation.channel",
    "steps[0].config.all[1].any[0].op": "in",
    "steps[0].config.all[1].any[0].value": "email, live_chat",
    "steps[0].on_false": "skip_next",
    "steps[1].type": "add_tag",
    "steps[1].config.tags": "cancellation\nvip",
    "steps[2].type": "http_request",
    "steps[2].config.integration": "CRM",
    "steps[2].config.url": "https://crm.example.com/api/contacts",
    "steps[2].config.method": "POST",
    "steps[2].config.headers[0].key": "Authorization",
    "steps[2].config.headers[0].value": "Bearer {{ secrets.crm_token }}",
    "steps[2].config.values[0].key": "contactName",
    "steps[2].config.values[0].value": "{{ contact.name }}",
    "steps[2].config.values[0].format": "string",
    "steps[2].config.timeout_seconds": "10",
    "steps[2].config.save_as": "crm",
    "steps[3].type": "wait",
    "steps[3].config.hours": "2",
    "steps[3].config.minutes": "",
}


def change_url(conversation) -> str:
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def form_data(response) -> dict:
    """The POST body the browser would send for an admin change page as rendered (form, inlines, management)."""
    data = {}

    def add(form) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset.forms:
            add(form)
    return data
