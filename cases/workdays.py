"""Working days in mainland China: public holidays and make-up workdays (调休) from chinese-calendar.

For a year the installed calendar does not cover yet (the State Council publishes each year's
arrangement in the autumn before), the count falls back to Monday-Friday and logs one warning per
year, so deadlines stay computable and the gap is visible in the log.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar

from cases.clock import BEIJING

log = logging.getLogger(__name__)
_warned_years: set[int] = set()  # only to log once per process; holds no state others rely on


def is_workday(day: date) -> bool:
    """True on a working day (make-up Saturdays included, holidays excluded)."""
    if not covered(day.year):
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "chinese-calendar has no holiday data for %d: counting weekends only; "
                "upgrade chinese-calendar once the year's arrangement is published",
                day.year,
            )
        return day.weekday() < 5
    return _calendar_says(day)


@lru_cache(maxsize=4096)
def _calendar_says(day: date) -> bool:
    """chinese-calendar's answer, once per date: the library checks that the date is covered by scanning
    its whole holiday table on every call (~10 us; a reminder tick after 500 new cases asked 5,500 times)."""
    return bool(chinese_calendar.is_workday(day))


@lru_cache(maxsize=64)
def covered(year: int) -> bool:
    """Whether the installed calendar knows the year's holidays."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def add_workdays(start: date, days: int) -> date:
    """The `days`-th working day after `start` (0: `start` itself, or the next working day if it is off)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    if days == 0:
        while not is_workday(current):
            current += timedelta(days=1)
        return current
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_workday(current):
            remaining -= 1
    return current


def count_workdays(start: date, end: date) -> int:
    """Working days d with start < d <= end (0 when end <= start)."""
    total, current = 0, start
    while current < end:
        current += timedelta(days=1)
        total += is_workday(current)
    return total


def workday_deadline(now: datetime, days: int) -> datetime:
    """The same Beijing clock time `days` working days after `now`'s Beijing date (aware, in Beijing)."""
    if now.tzinfo is None:
        raise ValueError("naive datetime refused")
    local = now.astimezone(BEIJING)
    return datetime.combine(add_workdays(local.date(), days), local.timetz())
