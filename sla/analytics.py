"""SLA reporting (`GET /api/analytics/sla/`): met and breached counts and rates, median response and resolution times.

A target counts in the window when its outcome happened in it (met_at or breached_at in [since, until)). Median
times are wall-clock times of conversations: created to first agent reply for those first answered in the window,
created to resolved for those resolved in the window.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict

from django.db.models import Count, Q

from conversations.models import Conversation
from sla.models import Metric, SlaTarget, TargetState


def _rates(met: int, breached: int) -> dict:
    total = met + breached
    return {
        "met": met,
        "breached": breached,
        "total": total,
        "met_rate": round(met / total, 4) if total else None,
        "breached_rate": round(breached / total, 4) if total else None,
    }


def _outcome_counts(since: dt.datetime, until: dt.datetime) -> list[dict]:
    met = Q(state=TargetState.MET, met_at__gte=since, met_at__lt=until)
    breached = Q(state=TargetState.BREACHED, breached_at__gte=since, breached_at__lt=until)
    return list(
        SlaTarget.objects.filter(met | breached)
        .order_by()
        .values("metric", "policy_id", "policy__name")
        .annotate(met=Count("pk", filter=met), breached=Count("pk", filter=breached))
    )


def _median_seconds(start_field: str, end_field: str, since: dt.datetime, until: dt.datetime) -> float | None:
    rows = Conversation.objects.filter(**{f"{end_field}__gte": since, f"{end_field}__lt": until}).values_list(
        start_field, end_field
    )
    durations = [(end - start).total_seconds() for start, end in rows.order_by()]
    return round(statistics.median(durations), 1) if durations else None


def sla_report(*, since: dt.datetime, until: dt.datetime) -> dict:
    """The whole report for one window."""
    per_metric: dict[str, list[int]] = {metric: [0, 0] for metric in Metric.values}
    per_policy: dict[int | None, dict] = defaultdict(lambda: {"name": None, "metrics": defaultdict(lambda: [0, 0])})
    for row in _outcome_counts(since, until):
        per_metric[row["metric"]][0] += row["met"]
        per_metric[row["metric"]][1] += row["breached"]
        policy = per_policy[row["policy_id"]]
        policy["name"] = row["policy__name"]
        policy["metrics"][row["metric"]][0] += row["met"]
        policy["metrics"][row["metric"]][1] += row["breached"]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "metrics": {metric: _rates(*counts) for metric, counts in per_metric.items()},
        "policies": [
            {
                "id": policy_id,
                "name": policy["name"],
                "metrics": {metric: _rates(*counts) for metric, counts in policy["metrics"].items()},
                **_rates(sum(c[0] for c in policy["metrics"].values()), sum(c[1] for c in policy["metrics"].values())),
            }
            for policy_id, policy in sorted(per_policy.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
        "median_first_response_seconds": _median_seconds("created_at", "first_response_at", since, until),
        "median_resolution_seconds": _median_seconds("created_at", "resolved_at", since, until),
    }
