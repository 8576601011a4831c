"""Which appraisal cycle a review belongs to, and when each interview is."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.worktime import WorkCalendar
from storage.models import Cycle, Interview


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
