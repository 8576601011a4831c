"""The manager's prep pack for a review interview (绩效面谈), built only from what is stored:
the cycle's timeline and silent months, facts, consensus, actions, goals, the employee's
self-assessment, their share of the talking time, a suggested length and agenda.

`build_packs` uses a fixed number of queries whatever the length of the history."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import NotAllowed
from bot.org.policy import Policy
from bot.org.profiles import reported_zone
from bot.org.worktime import calendar_for, policy_today
from bot.review.cycles import default_interview_day, review_cycle
from storage import queries
from storage.db import session_scope
from storage.models import (
    ActionItem,
    ActionStatus,
    ChatIdentity,
    Cycle,
    Family,
    Goal,
    Person,
    SelfAssessment,
    Talk,
    TalkShare,
)

SHARE_ESTIMATE = {
    TalkShare.UNDER_QUARTER: 0.15,
    TalkShare.UP_TO_HALF: 0.4,
    TalkShare.HALF_OR_MORE: 0.6,
}


@dataclass(frozen=True)
class TimelineEntry:
    held_on: date
    kind: str
    family: str


@dataclass(frozen=True)
class FactEntry:
    held_on: date
    kind: str
    text: str
    goal: str | None


@dataclass(frozen=True)
class ActionEntry:
    text: str
    owner_id: str
    owner: str
    due_on: date
    status: str  # done | open | overdue


@dataclass(frozen=True)
class GoalEntry:
    title: str
    measure: str
    due_on: date
    status: str
    clarified_on: date | None


@dataclass(frozen=True)
class ShareSummary:
    """How much the employee talked, from the managers' own estimates."""

    rated_talks: int
    half_or_more: int
    average: float | None

    @property
    def meets_rule(self) -> bool | None:
        """The "employee talks at least half the time" rule, where anything was recorded."""
        return None if self.average is None else self.average >= 0.5


@dataclass
class PrepPack:
    """Everything the manager needs before one review interview."""

    cycle: Cycle
    manager: Person
    employee: Person
    interview_on: date
    timeline: list[TimelineEntry] = field(default_factory=list)
    silent_months: list[str] = field(default_factory=list)
    facts: list[FactEntry] = field(default_factory=list)
    consensus: list[tuple[date, str]] = field(default_factory=list)
    actions: list[ActionEntry] = field(default_factory=list)
    goals: list[GoalEntry] = field(default_factory=list)
    self_assessment: SelfAssessment | None = None
    share: ShareSummary = ShareSummary(0, 0, None)
    previous_rating: int | None = None
    minutes: int = 60
    longer_because: list[str] = field(default_factory=list)
    linked_to_decisions: bool = True


def months_between(start: date, end: date) -> list[str]:
    """`YYYY-MM` for every month touched by [start, end]."""
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


async def build_packs(
    engine: AsyncEngine,
    *,
    manager_id: str,
    policy: Policy,
    now: datetime,
    employee_id: str | None = None,
) -> list[PrepPack]:
    """A pack per report of the manager (or just `employee_id`) for the cycle under review."""
    today = policy_today(policy, now)
    async with session_scope(engine) as session:
        manager = await queries.get_person(session, manager_id)
        if manager is None:
            raise NotAllowed("refusal.not_in_org")
        reports = await queries.reports_of(session, manager_id)
        if employee_id is not None:
            reports = [p for p in reports if p.id == employee_id]
            if not reports:
                named = await queries.get_person(session, employee_id)
                name = named.name if named is not None else employee_id
                raise NotAllowed("refusal.not_your_report", name=name)
        cycle = await review_cycle(session, today)
        if cycle is None or not reports:
            return []
        ids = [p.id for p in reports]
        talks = await queries.talks_held_between(
            session, ids, start=cycle.starts_on, end=max(cycle.ends_on, today)
        )
        actions = await queries.actions_of_talks_or_open(session, ids, [t.id for t in talks])
        goals = await queries.goals_open_or_due_since(session, ids, since=cycle.starts_on)
        selves = await queries.self_assessments_of(session, cycle.id, ids)
        # the last rating of an earlier cycle
        previous = {
            review.employee_id: review.rating
            for review in await queries.reviews_outside_cycle(session, ids, cycle.id)
        }
        dates = await queries.interview_dates(session, cycle.id or 0, ids)
        reported = await queries.reporting_identities(session, ids)
    key_roles = {
        p.id for p in reports if _named_in(policy.review.key_people, p, reported.get(p.id))
    }
    return [
        _pack(
            cycle,
            manager,
            person,
            reported_zone(person, reported.get(person.id)),
            policy,
            today,
            dates,
            talks,
            actions,
            goals,
            selves,
            previous,
            key_role=person.id in key_roles,
        )
        for person in reports
    ]


def _named_in(names: tuple[str, ...], person: Person, account: ChatIdentity | None) -> bool:
    """Whether the policy's list names this person, as HR names people: by their chat user
    id, email, employee number or person key."""
    if not names:
        return False
    theirs = {person.id, person.employee_number, account.user_id if account else None}
    return bool(theirs & set(names)) or (
        person.email is not None and person.email.lower() in {n.lower() for n in names}
    )


def _pack(
    cycle: Cycle,
    manager: Person,
    employee: Person,
    zone: str | None,  # the employee's, as their chat profile or the org file gives it
    policy: Policy,
    today: date,
    dates: dict[str, date],
    talks: list[Talk],
    actions: list[ActionItem],
    goals: list[Goal],
    selves: dict[str, SelfAssessment],
    previous: dict[str, int],
    *,
    key_role: bool,
) -> PrepPack:
    eid = employee.id
    calendar = calendar_for(policy, timezone=zone, country=employee.country)
    pack = PrepPack(
        cycle, manager, employee, dates.get(eid) or default_interview_day(cycle, calendar)
    )
    mine = [t for t in talks if t.employee_id == eid]
    goal_of_talk: dict[int | None, str] = {
        g.clarified_in_talk_id: g.title
        for g in goals
        if g.employee_id == eid and g.clarified_in_talk_id
    }
    pack.timeline = [TimelineEntry(t.held_on, t.kind, t.family) for t in reversed(mine)]
    talked = {t.held_on.strftime("%Y-%m") for t in mine if t.family == Family.DIALOGUE}
    pack.silent_months = [
        m for m in months_between(cycle.starts_on, min(cycle.ends_on, today)) if m not in talked
    ]
    pack.facts = [FactEntry(t.held_on, t.kind, t.facts, goal_of_talk.get(t.id)) for t in mine]
    pack.consensus = [(t.held_on, t.consensus) for t in mine]
    names = {manager.id: manager.name, eid: employee.name}
    pack.actions = [
        ActionEntry(
            a.text,
            a.owner_id,
            names.get(a.owner_id, a.owner_id),
            a.due_on,
            "done"
            if a.status == ActionStatus.DONE
            else ("overdue" if a.due_on < today else "open"),
        )
        for a in actions
        if a.employee_id == eid
    ]
    pack.goals = [
        GoalEntry(
            g.title,
            g.measure,
            g.due_on,
            g.status,
            g.clarified_at.date() if g.clarified_at else None,
        )
        for g in goals
        if g.employee_id == eid
    ]
    own = selves.get(eid)
    pack.self_assessment = own if own is not None and own.submitted_at is not None else None
    shares = [
        SHARE_ESTIMATE[TalkShare(t.employee_talk_share)]
        for t in mine
        if t.employee_talk_share is not None
        and t.employee_talk_share in TalkShare._value2member_map_
    ]
    pack.share = ShareSummary(
        len(shares),
        sum(1 for s in shares if s >= 0.5),
        round(sum(shares) / len(shares), 2) if shares else None,
    )
    pack.previous_rating = previous.get(eid)
    review_kinds = [k for k in policy.talk_kinds.values() if k.family is Family.REVIEW]
    base = review_kinds[0].default_minutes if review_kinds else 60
    pack.linked_to_decisions = any(k.linked_to_decisions for k in review_kinds)
    rules = policy.review
    if key_role:
        pack.longer_because.append("key_role")
    if pack.self_assessment and rules.is_extreme(pack.self_assessment.rating):
        pack.longer_because.append("extreme_self_rating")
    if rules.is_extreme(pack.previous_rating):
        pack.longer_because.append("extreme_last_rating")
    pack.minutes = base + (rules.extra_minutes if pack.longer_because else 0)
    return pack


def pack_json(pack: PrepPack) -> dict[str, object]:
    """The pack as plain data (the CLI's `--format json`)."""
    own = pack.self_assessment
    return {
        "cycle": pack.cycle.name,
        "manager_id": pack.manager.id,
        "employee_id": pack.employee.id,
        "interview_on": pack.interview_on.isoformat(),
        "timeline": [
            {"held_on": t.held_on.isoformat(), "kind": t.kind, "family": t.family}
            for t in pack.timeline
        ],
        "months_without_dialogue": pack.silent_months,
        "facts": [
            {"held_on": f.held_on.isoformat(), "kind": f.kind, "text": f.text, "goal": f.goal}
            for f in pack.facts
        ],
        "consensus": [{"held_on": d.isoformat(), "text": c} for d, c in pack.consensus],
        "actions": [
            {
                "text": a.text,
                "owner_id": a.owner_id,
                "due_on": a.due_on.isoformat(),
                "status": a.status,
            }
            for a in pack.actions
        ],
        "goals": [
            {
                "title": g.title,
                "measure": g.measure,
                "due_on": g.due_on.isoformat(),
                "status": g.status,
                "clarified_on": g.clarified_on.isoformat() if g.clarified_on else None,
            }
            for g in pack.goals
        ],
        "self_assessment": None
        if own is None
        else {
            "rating": own.rating,
            "proudest": own.proudest,
            "redo": own.redo,
            "blockers": own.blockers,
            "support": own.support,
            "other": own.other,
        },
        "talk_share": {
            "rated_talks": pack.share.rated_talks,
            "half_or_more": pack.share.half_or_more,
            "average": pack.share.average,
            "meets_rule": pack.share.meets_rule,
        },
        "previous_rating": pack.previous_rating,
        "suggested_minutes": pack.minutes,
        "longer_because": pack.longer_because,
        "linked_to_decisions": pack.linked_to_decisions,
    }


def dumps(packs: list[PrepPack]) -> str:
    """Packs as indented JSON."""
    return json.dumps({"packs": [pack_json(p) for p in packs]}, ensure_ascii=False, indent=2) + "\n"


def facts_by_goal(pack: PrepPack) -> dict[str | None, list[FactEntry]]:
    """Facts grouped by the goal they were recorded against (None: not linked), newest first."""
    grouped: dict[str | None, list[FactEntry]] = defaultdict(list)
    for fact in pack.facts:
        grouped[fact.goal].append(fact)
    return dict(grouped)
