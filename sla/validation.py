"""The values of an SLA policy checked (targets, pause statuses, warning percent): used by the model's `clean`,
the API serializer and `sla.policies.sla_policy_save`, and below all three."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from sla.choices import PAUSABLE_STATUSES, Metric
from sla.matching import validate_condition

MAX_TARGET_MINUTES = 366 * 24 * 60


def validate_targets(targets: Any) -> dict[str, int]:
    """`{"first_response": minutes, ...}`: known metrics, whole minutes from 1 to a year, at least one set."""
    if not isinstance(targets, dict):
        raise ValidationError({"targets": _("Expected an object of minutes per metric.")})
    unknown = set(targets) - set(Metric.values)
    if unknown:
        raise ValidationError({"targets": _("Unknown metric(s): %(value0)s.") % {"value0": ", ".join(sorted(unknown))}})
    cleaned = {}
    for metric, minutes in targets.items():
        if minutes is None:
            continue
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_TARGET_MINUTES:
            raise ValidationError(
                {
                    "targets": _("%(metric)s: a whole number of minutes from 1 to %(MAX_TARGET_MINUTES)s.")
                    % {"metric": metric, "MAX_TARGET_MINUTES": MAX_TARGET_MINUTES}
                }
            )
        cleaned[metric] = minutes
    if not cleaned:
        raise ValidationError({"targets": _("Set at least one target.")})
    return cleaned


def validate_pause_on(pause_on: Any) -> list[str]:
    """Statuses that pause the clocks (resolved/closed stop them instead, so they are not allowed here)."""
    if not isinstance(pause_on, list) or not all(isinstance(item, str) for item in pause_on):
        raise ValidationError({"pause_on": _("Expected a list of statuses.")})
    bad = [item for item in pause_on if item not in PAUSABLE_STATUSES]
    if bad:
        raise ValidationError(
            {
                "pause_on": _("Not pausable: %(value0)s (one of: %(value1)s).")
                % {"value0": ", ".join(bad), "value1": ", ".join(PAUSABLE_STATUSES)}
            }
        )
    return list(dict.fromkeys(pause_on))


def validate_policy_values(*, match: Any, targets: Any, pause_on: Any, warning_percent: Any) -> None:
    """Validate everything of a policy but its name; errors are keyed by the API field names."""
    validate_condition(match)
    validate_targets(targets)
    validate_pause_on(pause_on)
    if warning_percent is not None and (
        isinstance(warning_percent, bool) or not isinstance(warning_percent, int) or not 1 <= warning_percent <= 99
    ):
        raise ValidationError({"warning_percent": _("A whole percentage from 1 to 99, or null for no warning.")})
