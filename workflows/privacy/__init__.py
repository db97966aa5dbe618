"""Personal data on request and by policy (GDPR Art. 17 and 20): erase a contact everywhere its data was copied,
export everything held about it, and erase conversations closed longer than `HELPDESK_RETENTION_DAYS` ago.

It sits in `workflows` because a contact's data is copied into every app's rows (conversations, SLA clocks,
workflow runs, replays, endpoint logs); `conversations` cannot see the others. Anonymised facts stay: counts, times,
statuses, SLA results, sentiment scores — so reports stay right.
"""
