"""`GET /api/exports/conversations.csv`: one streamed row per conversation created in the period (docs/reports.md)."""

import csv
import io

from django.http import StreamingHttpResponse

from reports.export import BASE_COLUMNS
from tests.support.people import client_for

URL = "/api/exports/conversations.csv"
PERIOD = {"since": "2026-10-24", "until": "2026-10-25"}


def test_export_is_streamed_csv_with_one_row_per_conversation(story, berlin_manager):
    response = client_for(berlin_manager).get(URL, PERIOD)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="conversations-2026-10-24-2026-10-25.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert list(rows[0])[: len(BASE_COLUMNS)] == BASE_COLUMNS
    b, c, d = (story[name] for name in "BCD")
    assert [row["id"] for row in rows] == [str(b.pk), str(c.pk), str(d.pk)]
    assert rows[0] == {
        **rows[0],
        "created": "2026-10-24T00:00:00+02:00",
        "channel": "email",
        "team": "Support",
        "assignee": "ann",
        "status": "resolved",
        "priority": "normal",
        "tags": "billing",
        "first_response_minutes": "10.00",
        "resolution_minutes": "60.00",
        "csat_score": "5",
        "sla_breaches": "0",
    }
    assert rows[1] == {
        **rows[1],
        "created": "2026-10-25T00:30:00+02:00",
        "channel": "live_chat",
        "team": "",
        "assignee": "bob",
        "status": "resolved",
        "tags": "billing|vip",
        "first_response_minutes": "20.00",
        "resolution_minutes": "240.00",
        "csat_score": "2",
        "sla_breaches": "1",
    }
    assert rows[2] == {
        **rows[2],
        "created": "2026-10-25T23:59:00+01:00",
        "status": "open",
        "tags": "",
        "first_response_minutes": "30.00",
        "resolution_minutes": "",
        "csat_score": "",
        "sla_breaches": "1",
    }


def test_export_cells_never_start_a_spreadsheet_formula(story, berlin_manager):
    from conversations import services

    services.conversation_add_tags(conversation=story["D"], tags=["=HYPERLINK(1)"])
    response = client_for(berlin_manager).get(URL, PERIOD)
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[2]["tags"].startswith("'=")


def test_export_is_for_managers_and_checks_its_period(story, agent, manager):
    assert client_for(agent).get(URL, PERIOD).status_code == 403
    response = client_for(manager).get(URL, {"since": "not-a-date"})
    assert response.status_code == 400 and "since" in response.json()
