"""The planner: from a snapshot of the organisation, the nudges that should exist now.

`plan_nudges` is pure (snapshot, policy, now → specs) so it can be reasoned about and
property-tested; `plan` loads the snapshot, keeps the outbox in step with the org chart
and enqueues what is new.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from itertools import islice
from operator import attrgetter, itemgetter

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine.kinds import (
    ACTION_DUE,
    ACTION_OVERDUE,
    CHECKIN,
    COVERAGE_SUBJECT,
    CYCLE_END_KINDS,
    DUE_PERIOD,
    GOAL,
    HEADS_UP,
    HR_DIGEST,
    MILESTONE,
    OVERDUE_PERIOD,
    PER_SUBJECT_KINDS,
    PREP_PACK,
    RETRO_PERIOD,
    SELF_ASSESSMENT,
    SELF_REMINDER,
    SEPARATOR,
    action_subject,
    cycle_subject,
    goal_round,
    goal_subject,
    milestone_subject,
    prep_pack_prefix,
    week_period,
)
from bot.engine.known_keys import KnownKeys, load_known_keys
from bot.engine.outbox import NudgeSpec, cancel_for_inactive_people, enqueue
from bot.engine.snapshot import CycleRow, Member, Snapshot, live_cycles, load_snapshot
from bot.org.periods import Period, period_of, policy_cycles, previous_period
from bot.org.policy import WEEKDAYS, Policy
from bot.org.worktime import Span, WorkCalendar, calendar_for, policy_today
from storage import queries
from storage.db import refresh_statistics, session_scope
from storage.models import Cycle, Nudge

log = logging.getLogger(__name__)

# Cycle-end nudges are created at most this long before their day: the planner runs every
# few minutes, and a large organisation's outbox need not hold months of future rows.
HORIZON = timedelta(days=7)


@dataclass(frozen=True)
class PlanReport:
    """What one planning pass did: `planned` new nudges wanted, `created` of them stored,
    `deferred` left for the next passes (beyond the pass's limit). A pass that stopped
    planning early (more than its limit due before anything left unplanned) counts what it
    planned: then `planned` and `deferred` are at least those numbers, and `deferred` is
    never 0."""

    planned: int
    created: int
    deferred: int
    cancelled: int


Pair = tuple[Member, Member]  # (employee, manager)


class _Place:
    """The planner's memo for one (time zone, country): its calendar, today there, and the
    answers already worked out. An organisation has a few dozen places but a great many
    people, so each answer is computed once per place and then looked up."""

    __slots__ = ("calendar", "horizon", "now", "shifted", "slots", "today")

    def __init__(self, calendar: WorkCalendar, now: datetime) -> None:
        self.calendar, self.now = calendar, now
        self.today = now.astimezone(calendar.zone).date()
        self.horizon = self.today + HORIZON
        self.shifted: dict[tuple[date, int], date] = {}
        self.slots: dict[tuple[date, time | None, datetime | None], datetime] = {}

    def add_working_days(self, day: date, count: int) -> date:
        """The calendar's `add_working_days`, memoised."""
        found = self.shifted.get((day, count))
        if found is None:
            found = self.shifted[(day, count)] = self.calendar.add_working_days(day, count)
        return found

    def moment(
        self,
        day: date,
        at: time | None,
        not_before: datetime | None,
        leave: list[Span] | None = None,
    ) -> datetime:
        """The first working moment on or after `day` (at `at`), never in the past nor before
        `not_before`; memoised unless someone's leave counts."""
        key = (day, at, not_before)
        found = None if leave else self.slots.get(key)
        if found is None:
            floor = max(self.now, not_before) if not_before else self.now
            start = max(datetime.combine(day, time(0), tzinfo=self.calendar.zone), floor)
            # in UTC: specs compare and hash their moments, which is slow across zones
            found = self.calendar.next_working_moment(start, at=at, leave=leave or ()).astimezone(
                UTC
            )
            if not leave:
                self.slots[key] = found
        return found


class _Planner:
    def __init__(self, snap: Snapshot, policy: Policy, now: datetime) -> None:
        self.snap, self.policy, self.now = snap, policy, now
        self.hour = time(policy.cadence.checkin.hour)
        self._places: dict[tuple[str | None, str | None], _Place] = {}
        self._place_of: dict[str, _Place] = {}  # by person: one look-up of a cached str hash
        self.known = snap.known
        self.specs: list[NudgeSpec] = []

    def place(self, person: Member) -> _Place:
        found = self._place_of.get(person.id)
        if found is None:
            found = self._place_of[person.id] = self._place_at(person.timezone, person.country)
        return found

    def _place_at(self, timezone: str | None, country: str | None) -> _Place:
        found = self._places.get((timezone, country))
        if found is None:
            calendar = calendar_for(self.policy, timezone=timezone, country=country)
            found = self._places[(timezone, country)] = _Place(calendar, self.now)
        return found

    def calendar(self, person: Member) -> WorkCalendar:
        return self.place(person).calendar

    def today(self, person: Member) -> date:
        return self.place(person).today

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
        past nor before `not_before`, nor while they (or `also_away`) are on leave."""
        spans = self.snap.leave
        away = None
        if spans and (person.id in spans or also_away in spans):
            away = spans.get(person.id, []) + spans.get(also_away or "", [])
        return self.place(person).moment(day, at, not_before, away)

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
        self.specs.append(NudgeSpec(kind, to.id, subject, period, due_at, about, role, payload))

    # -- check-ins ---------------------------------------------------------------------------
    def checkins(self, period: Period, pairs: list[Pair]) -> None:
        """Check-ins and heads-ups for these (employee, manager) pairs."""
        rhythm = self.policy.cadence.checkin
        window = period
        for _ in range(self.policy.cadence.escalate_after_periods - 1):
            window = previous_period(window, rhythm)
        escalate_before = window.start
        weekday = WEEKDAYS.index(rhythm.weekday) if rhythm.weekday else None
        stored_checkins = self.known.slot(CHECKIN, period.key)
        stored_heads_ups = self.known.slot(HEADS_UP, period.key)
        last_dialogue, leave = self.snap.last_dialogue, self.snap.leave
        append, key, since, index = self.specs.append, period.key, period.start, period.index
        place_of, place = self._place_of, self.place
        gap = timedelta(days=period.days - 7)
        # the last dialogue -> the day the check-in is due (None: not in this period)
        due_days: dict[date | None, date | None] = {}
        # (manager's place, employee's place, day) -> both moments, for pairs not on leave
        moments: dict[tuple[_Place, _Place, date], tuple[datetime, datetime]] = {}
        for employee, manager in pairs:
            mid, eid = manager.id, employee.id
            # The subject is the employee (`kinds.checkin_subject`), and a stored key is
            # looked up as `kinds.member` spells it: both inlined, this runs for every pair.
            to_manager = mid + SEPARATOR + eid not in stored_checkins
            to_employee = eid + SEPARATOR + eid not in stored_heads_ups
            if not (to_manager or to_employee):
                continue  # both stored by an earlier pass
            last = last_dialogue.get(eid)
            if last is not None and last >= since:
                continue  # they talked in this period
            if last in due_days:
                due_day = due_days[last]
            else:
                due_day = due_days[last] = self._checkin_day(period, last, gap, weekday)
            if due_day is None:
                continue
            pair = (
                place_of.get(mid) or place(manager),
                place_of.get(eid) or place(employee),
                due_day,
            )
            away = bool(leave) and (mid in leave or eid in leave)
            found = None if away else moments.get(pair)
            if found is None:
                to_mgr = self.slot(manager, due_day, at=self.hour, also_away=eid)
                # the heads-up never comes before the manager hears of it
                to_emp = self.slot(
                    employee, due_day, at=self.hour, also_away=mid, not_before=to_mgr
                )
                found = (to_mgr, to_emp)
                if not away:
                    moments[pair] = found
            if to_manager:
                firm = (
                    last is None or last < escalate_before
                ) and employee.joined_on < escalate_before
                payload: dict[str, object] = {
                    "firm": firm,
                    "last": last,
                    "since": since,
                    "round": index,
                }
                append(NudgeSpec(CHECKIN, mid, eid, key, found[0], eid, "manager", payload))
            if to_employee:
                payload = {"manager": mid, "since": since, "round": index}
                append(NudgeSpec(HEADS_UP, eid, eid, key, found[1], eid, "employee", payload))

    def pairs_by_place(self) -> tuple[dict[_Place, list[Pair]], dict[_Place, list[Pair]]]:
        """Every (employee, manager) pair, by the manager's place and by the employee's."""
        people, place_of, place = self.snap.people, self._place_of, self.place
        by_manager: dict[_Place, list[Pair]] = {}
        by_employee: dict[_Place, list[Pair]] = {}
        for employee in people.values():
            manager = people.get(employee.manager_id or "")
            if manager is not None:
                managers_place = place_of.get(manager.id) or place(manager)
                employees_place = place_of.get(employee.id) or place(employee)
                pair = (employee, manager)
                by_manager.setdefault(managers_place, []).append(pair)
                by_employee.setdefault(employees_place, []).append(pair)
        return by_manager, by_employee

    def units(self, period: Period) -> list[tuple[datetime, Callable[[], None]]]:
        """The check-ins and cycle-end nudges in units of one kind and one place (the
        manager's for check-ins and prep packs, the employee's for self-assessments), each
        with its floor: no nudge it plans is due sooner. In the order of their floors."""
        by_manager, by_employee = self.pairs_by_place()
        units: list[tuple[datetime, Callable[[], None]]] = [
            (place.moment(place.today, self.hour, None), partial(self.checkins, period, pairs))
            for place, pairs in by_manager.items()
        ]
        cadence = self.policy.cadence
        for cycle in self.snap.cycles:
            for kind, lead, groups in (
                (SELF_ASSESSMENT, cadence.self_assessment_lead_days, by_employee),
                (SELF_REMINDER, cadence.self_assessment_reminder_days, by_employee),
                (PREP_PACK, cadence.prep_pack_lead_days, by_manager),
            ):
                for place, pairs in groups.items():
                    day = self._cycle_day(place, cycle, kind, lead)
                    if day is not None:
                        plan_them = partial(self.cycle_end, cycle, kind, place, day, pairs)
                        units.append((place.moment(day, self.hour, None), plan_them))
        units.sort(key=itemgetter(0))  # stable: equal floors keep the order above
        return units

    @staticmethod
    def _checkin_day(
        period: Period, last: date | None, gap: timedelta, weekday: int | None
    ) -> date | None:
        """The day a pair's check-in is due in `period` after their last dialogue (a week
        before a full period has passed), on the policy's weekday; None: not in `period`."""
        day = period.start if last is None else max(period.start, last + gap)
        if day > period.end:
            return None
        if weekday is not None:
            day += timedelta(days=(weekday - day.weekday()) % 7)
        return day

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
            first = self.place(manager).add_working_days(
                set_on, cadence.goal_clarification_after_days
            )
            today = self.today(manager)
            round_ = max(0, (today - first).days // cadence.goal_reminder_every_days)
            day = first + timedelta(days=round_ * cadence.goal_reminder_every_days)
            subject, period = goal_subject(goal.id), goal_round(round_)
            for person, role in ((manager, "manager"), (employee, "employee")):
                if self.known.has(GOAL, person.id, subject, period):
                    continue
                self.add(
                    GOAL,
                    person,
                    subject,
                    period,
                    self.slot(person, day, at=self.hour),
                    about=employee.id,
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
            subject, today = action_subject(action.id), self.today(owner)
            if action.due_on >= today:
                if self.known.has(ACTION_DUE, owner.id, subject, DUE_PERIOD):
                    continue
                day = max(today, self.calendar(owner).working_day_on_or_before(action.due_on))
                self.add(
                    ACTION_DUE,
                    owner,
                    subject,
                    DUE_PERIOD,
                    self.slot(owner, day, at=self.hour),
                    about=employee.id,
                    role="owner",
                    action_id=action.id,
                )
                continue
            other_id = employee.manager_id if owner.id == employee.id else employee.id
            for person in (owner, self.snap.people.get(other_id or "")):
                if person is None or self.known.has(
                    ACTION_OVERDUE, person.id, subject, OVERDUE_PERIOD
                ):
                    continue
                role = (
                    "owner"
                    if person is owner
                    else ("manager" if person.id == employee.manager_id else "employee")
                )
                self.add(
                    ACTION_OVERDUE,
                    person,
                    subject,
                    OVERDUE_PERIOD,
                    self.slot(person, action.due_on + timedelta(days=1), at=None),
                    about=employee.id,
                    role=role,
                    action_id=action.id,
                )

    # -- milestones --------------------------------------------------------------------------
    def milestones(self) -> None:
        for milestone in self.snap.milestones:
            subject = milestone_subject(milestone.id)
            by_manager: dict[str, list[str]] = {}
            for pid in milestone.participants:
                person = self.snap.people.get(pid)
                if person and person.manager_id in self.snap.people:
                    by_manager.setdefault(person.manager_id, []).append(pid)
            for manager_id, reports in by_manager.items():
                if self.known.has(MILESTONE, manager_id, subject, RETRO_PERIOD):
                    continue
                manager = self.snap.people[manager_id]
                day = milestone.ended_at.astimezone(self.calendar(manager).zone).date()
                self.add(
                    MILESTONE,
                    manager,
                    subject,
                    RETRO_PERIOD,
                    self.slot(manager, day, at=None),
                    about=reports[0],
                    role="manager",
                    milestone_id=milestone.id,
                    participants=reports,
                )

    # -- HR's weekly digest --------------------------------------------------------------------
    def hr_digests(self) -> None:
        """This week's digest for each HR person, on the policy's weekday at its hour in their
        own time zone (at once when that moment has passed and it was never sent: a new HR
        person, a new deployment)."""
        digest = self.policy.hr_digest
        if not digest.enabled:
            return
        weekday, at = WEEKDAYS.index(digest.weekday), time(digest.hour)
        for hr_id in self.snap.hr:
            person = self.snap.people.get(hr_id)
            if person is None:
                continue
            today = self.today(person)
            day = today - timedelta(days=(today.weekday() - weekday) % 7)  # on or before today
            period = week_period(*day.isocalendar()[:2])
            if self.known.has(HR_DIGEST, hr_id, COVERAGE_SUBJECT, period):
                continue
            self.add(
                HR_DIGEST,
                person,
                COVERAGE_SUBJECT,
                period,
                self.slot(person, day, at=at),
                about=hr_id,
                role="hr",
                week=period,
            )

    # -- cycle end ---------------------------------------------------------------------------
    def cycle_end(
        self, cycle: CycleRow, kind: str, place: _Place, day: date, pairs: list[Pair]
    ) -> None:
        """One cycle-end kind for the pairs whose recipient is in `place`, on `day` there:
        each employee's self-assessment request or its reminder, or their manager's prep
        pack (one per report)."""
        hour, leave, append = self.hour, self.snap.leave, self.specs.append
        payload: dict[str, object]  # one payload, shared by the unit's specs
        payload, name, own = {"cycle_id": cycle.id}, cycle.name, cycle_subject(cycle.id)
        prep_packs = prep_pack_prefix(cycle.id)
        stored = self.known.slot(kind, name)
        due = place.moment(day, hour, None)
        for employee, manager in pairs:
            eid = employee.id
            if kind == PREP_PACK:
                # `kinds.prep_pack_subject`, inlined: this runs for every pair
                to, role, subject = manager, "manager", prep_packs + eid
            else:
                to, role, subject = employee, "employee", own
            if to.id + SEPARATOR + subject in stored:  # `kinds.member`, inlined
                continue
            moment = self.slot(to, day, at=hour) if to.id in leave else due
            append(NudgeSpec(kind, to.id, subject, name, moment, eid, role, payload))

    @staticmethod
    def _cycle_day(place: _Place, cycle: CycleRow, kind: str, lead: int) -> date | None:
        """The day to plan a cycle-end nudge on in this place, or None to leave it for now."""
        day = place.add_working_days(cycle.review_from, -lead)
        if kind == SELF_REMINDER and day < place.today:
            return None  # a reminder whose day has passed would only add noise
        if day > place.horizon:
            return None  # planned on a later pass, closer to its day
        return day


def checkin_period(policy: Policy, now: datetime) -> Period:
    """The check-in period at `now`, in the policy's time zone."""
    return period_of(policy_today(policy, now), policy.cadence.checkin)


def plan_nudges(
    snap: Snapshot, policy: Policy, now: datetime, *, enough: int | None = None
) -> list[NudgeSpec]:
    """Every nudge that should exist at `now` and is not stored yet (`snap.known`).

    With `enough`, planning stops early once more than that many are due no later than any
    nudge still to plan could be: those would come later in the list and be due no sooner,
    so `earliest(specs, enough)` takes the same nudges as from the full list."""
    planner = _Planner(snap, policy, now)
    planner.actions()
    planner.milestones()
    planner.goals()
    planner.hr_digests()
    counter = None if enough is None else _DueCounter(planner.specs, enough)
    for floor, plan_unit in planner.units(checkin_period(policy, now)):
        if counter is not None and counter.enough_by(floor):
            break
        plan_unit()
    return planner.specs


class _DueCounter:
    """Tells whether more than `limit` of the specs planned so far are due by a moment.
    A pass has few distinct moments, so they are counted per moment as specs come."""

    def __init__(self, specs: list[NudgeSpec], limit: int) -> None:
        self.specs, self.limit, self.counted = specs, limit, 0
        self.by_moment: Counter[datetime] = Counter()

    def enough_by(self, moment: datetime) -> bool:
        """Whether more than `limit` are due by `moment`."""
        if len(self.specs) <= self.limit:
            return False
        self.by_moment.update(map(_DUE, islice(self.specs, self.counted, None)))
        self.counted = len(self.specs)
        return sum(n for due, n in self.by_moment.items() if due <= moment) > self.limit


async def ensure_cycles(engine: AsyncEngine, policy: Policy, today: date, now: datetime) -> int:
    """Store the policy's current and next cycles unless a cycle of that name exists."""
    async with session_scope(engine) as session:
        names = await queries.cycle_names(session)
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


async def cancel_for_people_who_left(engine: AsyncEngine, now: datetime) -> int:
    """Cancel pending nudges to or about people who left; returns how many. (A manager
    change moves pending nudges when the org file is imported: `outbox.move_to_new_managers`.)
    """
    async with session_scope(engine) as session:
        cancelled = await cancel_for_inactive_people(session, now=now)
        await session.commit()
    return cancelled


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


async def load_stored_slots(engine: AsyncEngine, period: Period, today: date) -> KnownKeys:
    """The stored keys of the kinds planned for everyone: this period's check-ins and
    heads-ups, and the live cycles' nudges. On its own connection, so that the database
    reads them while the snapshot is being decoded."""
    async with session_scope(engine) as session:
        slots = [(CHECKIN, period.key), (HEADS_UP, period.key)]
        cycles = await live_cycles(session, today)
        slots += [(kind, cycle.name) for cycle in cycles for kind in CYCLE_END_KINDS]
        return await load_known_keys(session, slots=slots, kinds=(), subjects=())


async def add_stored_subjects(session: AsyncSession, snap: Snapshot) -> None:
    """Add to `snap.known` the stored keys about the snapshot's goals, actions and
    milestones."""
    subjects = [goal_subject(goal.id) for goal in snap.goals]
    subjects += [action_subject(action.id) for action in snap.actions]
    subjects += [milestone_subject(milestone.id) for milestone in snap.milestones]
    subjects += [COVERAGE_SUBJECT] if snap.hr else []
    found = await load_known_keys(session, slots=(), kinds=PER_SUBJECT_KINDS, subjects=subjects)
    snap.known.by_slot.update(found.by_slot)  # kinds of their own: nothing is overwritten


def earliest(specs: list[NudgeSpec], limit: int) -> list[NudgeSpec]:
    """The `limit` specs due first (all of them if there are no more), in their given order;
    of those due at the cut-off moment, the first ones. A pass has few distinct moments
    (memoised per place), so counting them beats sorting the specs."""
    if len(specs) <= limit:
        return specs
    counts = Counter(map(_DUE, specs))
    taken, cutoff = 0, None
    for moment in sorted(counts):
        if taken + counts[moment] >= limit:
            cutoff = moment
            break
        taken += counts[moment]
    room = limit - taken  # how many of those due at the cut-off fit
    chosen = []
    for spec in specs:
        due = spec.due_at
        if due < cutoff:  # type: ignore[operator]  # set: more specs than `limit`
            chosen.append(spec)
        elif due == cutoff and room:
            chosen.append(spec)
            room -= 1
    return chosen


_DUE = attrgetter("due_at")


async def plan(
    engine: AsyncEngine, *, policy: Policy, now: datetime, limit: int | None = None
) -> PlanReport:
    """One planning pass at `now`: cancel what was meant for people who left, then enqueue
    the new nudges due first, at most `limit` (default: `policy.delivery.new_nudges_per_pass`);
    the next passes create the rest."""
    today = policy_today(policy, now)
    await ensure_cycles(engine, policy, today, now)
    cancelled = await cancel_for_people_who_left(engine, now)
    period = checkin_period(policy, now)
    with cyclic_gc_paused():
        async with session_scope(engine) as session:
            stored = asyncio.create_task(load_stored_slots(engine, period, today))
            try:
                snap = await load_snapshot(session, today=today, now=now)
            except BaseException:
                stored.cancel()  # not left running behind a failed pass
                await asyncio.gather(stored, return_exceptions=True)
                raise
            snap.known = await stored
            await add_stored_subjects(session, snap)
            limit = limit or policy.delivery.new_nudges_per_pass
            specs = plan_nudges(snap, policy, now, enough=limit)
            batch = earliest(specs, limit)
            created = await enqueue(session, batch, now)
            await session.commit()
            if created:
                await refresh_statistics(session, Nudge.__tablename__, created)  # type: ignore[arg-type]  # a str on a table model
                await session.commit()
    if created:
        log.info(
            "planned %d new nudges at %s (%d more wait for the next passes)",
            created,
            now.isoformat(),
            len(specs) - len(batch),
        )
    return PlanReport(
        planned=len(specs),
        created=created,
        deferred=len(specs) - len(batch),
        cancelled=cancelled,
    )
