"""`{% delivery_banner %}`: the delivery-health banner (disabled endpoints, failing workflows) at the top of every admin
page a manager opens, rendered by the apps' own `admin/base_site.html`, so a host project needs no context processor."""

from django import template

from workflows.integrations.delivery import admin_banner

register = template.Library()


@register.inclusion_tag("admin/workflows/delivery_banner.html", takes_context=True)
def delivery_banner(context) -> dict:
    """The open alerts for the page's request (none for agents, or outside /admin/)."""
    if "delivery_alerts" in context:  # a project that still lists the context processor: it was read once already
        return {"delivery_alerts": context["delivery_alerts"]}
    request = context.get("request")
    return admin_banner(request) if request is not None else {}
