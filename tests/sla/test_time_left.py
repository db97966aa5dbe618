"""SLA "time left" counts one kind of time per target, and says which: business time when the policy uses a
calendar, calendar time otherwise, the same whether the clock runs or is paused (issue 14)."""

import re

from conversations import services
from tests.support.sla import make_policy


def targets(client, conversation) -> dict[str, dict]:
    return {row["metric"]: row for row in client.get(f"/api/conversations/{conversation.pk}/").json()["sla"]}


def time_left_cells(html: str) -> list[str]:
    """The "Time left" cells of a list (`<td>value</td>`) or an inline (`<td><p>value</p></td>`)."""
    cells = re.findall(r'<td class="field-remaining">\s*(?:<p>)?(.*?)(?:</p>)?\s*</td>', html, re.S)
    return [cell.strip() for cell in cells]


def test_business_time_left_is_the_same_running_overnight_and_paused(
    clock, office_hours, customer, agent_client, client, agent
):
    make_policy(business_hours=office_hours, targets={"resolution": 480})
    conversation = services.conversation_open(contact=customer, channel="email", subject="Invoice")
    clock.advance(hours=10)  # Monday 11:00 to 21:00 in Berlin: 6 open hours used, the office is closed now
    assert targets(agent_client, conversation)["resolution"]["remaining_seconds"] == 120 * 60
    client.force_login(agent)
    page = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/").content.decode()
    assert time_left_cells(page) == ['2h 00m <span class="sla-time-kind">business time</span>']

    services.conversation_change_status(conversation=conversation, status="on_hold")
    clock.advance(hours=30)
    assert targets(agent_client, conversation)["resolution"]["remaining_seconds"] == 120 * 60
    page = client.get(f"/admin/conversations/conversation/{conversation.pk}/change/").content.decode()
    assert time_left_cells(page) == ['2h 00m <span class="sla-time-kind">business time</span>']


def test_calendar_time_left_says_so(clock, policy, customer, client, manager):
    services.conversation_open(contact=customer, channel="email", subject="Invoice")
    clock.advance(minutes=15)
    client.force_login(manager)
    page = client.get("/admin/sla/slatarget/").content.decode()
    assert sorted(time_left_cells(page)) == [
        '0h 45m <span class="sla-time-kind">calendar time</span>',
        '7h 45m <span class="sla-time-kind">calendar time</span>',
    ]
    assert "<th" in page and "Time left" in page
