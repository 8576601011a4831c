"""Goals: a manager sets one, or an employee proposes one for the manager to confirm.

A goal calls for a goal-clarification talk (目标澄清对话); the cadence engine plans the
nudges, and `mark_clarified` closes them once that talk is logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import notices
from bot.engine.kinds import GOAL, GOAL_DECIDED, GOAL_PROPOSED, GOAL_SET, goal_subject
from bot.engine.outbox import cancel_pending
from bot.errors import Invalid, NotAllowed, Problem
from bot.org.people import local_today, may_log_talk
from bot.org.policy import Policy
from bot.records.saving import save_once
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import Goal, GoalStatus, Nudge, Person

# The kind of talk (app.yaml's talk_kinds) that clarifies a goal; the nudge that asks for it
# is spelt the same (bot.engine.kinds.GOAL), but they are two names.
CLARIFICATION_TALK = "goal_clarification"
TITLE_LIMIT = 200
MEASURE_LIMIT = 3000
MAX_CHOICES = 99  # a static_select holds 100 options; one is kept for "myself"
DUPLICATE_WINDOW = timedelta(minutes=10)


OPEN_STATUSES = (GoalStatus.PROPOSED.value, GoalStatus.ACTIVE.value)


@dataclass(frozen=True)
class GoalForm:
    """What the goal modal needs: a fixed employee, or the reports the actor may pick from.

    `manager` is the employee's manager, or with a picker the actor's own manager."""

    actor: Person
    employee: Person | None
    manager: Person | None
    choices: list[Person]
    may_pick_self: bool
    today: date

    @property
    def proposal(self) -> bool:
        """True when the actor proposes a goal for themself."""
        return self.employee is not None and self.employee.id == self.actor.id


@dataclass(frozen=True)
class GoalCreated:
    """A saved goal; `created` is False when the same goal had just been saved (or this form
    had saved it), `amended` True when this submission of the form changed it."""

    goal: Goal
    employee: Person
    manager: Person | None
    set_by: Person
    created: bool = True
    amended: bool = False

    @property
    def proposed(self) -> bool:
        """True when the goal waits for the manager's confirmation."""
        return self.goal.status == GoalStatus.PROPOSED


@dataclass(frozen=True)
class GoalDecided:
    """A proposal confirmed or declined; `first` is False when it had been decided before.
    `posted` are the proposal messages the decider was sent (where to show the decision)."""

    goal: Goal
    employee: Person
    decided_by: Person
    first: bool
    posted: list[Nudge]


def today_for(person: Person, policy: Policy | None, now: datetime) -> date:
    """The person's local date (the org file's zone when no policy is at hand)."""
    if policy is not None:
        return local_today(person, policy, now)
    try:
        return now.astimezone(ZoneInfo(person.timezone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


async def active_person(session: AsyncSession, slack_id: str | None) -> Person | None:
    """The person with this id if they are active in the org chart."""
    person = await queries.get_person(session, slack_id) if slack_id else None
    return person if person is not None and person.active else None


async def _target(
    session: AsyncSession, actor: Person, employee_id: str
) -> tuple[Person, Person | None]:
    """The employee and their manager, if the actor may set (or propose) this goal."""
    employee = await active_person(session, employee_id)
    if employee is None:
        raise NotAllowed("refusal.unknown_employee")
    manager = await active_person(session, employee.manager_id)
    if employee.id == actor.id:
        if manager is None:
            raise NotAllowed("goal.refusal.no_manager")
        return employee, manager
    if not may_log_talk(actor, employee):
        raise NotAllowed("goal.refusal.not_allowed", name=employee.name)
    return employee, manager


async def goal_form(
    engine: AsyncEngine,
    *,
    actor_id: str,
    employee_id: str | None,
    policy: Policy | None = None,
    now: datetime,
) -> GoalForm:
    """Check what the actor may do and gather what the goal modal shows."""
    async with session_scope(engine) as session:
        actor = await active_person(session, actor_id)
        if actor is None:
            raise NotAllowed("refusal.not_in_org")
        today = today_for(actor, policy, now)
        if employee_id is not None:
            employee, manager = await _target(session, actor, employee_id)
            return GoalForm(actor, employee, manager, [], False, today)
        reports = await queries.reports_of(session, actor.id, limit=MAX_CHOICES)
        manager = await active_person(session, actor.manager_id)
    if reports:
        return GoalForm(actor, None, manager, reports, manager is not None, today)
    if manager is None:
        raise NotAllowed("goal.refusal.nobody")
    return GoalForm(actor, actor, manager, [], False, today)


def validate_goal(
    *, title: str, measure: str, due_on: date | None, today: date
) -> dict[str, Problem]:
    """Every problem with a goal as typed, keyed by field (`title`, `measure`, `due_on`)."""
    problems: dict[str, Problem] = {}
    if is_blank(title):
        problems["title"] = Problem("goal.error.title_required")
    elif len(title.strip()) > TITLE_LIMIT:
        problems["title"] = Problem("goal.error.too_long", {"limit": TITLE_LIMIT})
    if is_blank(measure):
        problems["measure"] = Problem("goal.error.measure_required")
    elif len(measure.strip()) > MEASURE_LIMIT:
        problems["measure"] = Problem("goal.error.too_long", {"limit": MEASURE_LIMIT})
    if due_on is None:
        problems["due_on"] = Problem("goal.error.due_required")
    elif due_on < today:
        problems["due_on"] = Problem("goal.error.due_past")
    return problems


async def create_goal(
    engine: AsyncEngine,
    *,
    actor_id: str,
    employee_id: str,
    title: str,
    measure: str,
    due_on: date | None,
    now: datetime,
    policy: Policy | None = None,
    key: str | None = None,
) -> GoalCreated:
    """Check access, validate and save a goal: active if set by the manager or HR, else
    proposed to the employee's manager. One goal per `key` (one form): a resubmission that
    differs changes that goal; the same goal saved twice in a row is saved once."""
    # A concurrent submission of the same form that won the race on the unique key is found
    # on the second pass, which answers as it did.
    return await save_once(
        engine,
        lambda session: _create(
            session, actor_id, employee_id, title, measure, due_on, now, policy, key
        ),
    )


async def _create(
    session: AsyncSession,
    actor_id: str,
    employee_id: str,
    title: str,
    measure: str,
    due_on: date | None,
    now: datetime,
    policy: Policy | None,
    key: str | None,
) -> GoalCreated:
    actor = await active_person(session, actor_id)
    if actor is None:
        raise NotAllowed("refusal.not_in_org")
    employee, manager = await _target(session, actor, employee_id)
    earlier = await _by_key(session, key)
    if earlier is not None and earlier.employee_id != employee.id:
        other = await queries.get_person(session, earlier.employee_id)
        params: dict[str, object] = {"name": other.name if other else "?"}
        raise Invalid({"employee": Problem("goal.error.saved_for_other", params)})
    typed = (title.strip(), measure.strip(), due_on)
    if earlier is not None and (earlier.title, earlier.measure, earlier.due_on) == typed:
        return GoalCreated(earlier, employee, manager, actor, created=False)
    problems = validate_goal(
        title=title, measure=measure, due_on=due_on, today=today_for(actor, policy, now)
    )
    if problems:
        raise Invalid(problems)
    assert due_on is not None
    title, measure = typed[0], typed[1]
    if earlier is not None:
        amended = earlier.status in OPEN_STATUSES
        if amended:  # typed again after "not saved yet": nothing typed is lost
            earlier.title, earlier.measure, earlier.due_on = title, measure, due_on
            session.add(earlier)
            await session.commit()
        return GoalCreated(earlier, employee, manager, actor, created=False, amended=amended)
    earlier = await _recent_twin(session, employee.id, actor.id, title, now)
    if earlier is not None and earlier.due_on == due_on and earlier.measure == measure:
        return GoalCreated(earlier, employee, manager, actor, created=False)
    proposal = employee.id == actor.id
    goal = Goal(
        employee_id=employee.id,
        set_by=actor.id,
        title=title,
        measure=measure,
        due_on=due_on,
        status=GoalStatus.PROPOSED if proposal else GoalStatus.ACTIVE,
        confirmed_at=None if proposal else now,
        submission_key=key,
        created_at=now,
    )
    session.add(goal)
    await session.flush()
    if proposal and manager is not None:
        to, kind = manager, GOAL_PROPOSED
    else:
        to, kind = employee, GOAL_SET
    if not (proposal and manager is None):
        await notices.owe(
            session,
            kind=kind,
            recipient_id=to.id,
            subject=goal_subject(goal.id),
            about_id=employee.id,
            payload={"goal_id": goal.id, "by": actor.id},
            now=now,
        )
    await session.commit()
    return GoalCreated(goal, employee, manager, actor)


async def _by_key(session: AsyncSession, key: str | None) -> Goal | None:
    if key is None:
        return None
    return await queries.goal_by_submission(session, key)


async def _recent_twin(
    session: AsyncSession, employee_id: str, set_by: str, title: str, now: datetime
) -> Goal | None:
    """A goal with the same title saved by the same person moments ago (a double submit)."""
    return await queries.goal_saved_since(
        session,
        employee_id=employee_id,
        set_by=set_by,
        title=title,
        since=now - DUPLICATE_WINDOW,
    )


async def decide_goal(
    engine: AsyncEngine, *, goal_id: int, actor_id: str, confirm: bool, now: datetime
) -> GoalDecided:
    """The manager (or HR) confirms a proposed goal (active) or declines it (dropped)."""
    async with session_scope(engine) as session:
        goal = await session.get(Goal, goal_id)
        if goal is None:
            raise NotAllowed("goal.refusal.unknown_goal")
        actor = await active_person(session, actor_id)
        employee = await queries.get_person(session, goal.employee_id)
        if employee is None or not may_log_talk(actor, employee):
            name = employee.name if employee else "?"
            raise NotAllowed("goal.refusal.not_allowed", name=name)
        assert actor is not None
        # One conditional update, so that of two clicks at once (Confirm and Decline, say)
        # only one decides.
        first = await queries.decide_proposed_goal(
            session,
            goal_id,
            status=GoalStatus.ACTIVE.value if confirm else GoalStatus.DROPPED.value,
            confirmed_at=now if confirm else None,
        )
        if first:
            await notices.owe(
                session,
                kind=GOAL_DECIDED,
                recipient_id=employee.id,
                subject=goal_subject(goal.id),
                about_id=employee.id,
                payload={"goal_id": goal.id, "by": actor.id},
                now=now,
            )
            if not confirm:
                await cancel_pending(
                    session,
                    kinds=[GOAL],
                    subject=goal_subject(goal.id),
                    reason="goal declined",
                    now=now,
                )
        await session.commit()
        await session.refresh(goal)
        posted = await notices.posted(
            session,
            kinds=(GOAL_PROPOSED,),
            subject=goal_subject(goal.id),
            recipient_id=actor.id,
        )
        return GoalDecided(goal, employee, actor, first, posted)


async def mark_clarified(
    session: AsyncSession,
    *,
    employee_id: str,
    talk_id: int,
    talk_created_at: datetime,
    now: datetime,
) -> int:
    """Mark the employee's open, unclarified goals set by `talk_created_at` as clarified in
    this talk and cancel their pending goal nudges; the caller commits. Returns how many."""
    goals = await queries.unclarified_goals(session, employee_id, set_by_then=talk_created_at)
    for goal in goals:
        goal.clarified_at, goal.clarified_in_talk_id = now, talk_id
        session.add(goal)
        await cancel_pending(
            session,
            kinds=[GOAL],
            subject=goal_subject(goal.id),
            reason="goal clarified",
            now=now,
        )
    if goals:
        await session.flush()
    return len(goals)
