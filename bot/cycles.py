"""Appraisal cycles managed from the command line (the policy adds its own as time goes by)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.policy import Policy
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
