"""When each review interview (绩效面谈) is held: the manager (or HR) sets the day; without
one, the review window's first working day counts. Moving the day moves the manager's
pending prep pack to `prep_pack_lead_days` working days before it. No Slack; time passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine.kinds import PREP_PACK, prep_pack_subject
from bot.engine.outbox import NudgeSpec, enqueue, rows_about
from bot.errors import NotAllowed
from bot.org.people import may_log_talk, zone_of
from bot.org.policy import Policy
from bot.org.profiles import reported_zone
from bot.org.worktime import WorkCalendar, calendar_for
from bot.records.saving import save_once
from bot.review.cycles import default_interview_day, review_cycle
from storage import queries
from storage.models import Cycle, Interview, NudgeState, Person


@dataclass(frozen=True)
class InterviewSet:
    """A stored interview day and where the manager's prep pack now stands."""

    interview: Interview
    employee: Person
    cycle: Cycle
    prep_due: datetime | None  # the pending prep pack's new moment, if one is pending
    zone: ZoneInfo  # the actor's time zone, to tell them when


async def calendar_of(session: AsyncSession, person: Person | None, policy: Policy) -> WorkCalendar:
    """A person's working calendar (the zone their chat platform reported, else the org
    file's, else the policy's)."""
    if person is None:
        return calendar_for(policy, timezone=None, country=None)
    identity = await queries.reporting_identity(session, person.id)
    zone = reported_zone(person, identity)
    return calendar_for(policy, timezone=zone, country=person.country)


def prep_moment(
    calendar: WorkCalendar, interview_on: date, *, policy: Policy, now: datetime
) -> datetime:
    """When the prep pack for an interview on `interview_on` is due: `prep_pack_lead_days`
    working days before, at the check-in hour; soon (in working time) if that has passed."""
    day = calendar.add_working_days(interview_on, -policy.cadence.prep_pack_lead_days)
    start = datetime.combine(day, time(0), tzinfo=calendar.zone)
    if start <= now:
        return calendar.next_working_moment(now)
    return calendar.next_working_moment(start, at=time(policy.cadence.checkin.hour))


async def interview_day(
    session: AsyncSession, cycle: Cycle, employee: Person | str, calendar: WorkCalendar
) -> date:
    """The employee's interview day in this cycle: the one set, else the window's first
    working day on `calendar`."""
    employee_id = employee if isinstance(employee, str) else employee.id
    day = await queries.interview_day_set(session, cycle.id, employee_id)
    return day or default_interview_day(cycle, calendar)


async def _cycle(session: AsyncSession, cycle_id: int | None, today: date) -> Cycle:
    cycle = await session.get(Cycle, cycle_id) if cycle_id else await review_cycle(session, today)
    if cycle is None:
        raise NotAllowed("self.refusal.no_cycle")
    return cycle


async def _check(
    session: AsyncSession, actor: Person | None, employee: Person | None, cycle: Cycle, day: date
) -> None:
    if employee is None or not employee.active:
        raise NotAllowed("refusal.unknown_employee")
    if not may_log_talk(actor, employee):
        raise NotAllowed("self.refusal.interview_not_allowed", name=employee.name)
    if not cycle.review_from <= day <= cycle.review_to:
        raise NotAllowed(
            "self.refusal.outside_window",
            date=day.isoformat(),
            start=cycle.review_from.isoformat(),
            end=cycle.review_to.isoformat(),
        )
    if await queries.has_review(session, cycle.id, employee.id):
        raise NotAllowed("self.refusal.interview_held", name=employee.name, cycle=cycle.name)


async def _move_prep_pack(
    session: AsyncSession,
    cycle: Cycle,
    employee: Person,
    day: date,
    *,
    policy: Policy,
    now: datetime,
) -> datetime | None:
    """Move the pending prep pack to before `day`; plan it now if the planner has not yet
    (same key as the planner's, so it is never created twice)."""
    subject = prep_pack_subject(cycle.id, employee.id)
    nudges = await rows_about(session, kind=PREP_PACK, subject=subject)
    pending = [n for n in nudges if n.state == NudgeState.PENDING]
    due = None
    for nudge in pending:
        recipient = await queries.get_person(session, nudge.recipient_id)
        due = prep_moment(
            await calendar_of(session, recipient, policy), day, policy=policy, now=now
        )
        nudge.due_at, nudge.updated_at = due, now
        session.add(nudge)
    if nudges:
        return due
    manager = await queries.get_person(session, employee.manager_id or "")
    if manager is None or not manager.active:
        return None
    due = prep_moment(await calendar_of(session, manager, policy), day, policy=policy, now=now)
    spec = NudgeSpec(
        PREP_PACK,
        manager.id,
        subject,
        cycle.name,
        due,
        employee.id,
        "manager",
        {"cycle_id": cycle.id},
    )
    await enqueue(session, [spec], now)
    return due


async def set_interview(
    engine: AsyncEngine,
    *,
    actor_id: str,
    employee_id: str,
    day: date,
    now: datetime,
    policy: Policy,
    cycle_id: int | None = None,
) -> InterviewSet:
    """Set (or move) the employee's interview day in the cycle under review (or `cycle_id`).
    Only their manager or HR; the day must fall inside the review window, not in the past,
    and before the review is recorded. Nothing is written when refused."""

    async def unit(session: AsyncSession) -> InterviewSet:
        actor = await queries.get_person(session, actor_id)
        if actor is None or not actor.active:
            raise NotAllowed("refusal.not_in_org")
        zone = zone_of(actor, policy, await queries.reported_timezone(session, actor.id))
        today = now.astimezone(zone).date()
        employee = await queries.get_person(session, employee_id)
        cycle = await _cycle(session, cycle_id, today)
        await _check(session, actor, employee, cycle, day)
        assert employee is not None
        if day < today:
            raise NotAllowed("self.refusal.interview_past", date=day.isoformat())
        interview = await queries.interview_for(session, cycle.id, employee.id) or Interview(
            cycle_id=cycle.id or 0,
            employee_id=employee.id,
            scheduled_on=day,
            set_by=actor.id,
            created_at=now,
            updated_at=now,
        )
        interview.scheduled_on, interview.set_by, interview.updated_at = (
            day,
            actor.id,
            now,
        )
        session.add(interview)
        await session.flush()
        due = await _move_prep_pack(session, cycle, employee, day, policy=policy, now=now)
        await session.commit()
        return InterviewSet(interview, employee, cycle, due, zone)

    return await save_once(engine, unit)
