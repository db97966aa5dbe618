"""Step types, one module each; `load_all` (called by `WorkflowsConfig.ready`) registers them all.

Importing the package does not load the step modules: they import the engine, which imports this package, so a
load at import time would close a circle that only the load order resolved."""

import importlib
import pkgutil

from workflows.steps.registry import Outcome, StepOutcome, StepType, step_types


def load_all() -> None:
    """Import every step module so its `@step_types.register` runs."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "registry":
            importlib.import_module(f"{__name__}.{module.name}")


__all__ = ["Outcome", "StepOutcome", "StepType", "step_types"]
