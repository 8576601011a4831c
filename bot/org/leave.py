"""Leave: days on which nobody is nudged to or about a person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

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


@dataclass(frozen=True)
class LeaveEntry:
    """One stretch of leave as an operator lists it."""

    id: int
    person_id: str
    person: str
    starts_on: date
    ends_on: date
    pauses: str
    reason: str


async def list_leave(
    engine: AsyncEngine, *, today: date | None, person_id: str | None = None
) -> list[LeaveEntry]:
    """Leave under way or to come at `today` (all leave when `today` is None), of one person
    or of everyone, in the order it starts."""
    async with session_scope(engine) as session:
        found = await queries.leaves_ending_on_or_after(session, today, person_id=person_id)
        people = await queries.people_by_ids(session, {leave.person_id for leave in found})
    return [
        LeaveEntry(
            id=leave.id or 0,
            person_id=leave.person_id,
            person=people[leave.person_id].name if leave.person_id in people else "?",
            starts_on=leave.starts_on,
            ends_on=leave.ends_on,
            pauses=leave.pauses,
            reason=leave.reason,
        )
        for leave in found
    ]


@dataclass(frozen=True)
class Cancelled:
    """What cancelling did: leave to come is deleted; leave under way ends the day before
    `today` (the days already away stay on record)."""

    entry: LeaveEntry
    deleted: bool


async def cancel_leave(engine: AsyncEngine, *, leave_id: int, today: date) -> Cancelled:
    """Cancel one stretch of leave at `today`; LeaveRejected if there is no such leave or it
    is over."""
    async with session_scope(engine) as session:
        leave = await session.get(Leave, leave_id)
        if leave is None:
            raise LeaveRejected(f"there is no leave number {leave_id} (see `leave list --all`)")
        if leave.ends_on < today:
            raise LeaveRejected(
                f"leave number {leave_id} ended on {leave.ends_on}: there is nothing to cancel"
            )
        person = await queries.get_person(session, leave.person_id)
        entry = LeaveEntry(
            id=leave_id,
            person_id=leave.person_id,
            person=person.name if person is not None else "?",
            starts_on=leave.starts_on,
            ends_on=leave.ends_on,
            pauses=leave.pauses,
            reason=leave.reason,
        )
        deleted = leave.starts_on >= today
        if deleted:
            await session.delete(leave)
        else:
            leave.ends_on = today - timedelta(days=1)
        await session.commit()
    return Cancelled(entry, deleted)
