"""`GET /api/analytics/conversations/` against the hand-computed figures of the `story` fixture (docs/reports.md)."""

import pytest

from tests.support.people import client_for

URL = "/api/analytics/conversations/"
PERIOD = {"since": "2026-10-24", "until": "2026-10-25"}


def report(user, **params):
    response = client_for(user).get(URL, {**PERIOD, **params})
    assert response.status_code == 200, response.content
    return response.json()


def figures(created, resolved, reopened, first, resolution, csat, sla, business=None, comments=()):
    """The story's policy has no business calendar, so its business minutes are its calendar minutes."""
    first_business, resolution_business = business or (first, resolution)
    return {
        "created": created,
        "resolved": resolved,
        "reopened": reopened,
        "first_response_minutes": {"median": first[0], "p90": first[1]},
        "resolution_minutes": {"median": resolution[0], "p90": resolution[1]},
        "first_response_business_minutes": {"median": first_business[0], "p90": first_business[1]},
        "resolution_business_minutes": {"median": resolution_business[0], "p90": resolution_business[1]},
        "csat": {
            "answered": csat[0],
            "average": csat[1],
            "satisfied_share": csat[2],
            "commented": len(comments),
            "comments": list(comments),
        },
        "sla": {"targets": sla[0], "breached": sla[1]},
    }


# B, C and D are created in the period (Berlin days 10-24 and 10-25). First responses 10, 20, 30 minutes (D's
# internal note does not count): median 20, p90 = 20 + 0.8 × 10 = 28. Resolutions: B 60, C 240 (its last
# resolution): median 150, p90 = 60 + 0.9 × 180 = 222. CSAT 5 and 2. C and D breach their 15-minute target.
TOTAL = figures(3, 2, 1, (20.0, 28.0), (150.0, 222.0), (2, 3.5, 0.5), (3, 2))
B_ONLY = figures(1, 1, 0, (10.0, 10.0), (60.0, 60.0), (1, 5.0, 1.0), (1, 0))
C_ONLY = figures(1, 1, 1, (20.0, 20.0), (240.0, 240.0), (1, 2.0, 0.0), (1, 1))
D_ONLY = figures(1, 0, 0, (30.0, 30.0), (None, None), (0, None, None), (1, 1))


def rows_by_key(body):
    return {row["key"]: row for row in body["rows"]}


def without_label(row):
    return {name: value for name, value in row.items() if name not in ("key", "label")}


def test_total_counts_conversations_created_in_the_period_in_the_viewers_zone(story, berlin_manager):
    assert report(berlin_manager, group_by="channel")["total"] == TOTAL


def test_day_keys_are_local_dates_across_the_dst_change(story, berlin_manager):
    body = report(berlin_manager, group_by="day")
    assert [row["key"] for row in body["rows"]] == ["2026-10-24", "2026-10-25"]
    days = rows_by_key(body)
    assert without_label(days["2026-10-24"]) == B_ONLY
    # C (00:30 summer time) and D (23:59 winter time) are both on the 25-hour day of 10-25.
    assert without_label(days["2026-10-25"]) == figures(2, 1, 1, (25.0, 29.0), (240.0, 240.0), (1, 2.0, 0.0), (2, 2))
    assert days["2026-10-25"]["label"] == "2026-10-25"


def test_one_day_period_covers_the_whole_25_hour_day(story, berlin_manager):
    body = report(berlin_manager, group_by="day", since="2026-10-25", until="2026-10-25")
    assert body["total"]["created"] == 2


def test_same_period_in_utc_moves_the_edges(story, manager):
    """The site's zone is UTC: B (22:00 UTC on 10-23) falls before, E (23:00 UTC on 10-25) inside."""
    body = report(manager, group_by="day")
    assert {row["key"]: row["created"] for row in body["rows"]} == {"2026-10-24": 1, "2026-10-25": 2}


def test_group_by_channel(story, berlin_manager):
    rows = rows_by_key(report(berlin_manager, group_by="channel"))
    assert set(rows) == {"email", "live_chat"}
    assert rows["email"]["label"] == "Email"
    assert without_label(rows["email"]) == figures(2, 1, 0, (20.0, 28.0), (60.0, 60.0), (1, 5.0, 1.0), (2, 1))
    assert without_label(rows["live_chat"]) == C_ONLY


def test_group_by_team_with_a_row_for_no_team(story, berlin_manager):
    body = report(berlin_manager, group_by="team")
    rows = rows_by_key(body)
    assert set(rows) == {story["team"].pk, None}
    assert rows[story["team"].pk]["label"] == "Support"
    assert without_label(rows[story["team"].pk]) == figures(2, 1, 0, (20.0, 28.0), (60.0, 60.0), (1, 5.0, 1.0), (2, 1))
    assert rows[None]["label"] == "No team"
    assert without_label(rows[None]) == C_ONLY


def test_group_by_tag_counts_a_conversation_under_each_of_its_tags(story, berlin_manager):
    body = report(berlin_manager, group_by="tag")
    rows = rows_by_key(body)
    assert set(rows) == {"billing", "vip", None}
    assert without_label(rows["billing"]) == figures(2, 2, 1, (15.0, 19.0), (150.0, 222.0), (2, 3.5, 0.5), (2, 1))
    assert without_label(rows["vip"]) == C_ONLY
    assert rows[None]["label"] == "No tag" and without_label(rows[None]) == D_ONLY
    assert body["total"] == TOTAL  # each conversation once in the total


def test_group_by_agent_takes_the_assignee_at_the_last_resolution(story, berlin_manager):
    """C was Ann's when first resolved, Bob's when resolved again: Bob's. D was never resolved: its current
    assignee, Ann."""
    rows = rows_by_key(report(berlin_manager, group_by="agent"))
    ann, bob = story["ann"], story["bob"]
    assert set(rows) == {ann.pk, bob.pk}
    assert rows[ann.pk]["label"] == "Ann Agent" and rows[bob.pk]["label"] == "bob"
    assert without_label(rows[ann.pk]) == figures(2, 1, 0, (20.0, 28.0), (60.0, 60.0), (1, 5.0, 1.0), (2, 1))
    assert without_label(rows[bob.pk]) == C_ONLY


def test_empty_period_has_no_rows_and_an_empty_total(story, berlin_manager):
    body = report(berlin_manager, group_by="agent", since="2025-01-01", until="2025-01-31")
    assert body == {"rows": [], "total": figures(0, 0, 0, (None, None), (None, None), (0, None, None), (0, 0))}


def test_agents_get_403_and_anonymous_401(story, agent, anon_client):
    assert client_for(agent).get(URL, PERIOD).status_code == 403
    assert anon_client.get(URL, PERIOD).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "week"}, "group_by"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-01"}, "until"),
        ({"since": "2026-10-26", "until": "2026-10-25"}, "since"),
        ({"since": "2020-01-01", "until": "2026-10-25"}, "since"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(manager, params, field):
    response = client_for(manager).get(URL, {**PERIOD, **params})
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("group_by", ["day", "agent", "team", "channel", "tag"])
def test_the_total_is_the_same_whatever_the_grouping(story, berlin_manager, group_by):
    """Groupings that put each conversation in one group sum their groups into the total (tag, where a conversation
    counts under each of its tags, computes it on its own): every way gives the hand-computed total."""
    assert report(berlin_manager, group_by=group_by)["total"] == TOTAL
