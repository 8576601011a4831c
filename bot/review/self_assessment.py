"""The employee's self-assessment before the review interview (绩效面谈 starts with it).

A draft until submitted; editable (even after submitting) until the review is recorded for
that cycle. Submitting cancels the pending self-assessment nudges and reports whether it was
the first submission, so the listener tells the manager once. No Slack here; time is passed
in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import notices
from bot.engine.kinds import (
    SELF_ASSESSMENT_KINDS,
    SELF_SUBMITTED,
    assessment_subject,
    cycle_subject,
)
from bot.engine.outbox import cancel_pending, holds
from bot.errors import Invalid, NotAllowed, Problem
from bot.org.people import zone_of
from bot.org.policy import Policy
from bot.records.saving import save_once
from bot.review.cycles import review_cycle
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import Cycle, Person, SelfAssessment

TEXT_LIMIT = 3000
TEXT_FIELDS = ("proudest", "redo", "blockers", "support", "other")
REQUIRED_ON_SUBMIT = ("rating", "proudest", "redo")


@dataclass(frozen=True)
class SelfForm:
    """What the self-assessment modal shows: whose, which cycle, the saved values if any."""

    employee: Person
    manager: Person | None
    cycle: Cycle
    saved: SelfAssessment | None
    zone: ZoneInfo
    today: date

    @property
    def submitted(self) -> bool:
        """True once the employee has submitted it (it stays editable)."""
        return self.saved is not None and self.saved.submitted_at is not None


@dataclass(frozen=True)
class Saved:
    """A saved self-assessment; `first_submission` is True only the moment it is first
    submitted (the manager is told then, not on later edits or repeated clicks)."""

    assessment: SelfAssessment
    employee: Person
    manager: Person | None
    cycle: Cycle
    first_submission: bool
    cancelled_nudges: int
    zone: ZoneInfo


async def _employee(session: AsyncSession, employee_id: str) -> Person:
    person = await queries.get_person(session, employee_id)
    if person is None or not person.active:
        raise NotAllowed("refusal.not_in_org")
    return person


async def _manager(session: AsyncSession, employee: Person) -> Person | None:
    manager = await queries.get_person(session, employee.manager_id or "")
    return manager if manager is not None and manager.active else None


async def _refuse_if_reviewed(session: AsyncSession, cycle: Cycle, employee_id: str) -> None:
    if await queries.has_review(session, cycle.id, employee_id):
        raise NotAllowed("self.refusal.reviewed", cycle=cycle.name)


async def _cycle_for(
    session: AsyncSession, cycle_id: int | None, employee_id: str, today: date
) -> Cycle:
    """The cycle a self-assessment is written for: the one under review now, or one the
    employee was asked about (a self-assessment nudge) or has started already. A cycle id
    from a payload is checked against these, never taken as it comes."""
    current = await review_cycle(session, today)
    if cycle_id is None or (current is not None and current.id == cycle_id):
        if current is None:
            raise NotAllowed("self.refusal.no_cycle")
        return current
    cycle = await session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotAllowed("self.refusal.no_cycle")
    asked = await holds(
        session,
        kinds=SELF_ASSESSMENT_KINDS,
        subject=cycle_subject(cycle_id),
        recipient_id=employee_id,
    )
    if asked or await queries.self_assessment_for(session, cycle_id, employee_id) is not None:
        return cycle
    raise NotAllowed("self.refusal.no_cycle")


async def _zone(session: AsyncSession, person: Person, policy: Policy) -> ZoneInfo:
    return zone_of(person, policy, await queries.reported_timezone(session, person.id))


async def load_form(
    engine: AsyncEngine,
    *,
    employee_id: str,
    policy: Policy,
    now: datetime,
    cycle_id: int | None = None,
) -> SelfForm:
    """The employee's form for the cycle under review (or `cycle_id`, e.g. a nudge's cycle),
    with the saved draft's values. NotAllowed when there is no cycle or the review is
    already recorded."""
    async with session_scope(engine) as session:
        employee = await _employee(session, employee_id)
        zone = await _zone(session, employee, policy)
        today = now.astimezone(zone).date()
        cycle = await _cycle_for(session, cycle_id, employee.id, today)
        await _refuse_if_reviewed(session, cycle, employee.id)
        saved = await queries.self_assessment_for(session, cycle.id or 0, employee.id)
        manager = await _manager(session, employee)
    return SelfForm(employee, manager, cycle, saved, zone, today)


def _rating(value: int | str | None, policy: Policy) -> tuple[int | None, Problem | None]:
    """The rating as a number on the policy's scale, or the problem with it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, None
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = None
    scale = policy.review
    if rating is None or not scale.rating_min <= rating <= scale.rating_max:
        return None, Problem(
            "self.error.off_scale", {"low": scale.rating_min, "high": scale.rating_max}
        )
    return rating, None


def validate(
    *, rating: int | str | None, texts: dict[str, str], submit: bool, policy: Policy
) -> tuple[int | None, dict[str, Problem]]:
    """The rating as a number and every problem, keyed by field (`rating` and TEXT_FIELDS).
    A draft may be incomplete; a submission needs a rating, the proudest and the redo."""
    number, problem = _rating(rating, policy)
    problems: dict[str, Problem] = {"rating": problem} if problem else {}
    for name in TEXT_FIELDS:
        if len(texts.get(name, "").strip()) > TEXT_LIMIT:
            problems[name] = Problem("self.error.too_long", {"limit": TEXT_LIMIT})
    if submit:
        present = {"rating": number is not None} | {
            n: not is_blank(texts.get(n)) for n in TEXT_FIELDS
        }
        for name in REQUIRED_ON_SUBMIT:
            if not present[name] and name not in problems:
                problems[name] = Problem(f"self.error.{name}_required")
    return number, problems


async def save(
    engine: AsyncEngine,
    *,
    employee_id: str,
    cycle_id: int | None,
    rating: int | str | None,
    proudest: str = "",
    redo: str = "",
    blockers: str = "",
    support: str = "",
    other: str = "",
    submit: bool,
    policy: Policy,
    now: datetime,
) -> Saved:
    """Validate and store the employee's own self-assessment (one row per cycle): a draft,
    or submitted (which cancels the pending self-assessment nudges). A submitted one stays
    submitted when saved again. Refused once the cycle's review is recorded; nothing is
    written when anything is refused or invalid."""
    texts = {
        "proudest": proudest,
        "redo": redo,
        "blockers": blockers,
        "support": support,
        "other": other,
    }
    number, problems = validate(rating=rating, texts=texts, submit=submit, policy=policy)

    async def unit(session: AsyncSession) -> Saved:
        employee = await _employee(session, employee_id)
        today = now.astimezone(await _zone(session, employee, policy)).date()
        cycle = await _cycle_for(session, cycle_id, employee.id, today)
        await _refuse_if_reviewed(session, cycle, employee.id)
        if problems:
            raise Invalid(problems)
        row = await queries.self_assessment_for(session, cycle.id or 0, employee.id)
        if row is None:
            row = SelfAssessment(
                cycle_id=cycle.id or 0,
                employee_id=employee.id,
                created_at=now,
                updated_at=now,
            )
        row.rating = number
        for name, value in texts.items():
            setattr(row, name, value.strip())
        row.updated_at = now
        session.add(row)
        await session.flush()
        first = False
        if submit:
            # One conditional update, so that of two submissions at once only one is
            # the first (and the manager is told once).
            first = await queries.submit_self_assessment(session, row.id or 0, now=now)
        cancelled = 0
        if submit:
            cancelled = await cancel_pending(
                session,
                kinds=SELF_ASSESSMENT_KINDS,
                subject=cycle_subject(cycle.id),
                recipient_id=employee.id,
                reason="self-assessment submitted",
                now=now,
            )
        manager = await _manager(session, employee)
        if first and manager is not None:
            await notices.owe(
                session,
                kind=SELF_SUBMITTED,
                recipient_id=manager.id,
                subject=assessment_subject(row.id),
                about_id=employee.id,
                payload={"assessment_id": row.id},
                now=now,
            )
        await session.commit()
        await session.refresh(row)
        zone = await _zone(session, employee, policy)
        return Saved(row, employee, manager, cycle, first, cancelled, zone)

    return await save_once(engine, unit)
