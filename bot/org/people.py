"""Who is who: access rules over the org chart, and each person's local time."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.org.policy import Policy
from storage.models import Person


def may_log_talk(actor: Person | None, employee: Person) -> bool:
    """Only the employee's manager, or an HR person, logs a talk about an employee."""
    if actor is None or not actor.active or actor.id == employee.id:
        return False
    return employee.manager_id == actor.id or actor.is_hr


def zone_of(person: Person | None, policy: Policy, reported_tz: str | None = None) -> ZoneInfo:
    """A person's time zone: the one their chat profile reported, else the org file's, else
    the policy's."""
    for name in (reported_tz, person.timezone if person else None, policy.timezone):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def local_today(person: Person | None, policy: Policy, now: datetime) -> date:
    """The date it is for this person at `now`."""
    return now.astimezone(zone_of(person, policy)).date()
