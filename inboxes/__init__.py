"""Channels (SPEC §13): email and API inboxes — mail in, answers out, the API channel's callbacks."""
