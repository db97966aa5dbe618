"""The SLA badge on the conversation page says when its time is business time (counted on the policy's calendar,
nights and weekends left out), so "due in 7h" is not read as seven hours from now; calendar time stays as it was."""

from django.urls import reverse

from tests.support.sla import make_policy, open_conversation


def badges(client, user, conversation) -> str:
    client.force_login(user)
    return client.get(reverse("admin:conversations_conversation_change", args=[conversation.pk])).content.decode()


def test_a_business_time_badge_says_so(client, agent, clock, office_hours, customer):
    make_policy(business_hours=office_hours, targets={"first_response": 60, "resolution": 480})
    conversation = open_conversation(customer)
    clock.advance(minutes=20)
    page = badges(client, agent, conversation)
    assert ">First response: due in 40m in business time</span>" in page
    assert ">Resolution: due in 7h 40m in business time</span>" in page


def test_a_calendar_time_badge_says_nothing_more(client, agent, clock, policy, customer):
    conversation = open_conversation(customer)
    clock.advance(minutes=20)
    page = badges(client, agent, conversation)
    assert ">First response: due in 40m</span>" in page and "business time" not in page
