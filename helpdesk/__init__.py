"""The helpdesk project package: settings, URLs and the API router."""
