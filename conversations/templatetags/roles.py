"""Template filters for roles, so a template can show a link only to the people who may follow it."""

from django import template

from conversations import roles

register = template.Library()


@register.filter
def is_manager(user) -> bool:
    """`{% if user|is_manager %}`: superusers and support managers (as `conversations.roles.is_manager`)."""
    return roles.is_manager(user)
