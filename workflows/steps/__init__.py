"""Step types, one module each; importing this package registers them all."""
import importlib
import pkgutil

from workflows.steps.registry import Outcome, StepOutcome, StepType, step_types


def load_all() -> None:
    """Import every step module so its `@step_types.register` runs."""
    for module in pkgutil.iter_modules(__path__):
        if module.name != "registry":
            importlib.import_module(f"{__name__}.{module.name}")


load_all()

__all__ = ["Outcome", "StepOutcome", "StepType", "step_types"]
