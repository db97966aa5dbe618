"""Times in admin are shown in the viewer's own time zone ("My preferences"), labelled with the zone's abbreviation,
in one format; the site's TIME_ZONE when the person has not chosen one."""

import datetime as dt

import pytest

from conversations import clock
from conversations import services as conversation_services
from conversations.models import UserPreference

pytestmark = pytest.mark.django_db
PREFERENCES = "/admin/conversations/userpreference/"
SUMMER_EVENING = dt.datetime(2026, 7, 1, 17, 30, tzinfo=dt.UTC)


@pytest.fixture
def old_conversation(contact):
    with clock.travel(SUMMER_EVENING - clock.now()):
        return conversation_services.conversation_open(contact=contact, channel="web", subject="Old")


def created_cell(client, conversation) -> str:
    page = client.get("/admin/conversations/event/").content.decode()
    assert page.count("2026-07-01") >= 1, "the event list shows the conversation's creation"
    return page


def test_times_show_in_the_site_zone_with_its_abbreviation_by_default(browser, old_conversation):
    assert "2026-07-01 17:30 UTC" in created_cell(browser, old_conversation)


def test_my_preferences_page_sets_my_zone_and_times_follow_it(browser, manager, old_conversation):
    own_page = browser.get(PREFERENCES)
    assert own_page.status_code == 200 and "My time zone" in own_page.content.decode()
    response = browser.post(PREFERENCES, {"time_zone": "Europe/Berlin"})
    assert response.status_code == 302
    assert UserPreference.objects.get(user=manager).time_zone == "Europe/Berlin"
    page = created_cell(browser, old_conversation)
    assert "2026-07-01 19:30 CEST" in page and "17:30 UTC" not in page


def test_an_unknown_zone_is_a_form_error(browser, manager):
    page = browser.post(PREFERENCES, {"time_zone": "Mars/Base"})
    assert page.status_code == 200
    assert "Mars/Base is not one of the available choices" in page.content.decode()


def test_people_only_see_their_own_preferences(browser, agent_browser, agent, manager):
    assert agent_browser.get(PREFERENCES).status_code == 200
    agent_row = UserPreference.objects.get(user=agent)
    assert browser.get(f"{PREFERENCES}{agent_row.pk}/change/").status_code in (302, 403, 404)
    assert UserPreference.objects.filter(user=manager).count() == 0


def test_when_filter_renders_a_moment_in_the_active_zone_with_its_abbreviation():
    from django.template import Context, Template
    from django.utils import timezone

    template = Template("{% load helpdesk_time %}{{ moment|when }}|{{ nothing|when }}")
    with timezone.override("America/New_York"):
        assert template.render(Context({"moment": SUMMER_EVENING, "nothing": None})) == "2026-07-01 13:30 EDT|"
