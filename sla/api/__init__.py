"""REST API of the SLA app: business-hours calendars, policies, target reads and the SLA report."""
