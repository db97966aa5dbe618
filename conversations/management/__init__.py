"""Management commands of the conversations app."""
