"""Appraisal cycles: added from the command line (the policy adds its own as time goes by),
the cycle a review belongs to, and when each interview is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.org.policy import Policy
from bot.org.worktime import WorkCalendar
from storage import queries
from storage.db import session_scope
from storage.models import Cycle


class CycleRejected(Exception):
    """The cycle's dates do not make sense; nothing was written."""


@dataclass(frozen=True)
class CycleSaved:
    cycle: Cycle
    created: bool


async def add_cycle(
    engine: AsyncEngine,
    *,
    name: str,
    start: date,
    end: date,
    review_from: date | None,
    review_to: date | None,
    policy: Policy,
    now: datetime,
) -> CycleSaved:
    """Add a cycle, or change the one with this name; the review window defaults to the
    policy's days right after the end."""
    review_from = review_from or end + timedelta(days=1)
    review_to = review_to or review_from + timedelta(days=policy.cycles.review_window_days - 1)
    problems = []
    if not name.strip() or len(name) > 40:
        problems.append("the name must be 1–40 characters")
    if end <= start:
        problems.append("--end must be after --start")
    if review_from <= end:
        problems.append("the review window must start after the cycle ends")
    if review_to < review_from:
        problems.append("--review-to must not be before --review-from")
    if problems:
        raise CycleRejected("; ".join(problems))
    async with session_scope(engine) as session:
        cycle = await queries.cycle_named(session, name)
        created = cycle is None
        if cycle is None:
            cycle = Cycle(
                name=name,
                starts_on=start,
                ends_on=end,
                review_from=review_from,
                review_to=review_to,
                created_at=now,
            )
            session.add(cycle)
        else:
            cycle.starts_on, cycle.ends_on = start, end
            cycle.review_from, cycle.review_to = review_from, review_to
        await session.commit()
    return CycleSaved(cycle, created)


async def list_cycles(engine: AsyncEngine) -> list[Cycle]:
    """Every cycle, oldest first."""
    async with session_scope(engine) as session:
        return await queries.all_cycles(session)


async def review_cycle(session: AsyncSession, today: date) -> Cycle | None:
    """The cycle under review now: the one whose review window is open or comes next, or
    else the latest whose window has passed (reviews may be recorded late)."""
    cycle = await queries.next_review_cycle(session, today)
    if cycle is not None:
        return cycle
    return await queries.last_review_cycle(session)


def default_interview_day(cycle: Cycle, calendar: WorkCalendar) -> date:
    """Without a date set: the review window's first working day."""
    day = cycle.review_from
    while not calendar.is_working_day(day) and day < cycle.review_to:
        day = day.fromordinal(day.toordinal() + 1)
    return day
