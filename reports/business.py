"""Business minutes of the report (docs/reports.md): the open time of the SLA business calendar of the conversation's
policy (`sla.ConversationPolicy`) between two instants; a conversation with no policy, or a policy without a
calendar, counts calendar minutes, as its SLA clocks do (`sla.calendars.clock_seconds_between`).

Walking a calendar's open windows is Python, so the figures are computed once, when they happen, by the projector
(`reports.projection`) and stored in `ConversationFacts`; the report aggregates the stored minutes in the database.
"""

from __future__ import annotations

import datetime as dt

from sla.calendars import Calendar, clock_seconds_between
from sla.models import ConversationPolicy
from sla.policies import calendar_for


def calendar_of_conversation(conversation_id: int) -> Calendar | None:
    """The business calendar of the conversation's current policy (None: calendar time)."""
    assignment = ConversationPolicy.objects.filter(pk=conversation_id).select_related("policy__business_hours").first()
    if assignment is None or assignment.policy is None:
        return None
    return calendar_for(assignment.policy)


def business_minutes(calendar: Calendar | None, start: dt.datetime, end: dt.datetime) -> float:
    """Minutes of the calendar's open time from `start` to `end` (calendar minutes without a calendar)."""
    return round(clock_seconds_between(calendar, start, end) / 60.0, 4)
