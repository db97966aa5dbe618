"""The workflow REST API (SPEC §8): workflows with their lifecycle actions, run history, analytics."""
