"""HR's view of the rhythm: every manager–report pair, their last dialogue, open and overdue
actions, and whether the pair is on track, due, or escalated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import outbox
from bot.org.periods import period_of, previous_period
from bot.org.policy import Policy
from bot.org.worktime import policy_today
from storage import queries
from storage.db import session_scope
from storage.models import Person

# A pair's status, in the order HR's summary counts them.
STATUSES = ("ok", "due", "escalated", "skipped")


@dataclass(frozen=True)
class PairCoverage:
    """One manager–report pair."""

    manager_id: str
    manager: str
    employee_id: str
    employee: str
    last_dialogue: date | None
    open_actions: int
    overdue_actions: int
    status: str  # ok | due | escalated | skipped


async def coverage(engine: AsyncEngine, *, policy: Policy, now: datetime) -> list[PairCoverage]:
    """Every active pair, sorted with the most neglected first."""
    today = policy_today(policy, now)
    rhythm = policy.cadence.checkin
    period = period_of(today, rhythm)
    window = period
    for _ in range(policy.cadence.escalate_after_periods - 1):
        window = previous_period(window, rhythm)
    async with session_scope(engine) as session:
        people = {p.id: p for p in await queries.all_people(session) if p.active}
        pairs = [p for p in people.values() if p.manager_id in people]
        ids = [p.id for p in pairs]
        last = await queries.last_dialogues(session, ids)
        counts = await queries.action_counts(session, ids, today)
        skipped = await outbox.checkins_skipped(session, period.key)
    rows = []
    for person in pairs:
        held = last.get(person.id)
        if held is not None and held >= period.start:
            status = "ok"
        elif person.id in skipped:
            status = "skipped"
        elif (held is None or held < window.start) and person.created_at.date() < window.start:
            status = "escalated"
        else:
            status = "due"
        manager: Person = people[person.manager_id]  # type: ignore[index]  # pairs have a manager
        open_, overdue = counts.get(person.id, (0, 0))
        rows.append(
            PairCoverage(
                manager.id,
                manager.name,
                person.id,
                person.name,
                held,
                open_,
                overdue,
                status,
            )
        )
    order = {"escalated": 0, "due": 1, "skipped": 2, "ok": 3}
    return sorted(rows, key=lambda r: (order[r.status], r.last_dialogue or date.min, r.manager))
