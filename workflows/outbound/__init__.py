"""Outbound HTTP: the one client every step uses (SSRF guard, timeouts, idempotency keys, retries, signing)."""
