"""`{{ moment|when }}`: a time in the viewer's zone and the one admin format (see `conversations.timefmt`)."""

from django import template

from conversations.timefmt import when as format_when

register = template.Library()


@register.filter
def when(value):
    """The moment in the viewer's time zone, labelled with the zone's abbreviation."""
    return format_when(value)
