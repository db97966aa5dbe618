"""The admin Reports page (docs/reports.md): figures per group, charts, CSV button, and every figure a link to the
conversation list that counts exactly those conversations."""

import html
import re

import pytest

from tests.support.people import browser_for

PAGE = "/admin/reports/conversationreport/"
PERIOD = {"since": "2026-10-24", "until": "2026-10-25"}


def links_in(content: str, css_class: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'class="{css_class}" href="([^"]+)"', content)]


def listed(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {conversation.subject for conversation in response.context["cl"].result_list}


@pytest.mark.parametrize("group_by", ["day", "agent", "team", "channel", "tag"])
def test_each_row_figure_links_to_the_conversations_it_counts(story, berlin_manager, group_by):
    client = browser_for(berlin_manager)
    response = client.get(PAGE, {**PERIOD, "group_by": group_by})
    assert response.status_code == 200
    content = response.content.decode()
    rows = response.context["rows"]
    for figure, css in (("created", "fig-created"), ("resolved", "fig-resolved"), ("reopened", "fig-reopened")):
        hrefs = links_in(content, css)
        assert len(hrefs) == len(rows)
        for row, href in zip(rows, hrefs):
            assert len(listed(client, href)) == row[figure], (group_by, row["label"], figure, href)


def test_links_name_the_right_conversations(story, berlin_manager):
    client = browser_for(berlin_manager)
    response = client.get(PAGE, {**PERIOD, "group_by": "agent"})
    content = response.content.decode()
    assert listed(client, html.unescape(re.search(r'id="total-created" href="([^"]+)"', content)[1])) == {"B", "C", "D"}
    assert listed(client, html.unescape(re.search(r'id="total-reopened" href="([^"]+)"', content)[1])) == {"C"}
    assert listed(client, html.unescape(re.search(r'id="total-sla-breached" href="([^"]+)"', content)[1])) == {"C", "D"}
    by_key = {row["key"]: row for row in response.context["rows"]}
    assert listed(client, by_key[story["bob"].pk]["links"]["created"]) == {"C"}  # Bob's at its last resolution
    assert listed(client, by_key[story["ann"].pk]["links"]["created"]) == {"B", "D"}


def test_page_shows_charts_tables_and_the_csv_button(story, berlin_manager):
    response = browser_for(berlin_manager).get(PAGE, {**PERIOD, "group_by": "channel"})
    content = response.content.decode()
    assert content.count('<svg class="report-chart"') == 2
    assert 'id="sla-table"' in content and 'id="report-table"' in content
    assert 'href="/api/exports/conversations.csv?since=2026-10-24&amp;until=2026-10-25"' in content
    assert re.search(r'id="total-created" href="[^"]+">3<', content)


def test_a_bad_period_is_a_form_error(berlin_manager):
    response = browser_for(berlin_manager).get(PAGE, {"since": "2026-10-26", "until": "2026-10-25"})
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "since must be on or before until" in response.content.decode()


def test_reports_are_for_managers(story, berlin_manager, agent):
    assert browser_for(agent).get(PAGE).status_code == 403
    assert PAGE in browser_for(berlin_manager).get("/admin/").content.decode()
    assert PAGE not in browser_for(agent).get("/admin/").content.decode()
