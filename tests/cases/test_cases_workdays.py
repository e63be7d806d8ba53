"""Working days with China's holidays and make-up workdays; weekends-only fallback with one warning."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import pytest

from cases import workdays
from cases.clock import BEIJING


def test_make_up_saturday_counts_and_spring_festival_does_not() -> None:
    assert workdays.is_workday(date(2026, 2, 14))  # Saturday, make-up workday
    assert not workdays.is_workday(date(2026, 2, 17))  # Spring Festival
    assert workdays.add_workdays(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert workdays.add_workdays(date(2026, 2, 14), 1) == date(2026, 2, 24)  # 16-23 off
    assert workdays.add_workdays(date(2026, 2, 15), 0) == date(2026, 2, 24)
    assert workdays.add_workdays(date(2026, 3, 2), 0) == date(2026, 3, 2)


def test_count_over_national_day() -> None:
    # Oct 1-7 off (3-4 weekend), 8 and 9 workdays, Saturday 10 a make-up workday
    assert workdays.count_workdays(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert workdays.count_workdays(date(2026, 10, 10), date(2026, 9, 30)) == 0


def test_uncovered_year_falls_back_to_weekends_with_one_warning(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first year the installed chinese-calendar does not know (2027 with 1.11): Monday-Friday only,
    and one warning naming the year (the test holds after a calendar upgrade too)."""
    monkeypatch.setattr(workdays, "_warned_years", set())
    assert workdays.covered(2026)
    year = next(y for y in range(2026, 2300) if not workdays.covered(y))
    new_year = date(year, 1, 1)  # a public holiday in every published calendar
    first_monday = new_year + timedelta(days=(7 - new_year.weekday()) % 7)
    with caplog.at_level(logging.WARNING, logger="cases.workdays"):
        assert workdays.is_workday(new_year) == (new_year.weekday() < 5)
        assert workdays.count_workdays(first_monday, first_monday + timedelta(days=14)) == 10
        friday = first_monday + timedelta(days=4)
        assert workdays.add_workdays(friday, 1) == first_monday + timedelta(days=7)
        assert workdays.add_workdays(friday + timedelta(days=1), 0) == first_monday + timedelta(days=7)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and str(year) in warnings[0].getMessage()
    assert "weekends only" in warnings[0].getMessage()


def test_deadline_keeps_beijing_time() -> None:
    now = datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)
    assert workdays.workday_deadline(now, 1) == datetime(2026, 3, 3, 10, 0, tzinfo=BEIJING)
    friday_evening = datetime(2026, 2, 13, 23, 30, tzinfo=BEIJING)
    assert workdays.workday_deadline(friday_evening, 2).date() == date(2026, 2, 24)
    with pytest.raises(ValueError):
        workdays.workday_deadline(datetime(2026, 3, 2), 1)  # noqa: DTZ001
    with pytest.raises(ValueError):
        workdays.add_workdays(date(2026, 3, 2), -1)


def test_every_day_of_the_covered_years_is_what_chinese_calendar_says_asked_twice() -> None:
    """The answers are kept per date: the second round asks the cache, and both agree with the library."""
    import chinese_calendar

    years = [y for y in range(2020, 2040) if workdays.covered(y)]
    assert years and 2026 in years
    first, last = date(years[0], 1, 1), date(years[-1], 12, 31)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    for _ in range(2):
        assert [workdays.is_workday(d) for d in days] == [chinese_calendar.is_workday(d) for d in days]
