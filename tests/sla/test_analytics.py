"""GET /api/analytics/sla/: met and breached counts and rates per metric and policy, median response times."""

import pytest

from conversations import services
from sla.sweep import run_sweep
from tests.support.sla import make_policy, open_conversation

pytestmark = pytest.mark.django_db
WINDOW = {"since": "2026-06-08T00:00:00Z", "until": "2026-06-09T00:00:00Z"}


@pytest.fixture
def history(clock, customer):
    """Two conversations answered in 10 and 30 minutes, one never answered (breached), one resolved in 2 hours."""
    vip = make_policy(
        name="VIP",
        position=1,
        targets={"first_response": 20},
        match={"all": [{"field": "conversation.priority", "op": "eq", "value": "urgent"}]},
    )
    default = make_policy(name="Default", position=2, targets={"first_response": 60, "resolution": 480})
    fast, slow, _never_answered = (
        open_conversation(customer),
        open_conversation(customer, priority="urgent"),
        open_conversation(customer, priority="urgent"),
    )
    clock.advance(minutes=10)
    services.message_create(conversation=fast, body="Hi", sender_type="agent")
    clock.advance(minutes=20)
    services.message_create(conversation=slow, body="Hi", sender_type="agent")  # 30 min: VIP breached
    clock.advance(minutes=90)
    services.conversation_change_status(conversation=fast, status="resolved")
    run_sweep(now=clock.now)
    return vip, default


def test_report_counts_and_rates_per_metric_and_policy(manager_client, history):
    vip, default = history
    report = manager_client.get("/api/analytics/sla/", WINDOW).json()
    assert report["metrics"]["first_response"] == {
        "met": 1,
        "breached": 2,
        "total": 3,
        "met_rate": 0.3333,
        "breached_rate": 0.6667,
    }
    assert report["metrics"]["resolution"]["met"] == 1
    assert report["metrics"]["next_response"]["total"] == 0
    by_policy = {row["name"]: row for row in report["policies"]}
    assert (by_policy["VIP"]["breached"], by_policy["Default"]["met"]) == (2, 2)


def test_report_medians_are_wall_clock_seconds(manager_client, history):
    report = manager_client.get("/api/analytics/sla/", WINDOW).json()
    assert report["median_first_response_seconds"] == 20 * 60  # median of 10 and 30 minutes
    assert report["median_resolution_seconds"] == 120 * 60


def test_outcomes_outside_the_window_are_left_out(manager_client, history):
    report = manager_client.get(
        "/api/analytics/sla/", {"since": "2026-06-09T00:00:00Z", "until": "2026-06-10T00:00:00Z"}
    ).json()
    assert report["metrics"]["first_response"]["total"] == 0
    assert report["median_first_response_seconds"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"since": "yesterday"},
        {"until": "2026-13-01"},
        {"since": "2026-06-09T00:00:00Z", "until": "2026-06-08T00:00:00Z"},
    ],
)
def test_bad_window_is_a_400_naming_the_field(manager_client, query):
    response = manager_client.get("/api/analytics/sla/", query)
    assert response.status_code == 400
    assert set(response.json()) == {"until" if "until" in query else "since"}


def test_report_is_for_managers(agent_client):
    assert agent_client.get("/api/analytics/sla/").status_code == 403
