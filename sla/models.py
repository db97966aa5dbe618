"""SLA tables."""
