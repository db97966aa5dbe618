"""Helpers shared by test files. Import from here, never from another directory's conftest.

Helpers (plain functions and classes): `people` (users with roles, API and admin clients), `runs` (drive the engine
the way the sweep does: drain, resume, a workflow's only run, a step's output, dry-run contexts), `mail` (raw
customer mail posted to an inbox), `sla` (policies and conversations at the reference Monday), `reports` (a history
played in time order), `clock` (a settable `timezone.now()`), `remote` (fake remote endpoints on 127.0.0.1 that hold
an answer until the test lets it go), `outbound` (fake remote APIs, signed webhooks and their receiver's check,
calls through an integration, an endpoint disabled by delivery health), `forms` (admin form bodies), `replay`
(workflows replayed on history over the API), `routing` (conversations waiting in a queue), `browser` helpers
(`log_in`, `open_page`, `save_and_continue`, table measurements).

Fixtures used by more than one directory live in `fixtures` (workflows, loopback allowlist, no-socket transport,
office hours, queue teams and agents) and `browser` (headless chromium, pages, screenshots); tests/conftest.py registers both for every test.
A fixture only one directory uses stays in that directory's conftest.
"""
