"""Conversation reports (docs/reports.md): figures per agent, team, channel, tag or day (volumes, first response and
resolution times, reopens, CSAT, SLA), the streamed CSV export and the admin Reports page.

A read-only room: it never writes domain state. It reads `conversations` (conversations, events, surveys) and `sla`
(target rows), and sits between `workflows` and `sla` in the layers contract.
"""
