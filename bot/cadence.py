"""The planner: from a snapshot of the organisation, the nudges that should exist now.

`plan_nudges` is pure (snapshot, policy, now → specs) so it can be reasoned about and
property-tested; `plan` loads the snapshot, keeps the outbox in step with the org chart
and enqueues what is new.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.outbox import NudgeSpec, enqueue
from bot.periods import Period, period_of, policy_cycles, previous_period
from bot.policy import WEEKDAYS, Policy
from bot.snapshot import Member, Snapshot, load_snapshot
from bot.worktime import WorkCalendar, calendar_for
from storage.db import session_scope
from storage.models import Cycle, Nudge, NudgeState, Person

log = logging.getLogger(__name__)

# Cycle-end nudges are created at most this long before their day: the planner runs every
# few minutes, and a large organisation's outbox need not hold months of future rows.
HORIZON = timedelta(days=7)

CHECKIN, HEADS_UP = "checkin", "checkin_heads_up"
GOAL = "goal_clarification"
ACTION_DUE, ACTION_OVERDUE = "action_due", "action_overdue"
MILESTONE = "milestone_retro"
SELF_ASSESSMENT, SELF_REMINDER, PREP_PACK = (
    "self_assessment",
    "self_assessment_reminder",
    "prep_pack",
)


@dataclass(frozen=True)
class PlanReport:
    """What one planning pass did."""

    planned: int
    created: int
    moved: int
    cancelled: int


class _Place:
    """The planner's memo for one (time zone, country): its calendar, today there, and the
    answers already worked out. An organisation has a few dozen places but a great many
    people, so each answer is computed once per place and then looked up."""

    __slots__ = ("calendar", "shifted", "slots", "today")

    def __init__(self, calendar: WorkCalendar, now: datetime) -> None:
        self.calendar = calendar
        self.today = now.astimezone(calendar.zone).date()
        self.shifted: dict[tuple[date, int], date] = {}
        self.slots: dict[tuple[date, time | None, datetime | None], datetime] = {}


class _Planner:
    def __init__(self, snap: Snapshot, policy: Policy, now: datetime) -> None:
        self.snap, self.policy, self.now = snap, policy, now
        self.hour = time(policy.cadence.checkin.hour)
        self._places: dict[tuple[str | None, str | None], _Place] = {}
        self.specs: list[NudgeSpec] = []

    def _place(self, person: Member) -> _Place:
        key = (person.timezone, person.country)
        place = self._places.get(key)
        if place is None:
            calendar = calendar_for(self.policy, timezone=person.timezone, country=person.country)
            place = self._places[key] = _Place(calendar, self.now)
        return place

    def calendar(self, person: Member) -> WorkCalendar:
        return self._place(person).calendar

    def today(self, person: Member) -> date:
        return self._place(person).today

    def add_working_days(self, person: Member, day: date, count: int) -> date:
        """`person`'s calendar's `add_working_days`, memoised."""
        place = self._place(person)
        found = place.shifted.get((day, count))
        if found is None:
            found = place.shifted[(day, count)] = place.calendar.add_working_days(day, count)
        return found

    def slot(
        self,
        person: Member,
        day: date,
        *,
        at: time | None,
        also_away: str | None = None,
        not_before: datetime | None = None,
    ) -> datetime:
        """The first working moment for `person` on or after `day` (at `at`), never in the
        past nor before `not_before`."""
        place = self._place(person)
        spans = self.snap.leave
        if spans:
            leave = spans.get(person.slack_id, []) + spans.get(also_away or "", [])
            if leave:
                floor = max(self.now, not_before) if not_before else self.now
                start = max(datetime.combine(day, time(0), tzinfo=place.calendar.zone), floor)
                return place.calendar.next_working_moment(start, at=at, leave=leave)
        key = (day, at, not_before)
        found = place.slots.get(key)
        if found is None:
            floor = max(self.now, not_before) if not_before else self.now
            start = max(datetime.combine(day, time(0), tzinfo=place.calendar.zone), floor)
            found = place.slots[key] = place.calendar.next_working_moment(start, at=at)
        return found

    def add(
        self,
        kind: str,
        to: Member,
        subject: str,
        period: str,
        due_at: datetime,
        *,
        about: str,
        role: str,
        **payload: object,
    ) -> None:
        self.emit(kind, to, subject, period, due_at, payload, about=about, role=role)

    def emit(
        self,
        kind: str,
        to: Member,
        subject: str,
        period: str,
        due_at: datetime,
        payload: dict[str, object],
        *,
        about: str,
        role: str,
    ) -> None:
        """`add` with a ready payload, which many specs may share: nothing mutates a spec's
        payload, so one dict per cycle (say) saves a dict per person."""
        self.specs.append(
            NudgeSpec(kind, to.slack_id, subject, period, due_at, about, role, payload)
        )

    # -- check-ins ---------------------------------------------------------------------------
    def checkins(self, period: Period, today: date) -> None:
        rhythm = self.policy.cadence.checkin
        window = period
        for _ in range(self.policy.cadence.escalate_after_periods - 1):
            window = previous_period(window, rhythm)
        escalate_before = window.start
        weekday = WEEKDAYS.index(rhythm.weekday) if rhythm.weekday else None
        for employee in self.snap.people.values():
            manager = self.snap.people.get(employee.manager_id or "")
            if manager is None:
                continue
            last = self.snap.last_dialogue.get(employee.slack_id)
            if last is not None and last >= period.start:
                continue  # they talked in this period
            due_day = (
                period.start
                if last is None
                else max(period.start, last + timedelta(days=period.days - 7))
            )
            if due_day > period.end:
                continue
            if weekday is not None:
                due_day += timedelta(days=(weekday - due_day.weekday()) % 7)
            firm = (last is None or last < escalate_before) and employee.joined_on < escalate_before
            to_manager = self.slot(manager, due_day, at=self.hour, also_away=employee.slack_id)
            self.add(
                CHECKIN,
                manager,
                employee.slack_id,
                period.key,
                to_manager,
                about=employee.slack_id,
                role="manager",
                firm=firm,
                last=last,
                since=period.start,
                round=period.index,
            )
            self.add(
                HEADS_UP,
                employee,
                employee.slack_id,
                period.key,
                # never before the manager hears of it (their calendars may differ)
                self.slot(
                    employee,
                    due_day,
                    at=self.hour,
                    also_away=manager.slack_id,
                    not_before=to_manager,
                ),
                about=employee.slack_id,
                role="employee",
                manager=manager.slack_id,
                since=period.start,
                round=period.index,
            )

    # -- goals -------------------------------------------------------------------------------
    def goals(self) -> None:
        cadence = self.policy.cadence
        for goal in self.snap.goals:
            employee = self.snap.people.get(goal.employee_id)
            manager = self.snap.people.get(employee.manager_id or "") if employee else None
            if employee is None or manager is None:
                continue
            calendar = self.calendar(manager)
            set_on = goal.created_at.astimezone(calendar.zone).date()
            first = self.add_working_days(manager, set_on, cadence.goal_clarification_after_days)
            today = self.today(manager)
            round_ = max(0, (today - first).days // cadence.goal_reminder_every_days)
            day = first + timedelta(days=round_ * cadence.goal_reminder_every_days)
            for person, role in ((manager, "manager"), (employee, "employee")):
                self.add(
                    GOAL,
                    person,
                    f"goal:{goal.id}",
                    f"r{round_}",
                    self.slot(person, day, at=self.hour),
                    about=employee.slack_id,
                    role=role,
                    goal_id=goal.id,
                    round=round_,
                )

    # -- action items ------------------------------------------------------------------------
    def actions(self) -> None:
        for action in self.snap.actions:
            owner = self.snap.people.get(action.owner_id)
            employee = self.snap.people.get(action.employee_id)
            if owner is None or employee is None:
                continue
            subject, today = f"action:{action.id}", self.today(owner)
            if action.due_on >= today:
                day = max(today, self.calendar(owner).working_day_on_or_before(action.due_on))
                self.add(
                    ACTION_DUE,
                    owner,
                    subject,
                    "due",
                    self.slot(owner, day, at=self.hour),
                    about=employee.slack_id,
                    role="owner",
                    action_id=action.id,
                )
                continue
            other_id = (
                employee.manager_id if owner.slack_id == employee.slack_id else employee.slack_id
            )
            for person in (owner, self.snap.people.get(other_id or "")):
                if person is not None:
                    role = (
                        "owner"
                        if person is owner
                        else ("manager" if person.slack_id == employee.manager_id else "employee")
                    )
                    self.add(
                        ACTION_OVERDUE,
                        person,
                        subject,
                        "overdue",
                        self.slot(person, action.due_on + timedelta(days=1), at=None),
                        about=employee.slack_id,
                        role=role,
                        action_id=action.id,
                    )

    # -- milestones --------------------------------------------------------------------------
    def milestones(self) -> None:
        for milestone in self.snap.milestones:
            by_manager: dict[str, list[str]] = {}
            for pid in milestone.participants:
                person = self.snap.people.get(pid)
                if person and person.manager_id in self.snap.people:
                    by_manager.setdefault(person.manager_id, []).append(pid)  # type: ignore[arg-type]
            for manager_id, reports in by_manager.items():
                manager = self.snap.people[manager_id]
                day = milestone.ended_at.astimezone(self.calendar(manager).zone).date()
                self.add(
                    MILESTONE,
                    manager,
                    f"milestone:{milestone.id}",
                    "retro",
                    self.slot(manager, day, at=None),
                    about=reports[0],
                    role="manager",
                    milestone_id=milestone.id,
                    participants=reports,
                )

    # -- cycle end ---------------------------------------------------------------------------
    def cycle_end(self) -> None:
        cadence = self.policy.cadence
        for cycle in self.snap.cycles:
            subject, payload = f"cycle:{cycle.id}", {"cycle_id": cycle.id}
            for employee in self.snap.people.values():
                manager = self.snap.people.get(employee.manager_id or "")
                if manager is None:
                    continue
                for kind, lead in (
                    (SELF_ASSESSMENT, cadence.self_assessment_lead_days),
                    (SELF_REMINDER, cadence.self_assessment_reminder_days),
                ):
                    day = self.add_working_days(employee, cycle.review_from, -lead)
                    today = self.today(employee)
                    if kind == SELF_REMINDER and day < today:
                        continue  # a reminder whose day has passed would only add noise
                    if day > today + HORIZON:
                        continue  # planned on a later pass, closer to its day
                    self.emit(
                        kind,
                        employee,
                        subject,
                        cycle.name,
                        self.slot(employee, day, at=self.hour),
                        payload,
                        about=employee.slack_id,
                        role="employee",
                    )
                day = self.add_working_days(
                    manager, cycle.review_from, -cadence.prep_pack_lead_days
                )
                if day > self.today(manager) + HORIZON:
                    continue
                self.emit(
                    PREP_PACK,
                    manager,
                    f"{subject}:{employee.slack_id}",
                    cycle.name,
                    self.slot(manager, day, at=self.hour),
                    payload,
                    about=employee.slack_id,
                    role="manager",
                )


def plan_nudges(snap: Snapshot, policy: Policy, now: datetime) -> list[NudgeSpec]:
    """Every nudge that should exist at `now` (existing ones are not created twice)."""
    planner = _Planner(snap, policy, now)
    today = now.astimezone(calendar_for(policy, timezone=None, country=None).zone).date()
    planner.checkins(period_of(today, policy.cadence.checkin), today)
    planner.goals()
    planner.actions()
    planner.milestones()
    planner.cycle_end()
    return planner.specs


async def ensure_cycles(engine: AsyncEngine, policy: Policy, today: date, now: datetime) -> int:
    """Store the policy's current and next cycles unless a cycle of that name exists."""
    async with session_scope(engine) as session:
        names = set((await session.execute(select(Cycle.name))).scalars())
        fresh = [c for c in policy_cycles(policy.cycles, today) if c.name not in names]
        for span in fresh:
            session.add(
                Cycle(
                    name=span.name,
                    starts_on=span.starts_on,
                    ends_on=span.ends_on,
                    review_from=span.review_from,
                    review_to=span.review_to,
                    created_at=now,
                )
            )
        await session.commit()
    return len(fresh)


async def follow_org_changes(engine: AsyncEngine, now: datetime) -> tuple[int, int]:
    """Cancel pending nudges to or about people who left; move a manager's pending nudges
    to the report's new manager. Returns (moved, cancelled)."""
    async with session_scope(engine) as session:
        gone = select(Person.slack_id).where(Person.active.is_(False))  # type: ignore[attr-defined]
        cancelled = await session.execute(
            update(Nudge)
            .where(
                Nudge.state == NudgeState.PENDING,
                Nudge.recipient_id.in_(gone) | Nudge.about_id.in_(gone),
            )  # type: ignore[attr-defined]
            .values(
                state=NudgeState.CANCELLED, last_error="person left the org chart", updated_at=now
            )
            .execution_options(synchronize_session=False)
        )
        stale = await session.execute(
            select(Nudge, Person.manager_id)
            .join(Person, Person.slack_id == Nudge.about_id)
            .where(
                Nudge.state == NudgeState.PENDING,
                Nudge.role == "manager",
                Person.manager_id.is_not(None),  # type: ignore[union-attr]
                Nudge.recipient_id != Person.manager_id,
            )
        )
        moved = 0
        for nudge, new_manager in stale:
            taken = await session.execute(
                select(Nudge.id).where(
                    Nudge.kind == nudge.kind,
                    Nudge.recipient_id == new_manager,
                    Nudge.subject == nudge.subject,
                    Nudge.period == nudge.period,
                )
            )
            if taken.first() is None:
                nudge.recipient_id, nudge.updated_at = new_manager, now
                moved += 1
            else:
                nudge.state, nudge.last_error = NudgeState.CANCELLED, "manager changed"
            await session.flush()
        await session.commit()
    return moved, int(cancelled.rowcount or 0)  # type: ignore[attr-defined]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """A large organisation's pass creates hundreds of thousands of short-lived objects that
    hold no reference cycles; Python's cyclic collector would walk them again and again
    (about a third of a 100k-person tick). Reference counting still frees them at once."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def plan(engine: AsyncEngine, *, policy: Policy, now: datetime) -> PlanReport:
    """One planning pass at `now`: follow org changes, then enqueue every new nudge."""
    today = now.astimezone(calendar_for(policy, timezone=None, country=None).zone).date()
    await ensure_cycles(engine, policy, today, now)
    moved, cancelled = await follow_org_changes(engine, now)
    with cyclic_gc_paused():
        async with session_scope(engine) as session:
            snap = await load_snapshot(session, today=today, now=now)
            specs = plan_nudges(snap, policy, now)
            created = await enqueue(session, specs, now)
            await session.commit()
    if created:
        log.info("planned %d new nudges (%d wanted) at %s", created, len(specs), now.isoformat())
    return PlanReport(planned=len(specs), created=created, moved=moved, cancelled=cancelled)
