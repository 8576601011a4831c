"""The formal review interview (绩效面谈), kept apart from dialogues (`bot.records.talks`).

A review is a talk row (family review) plus a review row, saved in one transaction with the
next cycle's goals and the development actions, once per submission. The employee then
acknowledges it or disagrees with a comment. No Slack here; time is passed in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import notices
from bot.engine.kinds import (
    ACTION_KINDS,
    GOAL,
    REVIEW_SAVED,
    REVIEW_SUMMARY,
    action_subject,
    goal_subject,
    review_subject,
    review_version,
)
from bot.engine.outbox import cancel_pending
from bot.errors import Invalid, NotAllowed, Problem
from bot.org.people import local_today
from bot.org.policy import Policy
from bot.privacy import access
from bot.records.goals import TITLE_LIMIT
from bot.records.meeting import TEXT_LIMIT, ActionDraft, action_problems, held_problems
from bot.records.saving import save_once
from bot.records.talks import load_pair
from bot.review.cycles import review_cycle
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import (
    ActionItem,
    ActionStatus,
    Cycle,
    Family,
    Goal,
    GoalStatus,
    Person,
    Review,
    Talk,
)

DECISIONS = ("pay", "promotion", "role_change", "improvement_plan")
MAX_DEVELOPMENT = 3
MAX_GOALS = 10
DAYS_WITHOUT_NEXT_CYCLE = 90


def rating_text(policy: Policy, rating: int, locale: str) -> str:
    """A rating with HR's label in `locale`: `4 · Exceeds expectations`."""
    labels = policy.review.rating_labels.get(rating, {})
    label = labels.get(locale) or labels.get("en")  # type: ignore[call-overload]
    return f"{rating} · {label}" if label else str(rating)


@dataclass(frozen=True)
class ReviewDraft:
    """The review form as typed (and `review_id` from the modal's routing): nothing trusted."""

    employee_id: str
    rating: str | None
    evidence: str
    held_on: date | None
    minutes: str | None = None
    gaps: str = ""
    next_goals: str = ""
    actions: tuple[ActionDraft, ...] = ()
    decisions: tuple[str, ...] = ()
    employee_view: str = ""
    review_id: int | None = None

    def goal_titles(self) -> list[str]:
        """The next cycle's goals: one per non-empty line, without repeats."""
        lines = (line.strip() for line in self.next_goals.splitlines())
        return list(dict.fromkeys(line for line in lines if not is_blank(line)))


@dataclass(frozen=True)
class ReviewForm:
    """What the review modal shows; `existing` (with its talk) puts it in edit mode."""

    employee: Person
    manager: Person
    kind: str
    cycle: Cycle
    today: date
    goals_due: date
    decisions_shown: bool
    existing: Review | None
    talk: Talk | None
    actions: list[ActionItem]


@dataclass(frozen=True)
class RecordedReview:
    """A saved review; `fresh` is False when this submission had been applied before."""

    review: Review
    talk: Talk
    cycle: Cycle
    actions: list[ActionItem]
    goals: list[Goal]
    employee: Person
    manager: Person
    fresh: bool = True
    edited: bool = False
    amended: bool = False  # a resubmission of the same form changed what it had saved
    recorder: str = ""  # the name of who recorded it, when read back from storage

    @property
    def recorded_by(self) -> str:
        """Who recorded the review, by name: the manager, else whoever did (HR)."""
        if self.talk.logged_by == self.manager.id:
            return self.manager.name
        return self.recorder or self.manager.name


def review_kind(policy: Policy) -> str:
    """The policy's kind of talk for the review interview (the first of family review)."""
    kinds = [k for k, v in policy.talk_kinds.items() if v.family is Family.REVIEW]
    if not kinds:
        raise NotAllowed("review.refusal.no_kind")
    return kinds[0]


def decisions_of(review: Review) -> list[str]:
    """The reward decisions a review is linked to, as stored (a JSON list)."""
    try:
        value = json.loads(review.decisions or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


async def _pair(
    session: AsyncSession, actor_id: str, employee_id: str
) -> tuple[Person, Person, Person]:
    """Actor, employee and manager, if the actor may record the employee's review."""
    pair = await load_pair(
        session,
        actor_id,
        employee_id,
        myself="review.refusal.myself",
        not_yours="review.refusal.not_your_report",
    )
    return pair.actor, pair.employee, pair.manager


async def review_form(
    engine: AsyncEngine,
    *,
    actor_id: str,
    employee_id: str,
    policy: Policy,
    now: datetime,
    platform: str,
) -> ReviewForm:
    """Check the actor may record the review and gather the form; edit mode if the cycle
    under review already has one (a read of that record, in the access log)."""
    async with session_scope(engine) as session:
        actor, employee, manager = await _pair(session, actor_id, employee_id)
        kind = review_kind(policy)
        today = local_today(actor, policy, now)
        cycle = await review_cycle(session, today)
        if cycle is None or cycle.id is None:
            raise NotAllowed("review.refusal.no_cycle")
        existing = await queries.review_for(session, cycle.id, employee.id)
        talk = await session.get(Talk, existing.talk_id) if existing else None
        actions = await queries.actions_of_talks(session, [existing.talk_id] if existing else [])
        due = await goals_due(session, cycle, talk.held_on if talk else today)
        if existing is not None:
            await access.record(
                session,
                reader=actor.id,
                subjects=[employee.id],
                what=access.REVIEW_FORM,
                platform=platform,
                now=now,
            )
            await session.commit()
    linked = policy.kind(kind).linked_to_decisions
    return ReviewForm(employee, manager, kind, cycle, today, due, linked, existing, talk, actions)


def validate_review(
    draft: ReviewDraft, *, policy: Policy, kind: str, today: date
) -> dict[str, Problem]:
    """Every problem in the draft, keyed by field (`rating`, `action_2_due`, …)."""
    problems: dict[str, Problem] = {}
    scale, rating = policy.review, (draft.rating or "").strip()
    if not rating.isdigit() or not scale.rating_min <= int(rating) <= scale.rating_max:
        bounds: dict[str, object] = {"min": scale.rating_min, "max": scale.rating_max}
        problems["rating"] = Problem("review.error.rating_scale", bounds)
    if is_blank(draft.evidence):
        problems["evidence"] = Problem("review.error.evidence_required")
    for name in ("evidence", "gaps", "next_goals", "employee_view"):
        if len(getattr(draft, name).strip()) > TEXT_LIMIT:
            problems[name] = Problem("error.too_long", {"limit": TEXT_LIMIT})
    titles = draft.goal_titles()
    if len(titles) > MAX_GOALS:
        problems["next_goals"] = Problem("review.error.too_many_goals", {"limit": MAX_GOALS})
    elif any(len(title) > TITLE_LIMIT for title in titles):
        problems["next_goals"] = Problem("review.error.goal_too_long", {"limit": TITLE_LIMIT})
    if draft.decisions and not policy.kind(kind).linked_to_decisions:
        problems["decisions"] = Problem("review.error.decisions_not_linked")
    elif set(draft.decisions) - set(DECISIONS):
        problems["decisions"] = Problem("review.error.decisions_unknown")
    problems.update(held_problems(draft.held_on, draft.minutes, today=today))
    problems.update(action_problems(draft.actions[:MAX_DEVELOPMENT], today=today))
    return problems


async def record_review(
    engine: AsyncEngine,
    *,
    actor_id: str,
    draft: ReviewDraft,
    policy: Policy,
    now: datetime,
    key: str,
    digest: str | None = None,
) -> RecordedReview:
    """Check access, validate, and save (or, with `draft.review_id`, edit) the review with
    its goals and actions in one transaction, once per submission key (one form); a
    resubmission whose `digest` differs is applied to what that form saved."""
    # A concurrent submission that won the race is found on the second pass, which answers
    # as it did, or with the review that now exists for the cycle.
    return await save_once(
        engine, lambda session: _record(session, actor_id, draft, policy, now, key, digest)
    )


async def _record(
    session: AsyncSession,
    actor_id: str,
    draft: ReviewDraft,
    policy: Policy,
    now: datetime,
    key: str,
    digest: str | None,
) -> RecordedReview:
    actor, employee, manager = await _pair(session, actor_id, draft.employee_id)
    earlier = await queries.talk_by_submission(session, key)
    amending: Review | None = None
    if earlier is not None:
        review = await queries.review_of_talk(session, earlier.id)
        if review is None or review.employee_id != employee.id:
            raise NotAllowed("review.refusal.unknown")
        if digest is None or earlier.form_digest == digest:
            return await loaded_review(session, review, fresh=False)
        amending = review  # typed again after "not saved yet": nothing typed is lost
    kind = review_kind(policy)
    problems = validate_review(
        draft, policy=policy, kind=kind, today=local_today(actor, policy, now)
    )
    if problems:
        raise Invalid(problems)
    assert draft.held_on is not None and draft.rating is not None
    cycle = await review_cycle(session, draft.held_on)
    if cycle is None or cycle.id is None:
        raise Invalid({"held_on": Problem("review.error.no_cycle")})
    editing = amending or (await session.get(Review, draft.review_id) if draft.review_id else None)
    if draft.review_id and (editing is None or editing.employee_id != employee.id):
        raise NotAllowed("review.refusal.unknown")
    if amending is not None:
        await _undo_last_submission(session, amending, now)
    clash = await queries.review_for(session, cycle.id, employee.id)
    if clash is not None and (editing is None or clash.id != editing.id):
        handle = employee.name.replace(" ", "").lower()
        params: dict[str, object] = {"name": employee.name, "cycle": cycle.name, "handle": handle}
        raise Invalid({"rating": Problem("review.error.exists", params)})
    minutes = (draft.minutes or "").strip()
    talk_fields = {
        "held_on": draft.held_on,
        "duration_minutes": int(minutes) if minutes else policy.kind(kind).default_minutes,
        "facts": draft.evidence.strip(),
        "consensus": (draft.next_goals.strip() or draft.gaps.strip())[:TEXT_LIMIT],
        "submission_key": key,
        "form_digest": digest,
    }
    review_fields = {
        "cycle_id": cycle.id,
        "rating": int(draft.rating),
        "evidence": draft.evidence.strip(),
        "gaps": draft.gaps.strip(),
        "next_goals": draft.next_goals.strip(),
        "decisions": json.dumps([d for d in DECISIONS if d in draft.decisions]),
        "employee_view": draft.employee_view.strip(),
        "updated_at": now,
    }
    if editing is None:
        # the rest of each row's fields are set from talk_fields and review_fields below
        talk = Talk(  # type: ignore[call-arg]
            kind=kind,
            family=Family.REVIEW.value,
            logged_by=actor_id,
            created_at=now,
            manager_id=manager.id,
            employee_id=employee.id,
        )
        review = Review(  # type: ignore[call-arg]
            created_at=now, manager_id=manager.id, employee_id=employee.id
        )
    else:
        review, talk = editing, await session.get(Talk, editing.talk_id)  # type: ignore[assignment]  # stored with its review
        # The employee answered the earlier version: they answer again. Their last comment
        # stays on the record; `disagreed_at` says whether it is about the current version.
        talk.acknowledged_at = review.acknowledged_at = review.disagreed_at = None
    for row, fields in ((talk, talk_fields), (review, review_fields)):
        for name, value in fields.items():
            setattr(row, name, value)
    session.add(talk)
    await session.flush()
    assert talk.id is not None
    review.talk_id = talk.id
    session.add(review)
    owners = {"manager": manager.id, "employee": employee.id}
    added = [
        ActionItem(
            talk_id=talk.id,
            employee_id=employee.id,
            owner_id=owners[a.owner or "employee"],
            text=a.text.strip(),
            due_on=a.due_on or draft.held_on,
            status=ActionStatus.OPEN,
            created_at=now,
        )
        for a in draft.actions[:MAX_DEVELOPMENT]
        if not a.is_blank
    ]
    if amending is not None:
        # The form's first actions were taken back; any still there (answered meanwhile, so
        # not found by their moment) are not added a second time.
        there = {_what(a) for a in await queries.actions_of_talks(session, [talk.id])}
        added = [a for a in added if _what(a) not in there]
    session.add_all(added)
    goals = await _new_goals(session, draft, actor, employee, cycle, now)
    await session.flush()
    actions = await queries.actions_of_talks(session, [talk.id])
    review.development = "\n".join(a.text for a in actions)
    edited = editing is not None
    owed = [(REVIEW_SUMMARY, employee.id)] + [
        (REVIEW_SAVED, person) for person in dict.fromkeys([actor_id, manager.id])
    ]
    for kind, to in owed:
        await notices.owe(
            session,
            kind=kind,
            recipient_id=to,
            subject=review_subject(review.id),
            about_id=employee.id,
            payload={"review_id": review.id, "edited": edited},
            version=review_version(key),  # each saved version of the review is announced once
            now=now,
        )
    await session.commit()
    return RecordedReview(
        review,
        talk,
        cycle,
        actions,
        goals,
        employee,
        manager,
        fresh=amending is None,
        edited=editing is not None,
        amended=amending is not None,
    )


def _what(action: ActionItem) -> tuple[str, str, date]:
    return action.owner_id, action.text, action.due_on


async def _undo_last_submission(session: AsyncSession, review: Review, now: datetime) -> None:
    """Before a resubmission of the same form is applied: take back the development actions
    and goals its first submission added (stamped with that submission's moment, the
    review's `updated_at`), so they are not added twice."""
    added = review.updated_at
    for action in await queries.actions_added_with(session, review.talk_id, created_at=added):
        await cancel_pending(
            session,
            kinds=ACTION_KINDS,
            subject=action_subject(action.id),
            reason="review amended",
            now=now,
        )
        await session.delete(action)
    for goal in await queries.goals_set_in_review(session, review.employee_id, created_at=added):
        goal.status = GoalStatus.DROPPED.value
        await cancel_pending(
            session, kinds=[GOAL], subject=goal_subject(goal.id), reason="review amended", now=now
        )
    await session.flush()


async def _new_goals(
    session: AsyncSession,
    draft: ReviewDraft,
    actor: Person,
    employee: Person,
    cycle: Cycle,
    now: datetime,
) -> list[Goal]:
    """Active goals for the lines that are not already an open goal of the employee; due at
    the next cycle's end, else some days after the interview. The planner nudges them."""
    known = await queries.open_goal_titles(session, employee.id)
    titles = [title for title in draft.goal_titles() if title not in known]
    if not titles:
        return []
    assert draft.held_on is not None
    due = await goals_due(session, cycle, draft.held_on)
    goals = [
        Goal(
            employee_id=employee.id,
            set_by=actor.id,
            title=title,
            measure="",
            due_on=due,
            status=GoalStatus.ACTIVE,
            confirmed_at=now,
            created_at=now,
        )
        for title in titles
    ]
    session.add_all(goals)
    return goals


async def goals_due(session: AsyncSession, cycle: Cycle, held_on: date) -> date:
    """When the goals set in a review fall due: the next cycle's end, else some days after
    the interview."""
    following = await queries.end_of_cycle_after(session, cycle)
    return following or held_on + timedelta(days=DAYS_WITHOUT_NEXT_CYCLE)


async def loaded_review(session: AsyncSession, review: Review, *, fresh: bool) -> RecordedReview:
    """A stored review with everything its summary shows."""
    talk = await session.get(Talk, review.talk_id)
    cycle = await session.get(Cycle, review.cycle_id)
    assert talk is not None and cycle is not None
    people = await queries.people_by_ids(
        session, [review.employee_id, review.manager_id, talk.logged_by]
    )
    actions = await queries.actions_of_talks(session, [review.talk_id])
    employee, manager = people[review.employee_id], people[review.manager_id]
    recorder = people[talk.logged_by].name if talk.logged_by in people else ""
    return RecordedReview(
        review, talk, cycle, actions, [], employee, manager, fresh=fresh, recorder=recorder
    )
