"""The rate limit's request times are kept compactly (conversations.api.throttling.CompactHistory): the same
decisions as DRF's list, and a list left in the cache by an older process still counts."""

import time

import pytest
from django.core.cache import cache

from tests.support.people import client_for


@pytest.fixture
def three_a_minute(settings):
    cache.clear()
    settings.HELPDESK_THROTTLE_USER = "3/min"
    yield settings
    cache.clear()


def test_a_list_left_by_an_older_process_still_counts(three_a_minute, manager):
    key = f"throttle_helpdesk_user_{manager.pk}"
    cache.set(key, [time.time() - 1, time.time() - 2], 60)  # two requests, as DRF's own throttle stores them
    client = client_for(manager)
    assert client.get("/api/conversations/").status_code == 200
    assert len(cache.get(key)) == 3
    refused = client.get("/api/conversations/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0


def test_times_older_than_the_window_drop_out(three_a_minute, manager):
    key = f"throttle_helpdesk_user_{manager.pk}"
    cache.set(key, [time.time() - 61, time.time() - 62, time.time() - 63], 60)
    client = client_for(manager)
    assert [client.get("/api/conversations/").status_code for _ in range(4)] == [200, 200, 200, 429]
