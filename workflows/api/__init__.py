"""The workflow REST API (docs/api.md): workflows with their lifecycle actions, run history, analytics."""
