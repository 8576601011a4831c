"""Leave: days on which nobody is nudged to or about a person."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries
from storage.db import session_scope
from storage.models import Leave


class LeaveRejected(Exception):
    """The leave cannot be recorded; nothing was written."""


async def add_leave(
    engine: AsyncEngine,
    *,
    person_id: str,
    starts_on: date,
    ends_on: date,
    now: datetime,
    reason: str = "leave",
) -> Leave:
    """Record a stretch of leave."""
    if ends_on < starts_on:
        raise LeaveRejected("--to must not be before --from")
    async with session_scope(engine) as session:
        if await queries.get_person(session, person_id) is None:
            raise LeaveRejected(f"{person_id} is not in the org chart")
        leave = Leave(
            person_id=person_id, starts_on=starts_on, ends_on=ends_on, reason=reason, created_at=now
        )
        session.add(leave)
        await session.commit()
    return leave
