"""Appraisal cycles: added from the command line (the policy adds its own as time goes by),
the cycle a review belongs to, and when each interview is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.org.policy import Policy
from bot.org.worktime import WorkCalendar
from storage.db import session_scope
from storage.models import Cycle, Interview


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
        cycle = (await session.execute(select(Cycle).where(Cycle.name == name))).scalar()
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
        rows = await session.execute(select(Cycle).order_by(Cycle.starts_on))
        return list(rows.scalars())


async def review_cycle(session: AsyncSession, today: date) -> Cycle | None:
    """The cycle under review now: the one whose review window is open or comes next, or
    else the latest whose window has passed (reviews may be recorded late)."""
    upcoming = await session.execute(
        select(Cycle).where(Cycle.review_to >= today).order_by(Cycle.review_from).limit(1)
    )
    cycle = upcoming.scalar()
    if cycle is not None:
        return cycle
    latest = await session.execute(select(Cycle).order_by(Cycle.review_to.desc()).limit(1))  # type: ignore[attr-defined]
    return latest.scalar()


async def interview_dates(
    session: AsyncSession, cycle_id: int, employee_ids: list[str]
) -> dict[str, date]:
    """The interview dates managers have set, by employee."""
    if not employee_ids:
        return {}
    rows = await session.execute(
        select(Interview.employee_id, Interview.scheduled_on).where(
            Interview.cycle_id == cycle_id,
            Interview.employee_id.in_(employee_ids),  # type: ignore[attr-defined]
        )
    )
    return dict(rows.all())  # type: ignore[arg-type]


def default_interview_day(cycle: Cycle, calendar: WorkCalendar) -> date:
    """Without a date set: the review window's first working day."""
    day = cycle.review_from
    while not calendar.is_working_day(day) and day < cycle.review_to:
        day = day.fromordinal(day.toordinal() + 1)
    return day
