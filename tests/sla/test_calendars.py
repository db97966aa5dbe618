"""Business-time arithmetic, checked against cases worked out by hand (docs/managers.md)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from sla.calendars import (
    add_business_minutes,
    build_calendar,
    business_minutes_between,
    holidays_for_year,
    validate_holidays,
    validate_intervals,
    validate_timezone,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
UTC = dt.UTC


def weekdays(start: str, end: str, days=range(5)) -> list[dict]:
    return [{"weekday": day, "start": start, "end": end} for day in days]


def at(tz, *args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=tz)


def test_a_day_that_springs_forward_has_23_business_hours_in_berlin():
    always_open = build_calendar(timezone="Europe/Berlin", intervals=weekdays("00:00", "24:00", range(7)))
    saturday_noon = at(BERLIN, 2026, 3, 28, 12, 0)
    # 24 business hours later is Sunday 13:00 local: the night lost an hour (02:00 -> 03:00 on 29 March).
    assert add_business_minutes(always_open, saturday_noon, 24 * 60) == at(BERLIN, 2026, 3, 29, 13, 0)
    assert business_minutes_between(always_open, saturday_noon, at(BERLIN, 2026, 3, 29, 12, 0)) == 23 * 60


def test_overnight_shift_across_both_berlin_dst_changes_lasts_7_and_9_hours():
    night_shift = build_calendar(timezone="Europe/Berlin", intervals=[{"weekday": 5, "start": "22:00", "end": "06:00"}])
    spring = business_minutes_between(night_shift, at(BERLIN, 2026, 3, 28, 20, 0), at(BERLIN, 2026, 3, 29, 12, 0))
    autumn = business_minutes_between(night_shift, at(BERLIN, 2026, 10, 24, 20, 0), at(BERLIN, 2026, 10, 25, 12, 0))
    assert (spring, autumn) == (7 * 60, 9 * 60)


def test_new_york_office_hours_after_spring_forward_are_an_hour_earlier_in_utc():
    office = build_calendar(timezone="America/New_York", intervals=weekdays("09:00", "17:00"))
    friday_4pm = at(NEW_YORK, 2026, 3, 6, 16, 0)  # EST, UTC-5
    due = add_business_minutes(office, friday_4pm, 120)
    # One hour on Friday, one on Monday 9 March (EDT, UTC-4): 10:00 local = 14:00 UTC, not 15:00.
    assert due == dt.datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert business_minutes_between(office, friday_4pm, due) == 120


def test_new_york_fall_back_sunday_has_25_hours():
    always_open = build_calendar(timezone="America/New_York", intervals=weekdays("00:00", "24:00", range(7)))
    sunday, monday = at(NEW_YORK, 2026, 11, 1, 0, 0), at(NEW_YORK, 2026, 11, 2, 0, 0)
    assert business_minutes_between(always_open, sunday, monday) == 25 * 60


def test_overnight_shift_continues_into_the_next_morning_and_skips_the_weekend():
    nights = build_calendar(timezone="Europe/Berlin", intervals=weekdays("22:00", "06:00"))
    # Tuesday 05:00 + 2h: 1h until 06:00, then Tuesday's own shift from 22:00.
    assert add_business_minutes(nights, at(BERLIN, 2026, 6, 9, 5, 0), 120) == at(BERLIN, 2026, 6, 9, 23, 0)
    # Friday's shift ends Saturday 06:00; there is no Saturday or Sunday shift, so the clock resumes Monday 22:00.
    assert add_business_minutes(nights, at(BERLIN, 2026, 6, 13, 5, 30), 60) == at(BERLIN, 2026, 6, 15, 22, 30)


def test_weekend_is_skipped():
    office = build_calendar(timezone="Europe/Berlin", intervals=weekdays("09:00", "17:00"))
    assert add_business_minutes(office, at(BERLIN, 2026, 6, 12, 16, 30), 60) == at(BERLIN, 2026, 6, 15, 9, 30)


def test_several_intervals_a_day_skip_the_lunch_break():
    office = build_calendar(timezone="Europe/Berlin", intervals=weekdays("09:00", "12:00") + weekdays("13:00", "17:00"))
    assert add_business_minutes(office, at(BERLIN, 2026, 6, 9, 11, 30), 60) == at(BERLIN, 2026, 6, 9, 13, 30)


def test_a_public_holiday_on_a_friday_is_closed():
    office = build_calendar(timezone="America/New_York", intervals=weekdays("09:00", "17:00"), country="US")
    thursday_4pm = at(NEW_YORK, 2026, 12, 24, 16, 0)  # Christmas Day 2026 is a Friday
    assert add_business_minutes(office, thursday_4pm, 120) == at(NEW_YORK, 2026, 12, 28, 10, 0)


def test_easter_makes_a_four_day_weekend_in_germany():
    office = build_calendar(
        timezone="Europe/Berlin", intervals=weekdays("09:00", "17:00"), country="DE", subdivision="BY"
    )
    thursday_4pm = at(BERLIN, 2026, 4, 2, 16, 0)  # Good Friday 3 April, Easter Monday 6 April
    due = add_business_minutes(office, thursday_4pm, 120)
    assert due == at(BERLIN, 2026, 4, 7, 10, 0)
    assert business_minutes_between(office, thursday_4pm, due) == 120


def test_custom_closed_date_and_holiday_make_a_four_day_closure():
    office = build_calendar(
        timezone="Europe/Berlin", intervals=weekdays("09:00", "17:00"), country="DE", extra_dates=["2026-12-24"]
    )
    wednesday_4pm = at(BERLIN, 2026, 12, 23, 16, 0)  # 24th custom, 25th holiday (Friday), then the weekend
    assert add_business_minutes(office, wednesday_4pm, 120) == at(BERLIN, 2026, 12, 28, 10, 0)


def test_subdivision_holidays_apply_only_there():
    hours = weekdays("09:00", "17:00")
    bavaria = build_calendar(timezone="Europe/Berlin", intervals=hours, country="DE", subdivision="BY")
    berlin = build_calendar(timezone="Europe/Berlin", intervals=hours, country="DE", subdivision="BE")
    monday_4pm = at(BERLIN, 2026, 1, 5, 16, 0)  # Epiphany (Tuesday 6 January) is a holiday in Bavaria only
    assert add_business_minutes(bavaria, monday_4pm, 120) == at(BERLIN, 2026, 1, 7, 10, 0)
    assert add_business_minutes(berlin, monday_4pm, 120) == at(BERLIN, 2026, 1, 6, 10, 0)


def test_counting_inverts_adding():
    mornings_and_nights = weekdays("08:00", "12:00") + weekdays("20:00", "02:00")
    office = build_calendar(timezone="America/New_York", intervals=mornings_and_nights, country="US")
    start = at(NEW_YORK, 2026, 10, 29, 7, 13)
    for minutes in (1, 59, 240, 600, 1440, 5000):
        due = add_business_minutes(office, start, minutes)
        assert business_minutes_between(office, start, due) == pytest.approx(minutes)


def test_a_calendar_closed_every_day_is_refused_instead_of_looping():
    closed = build_calendar(
        timezone="UTC",
        intervals=weekdays("09:00", "17:00", [0]),
        extra_dates=[(dt.date(2026, 1, 1) + dt.timedelta(days=n)).isoformat() for n in range(1200)],
    )
    with pytest.raises(ValidationError):
        add_business_minutes(closed, dt.datetime(2026, 1, 1, tzinfo=UTC), 60)


def test_holidays_preview_lists_the_year_with_custom_dates():
    days = dict(holidays_for_year("DE", "BY", ["2026-12-24", "2027-01-02"], 2026))
    assert days[dt.date(2026, 4, 3)] == "Good Friday"
    assert days[dt.date(2026, 12, 24)] == "Custom closed date"
    assert dt.date(2027, 1, 2) not in days


@pytest.mark.parametrize(
    "intervals",
    [
        [],
        [{"weekday": 7, "start": "09:00", "end": "17:00"}],
        [{"weekday": 0, "start": "9", "end": "17:00"}],
        [{"weekday": 0, "start": "09:00", "end": "09:00", "extra": 1}],
        [{"weekday": 0, "start": "09:00", "end": "13:00"}, {"weekday": 0, "start": "12:00", "end": "17:00"}],
        "09:00-17:00",
    ],
)
def test_bad_intervals_are_refused(intervals):
    with pytest.raises(ValidationError):
        validate_intervals(intervals)


def test_bad_timezone_and_holiday_settings_are_refused():
    for check in (
        lambda: validate_timezone("Mars/Olympus"),
        lambda: validate_holidays("XX", "", []),
        lambda: validate_holidays("DE", "ZZ", []),
        lambda: validate_holidays("DE", "", ["24.12.2026"]),
    ):
        with pytest.raises(ValidationError):
            check()
