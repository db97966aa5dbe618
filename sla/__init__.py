"""Service-level agreements: business-hours calendars, policies, per-conversation targets and the breach sweep."""
