"""Trigger types, one module per family; `load_all` (called by `WorkflowsConfig.ready`) registers them all (see
`registry`). Importing the package does not load the families, so the engine can import the registry without a circle.

Families load in the order the editor and the API list their trigger types. Adding a trigger type: add it to its
family module (or a new module named in FAMILIES) with its schema, filters and hooks; nothing else changes.
"""

import importlib

from workflows.triggers.registry import TriggerType, trigger_types

FAMILIES = ("conversation", "message", "contact", "recording", "survey", "ticket", "sla", "schedule", "manual")
HELPERS = ("registry", "intents")  # modules of the package that are not trigger families


def load_all() -> None:
    """Import every family module so its `trigger_types.register(...)` runs."""
    for family in FAMILIES:
        importlib.import_module(f"{__name__}.{family}")


__all__ = ["FAMILIES", "HELPERS", "TriggerType", "trigger_types"]
