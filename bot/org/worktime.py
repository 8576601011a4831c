"""Working time per person: their zone, working days and hours, public holidays (with China's
make-up working days, 调休) and leave. Every function takes the moment it reasons about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from bot.org.policy import WEEKDAYS, Policy

MAX_SCAN_DAYS = 400
Span = tuple[date, date]


@dataclass(frozen=True)
class WorkCalendar:
    """When one person may be written to."""

    zone: ZoneInfo
    days: frozenset[int]
    start: time
    end: time
    country: str | None

    def is_working_day(self, day: date) -> bool:
        """A working weekday that is no public holiday, or a make-up working day (调休)."""
        calendar = _holidays(self.country)
        if calendar is not None:
            holiday = day in calendar  # first: loads the year, make-up days included
            if day in calendar.weekend_workdays:
                return True
            if holiday:
                return False
        return day.weekday() in self.days

    def is_working_moment(self, at: datetime, leave: Sequence[Span] = ()) -> bool:
        """Whether `at` falls inside working hours on a working day, off leave."""
        local = at.astimezone(self.zone)
        return (
            self.is_working_day(local.date())
            and self.start <= local.time() < self.end
            and not on_leave(local.date(), leave)
        )

    def next_working_moment(
        self, after: datetime, *, at: time | None = None, leave: Sequence[Span] = ()
    ) -> datetime:
        """The first working moment at or after `after`; with `at` (a local time inside
        working hours), the first working day's `at` that is not before `after`."""
        local = after.astimezone(self.zone)
        slot = at if at is not None and self.start <= at < self.end else None
        for offset in range(MAX_SCAN_DAYS):
            day = local.date() + timedelta(days=offset)
            if not self.is_working_day(day) or on_leave(day, leave):
                continue
            if slot is not None:
                candidate = _local(day, slot, self.zone)
                if candidate >= after:
                    return candidate
                continue
            opens, closes = _local(day, self.start, self.zone), _local(day, self.end, self.zone)
            if after < opens:
                return opens
            if after < closes:
                return after
        raise ValueError("no working moment within a year: check working_days and leave")

    def working_day_on_or_before(self, day: date) -> date:
        """The given day if it is a working day, else the last working day before it."""
        for offset in range(MAX_SCAN_DAYS):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The working day `count` working days after `day` (count may be negative)."""
        step = 1 if count >= 0 else -1
        remaining, current = abs(count), day
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def on_leave(day: date, leave: Sequence[Span]) -> bool:
    """Whether `day` falls inside one of the leave spans."""
    return any(start <= day <= end for start, end in leave)


@lru_cache(maxsize=64)
def _holidays(country: str | None) -> holidays.HolidayBase | None:
    if not country:
        return None
    try:
        return holidays.country_holidays(country)
    except NotImplementedError:
        return None


@lru_cache(maxsize=4096)
def _calendar(
    zone: str, country: str | None, days: tuple[str, ...], start: time, end: time
) -> WorkCalendar:
    return WorkCalendar(
        zone=ZoneInfo(zone),
        days=frozenset(WEEKDAYS.index(d) for d in days),
        start=start,
        end=end,
        country=country,
    )


def policy_today(policy: Policy, now: datetime) -> date:
    """The date at `now` in the policy's own time zone (the organisation's "today")."""
    return now.astimezone(calendar_for(policy, timezone=None, country=None).zone).date()


def calendar_for(policy: Policy, *, timezone: str | None, country: str | None) -> WorkCalendar:
    """A person's calendar: their zone and country, else the policy's; the policy's hours."""
    zone = timezone or policy.timezone
    try:
        ZoneInfo(zone)
    except (KeyError, ValueError):
        zone = policy.timezone
    return _calendar(
        zone,
        (country or policy.country or "").upper() or None,
        tuple(policy.working_days),
        policy.working_hours.start,
        policy.working_hours.end,
    )
