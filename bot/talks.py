"""Recording a talk: validate the manager's draft, check access, save facts, consensus, actions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import notices, outbox
from bot.cadence import ACTION_DUE, ACTION_OVERDUE, CHECKIN, GOAL, HEADS_UP
from bot.errors import Invalid, NotAllowed, Problem, SaveFailed
from bot.goals import mark_clarified
from bot.org import local_today, may_log_talk, may_read_talks
from bot.policy import Policy
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, Family, Person, Talk, TalkShare

MAX_ACTIONS = 5
TEXT_LIMIT = 3000  # Slack's plain_text_input maximum
ACTION_TEXT_LIMIT = 500
MIN_MINUTES, MAX_MINUTES = 1, 480

Owner = Literal["manager", "employee"]


@dataclass(frozen=True)
class ActionDraft:
    """One action row of the record form, as typed."""

    text: str = ""
    owner: Owner | None = None
    due_on: date | None = None

    @property
    def is_blank(self) -> bool:
        return is_blank(self.text) and self.owner is None and self.due_on is None


@dataclass(frozen=True)
class TalkDraft:
    """The record form, as typed: nothing here is trusted yet."""

    employee_id: str
    kind: str
    held_on: date | None
    minutes: str | None
    facts: str
    consensus: str
    actions: tuple[ActionDraft, ...] = ()
    completed_action_ids: tuple[int, ...] = ()
    talk_share: TalkShare | None = None
    private_note: str = ""


@dataclass(frozen=True)
class RecordContext:
    """What the record form needs to know about the pair."""

    employee: Person
    manager: Person
    open_actions: list[ActionItem]
    today: date


@dataclass(frozen=True)
class Recorded:
    """A saved talk; `created` is False when this submission had been saved before."""

    talk: Talk
    actions: list[ActionItem]
    completed: list[ActionItem]
    employee: Person
    manager: Person
    created: bool


def submission_key(view_id: str, values: object) -> str:
    """A stable key for one modal submission: the view's id and what was typed."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{view_id}\n{canonical}".encode()).hexdigest()


def validate_draft(draft: TalkDraft, *, policy: Policy, today: date) -> dict[str, Problem]:
    """Every problem in the draft, keyed by field name (`facts`, `action_2_due`, …)."""
    problems: dict[str, Problem] = {}
    kind = policy.talk_kinds.get(draft.kind)
    if kind is None or kind.family is not Family.DIALOGUE:
        problems["kind"] = Problem("error.kind_unknown")
    if draft.held_on is None:
        problems["held_on"] = Problem("error.held_on_required")
    elif draft.held_on > today:
        problems["held_on"] = Problem("error.held_on_future")
    minutes = (draft.minutes or "").strip()
    if minutes and (not minutes.isdigit() or not MIN_MINUTES <= int(minutes) <= MAX_MINUTES):
        problems["minutes"] = Problem("error.minutes_range", {"max": MAX_MINUTES})
    for name in ("facts", "consensus"):
        text = getattr(draft, name).strip()
        if is_blank(text):
            problems[name] = Problem(f"error.{name}_required")
        elif len(text) > TEXT_LIMIT:
            problems[name] = Problem("error.too_long", {"limit": TEXT_LIMIT})
    if len(draft.private_note) > TEXT_LIMIT:
        problems["private_note"] = Problem("error.too_long", {"limit": TEXT_LIMIT})
    for index, action in enumerate(draft.actions[:MAX_ACTIONS], start=1):
        problems.update(_action_problems(index, action, today))
    return problems


def _action_problems(index: int, action: ActionDraft, today: date) -> dict[str, Problem]:
    if action.is_blank:
        return {}
    problems: dict[str, Problem] = {}
    text = action.text.strip()
    if is_blank(text):
        problems[f"action_{index}_text"] = Problem("error.action_text_required")
    elif len(text) > ACTION_TEXT_LIMIT:
        problems[f"action_{index}_text"] = Problem("error.too_long", {"limit": ACTION_TEXT_LIMIT})
    if action.owner is None:
        problems[f"action_{index}_owner"] = Problem("error.action_owner_required")
    if action.due_on is None:
        problems[f"action_{index}_due"] = Problem("error.action_due_required")
    elif action.due_on < today:
        problems[f"action_{index}_due"] = Problem("error.action_due_past")
    return problems


@dataclass(frozen=True)
class Pair:
    """Who acts, about whom, and the employee's manager (the actor when there is none)."""

    actor: Person
    employee: Person
    manager: Person


async def load_pair(
    session: AsyncSession,
    actor_id: str,
    employee_id: str,
    *,
    myself: str = "refusal.myself",
    not_yours: str = "refusal.not_your_report",
) -> Pair:
    """The pair, if the actor may log talks about the employee; else NotAllowed (with the
    caller's own wording for "about yourself" and "not your report")."""
    actor = await queries.get_person(session, actor_id)
    employee = await queries.get_person(session, employee_id)
    if actor is None or not actor.active:
        raise NotAllowed("refusal.not_in_org")
    if employee is None or not employee.active:
        raise NotAllowed("refusal.unknown_employee")
    if actor.slack_id == employee.slack_id:
        raise NotAllowed(myself)
    if not may_log_talk(actor, employee):
        raise NotAllowed(not_yours, name=employee.name)
    manager = employee.manager_id and await queries.get_person(session, employee.manager_id)
    return Pair(actor, employee, manager or actor)


async def find_employee(
    engine: AsyncEngine, *, user_id: str | None = None, handle: str | None = None
) -> str:
    """The Slack id of the person a command names, by id or by a plain `@name`."""
    async with session_scope(engine) as session:
        if user_id is not None:
            person = await queries.get_person(session, user_id)
            if person is None or not person.active:
                raise NotAllowed("refusal.unknown_employee")
            return person.slack_id
        matches = await queries.people_named(session, handle or "")
    if not matches:
        raise NotAllowed("refusal.unknown_employee")
    if len(matches) > 1:
        raise NotAllowed("refusal.ambiguous", handle=handle)
    return matches[0].slack_id


async def report_choices(engine: AsyncEngine, *, actor_id: str) -> tuple[list[Person], bool]:
    """Whom the actor can pick: their reports, and whether (as HR) they may pick anyone."""
    async with session_scope(engine) as session:
        actor = await queries.get_person(session, actor_id)
        if actor is None or not actor.active:
            raise NotAllowed("refusal.not_in_org")
        reports = await queries.reports_of(session, actor_id, limit=100)
    if not reports and not actor.is_hr:
        raise NotAllowed("refusal.no_reports")
    return reports, actor.is_hr and not reports


async def record_context(
    engine: AsyncEngine, *, actor_id: str, employee_id: str, policy: Policy, now: datetime
) -> RecordContext:
    """Check the actor may log a talk about the employee and gather what the form shows."""
    async with session_scope(engine) as session:
        pair = await load_pair(session, actor_id, employee_id)
        open_actions = await queries.open_actions_about(session, employee_id)
    return RecordContext(
        employee=pair.employee,
        manager=pair.manager,
        open_actions=open_actions,
        today=local_today(pair.actor, policy, now),
    )


async def record_talk(
    engine: AsyncEngine,
    *,
    actor_id: str,
    draft: TalkDraft,
    policy: Policy,
    now: datetime,
    key: str,
) -> Recorded:
    """Check access, validate, and save the draft as one talk with its actions, once per key."""
    try:
        async with session_scope(engine) as session:
            pair = await load_pair(session, actor_id, draft.employee_id)
            employee, manager = pair.employee, pair.manager
            earlier = await queries.talk_by_submission(session, key)
            if earlier is not None:
                return await _recorded(session, earlier, employee, manager, created=False)
            today = local_today(pair.actor, policy, now)
            problems = validate_draft(draft, policy=policy, today=today)
            if problems:
                raise Invalid(problems)
            talk = _new_talk(draft, policy, manager_id=manager.slack_id, actor_id=actor_id)
            talk.submission_key, talk.created_at = key, now
            session.add(talk)
            await session.flush()
            assert talk.id is not None
            owners = {"manager": manager.slack_id, "employee": employee.slack_id}
            actions = [
                ActionItem(
                    talk_id=talk.id,
                    employee_id=employee.slack_id,
                    owner_id=owners[a.owner or "employee"],
                    text=a.text.strip(),
                    due_on=a.due_on or now.date(),
                    status=ActionStatus.OPEN,
                    created_at=now,
                )
                for a in draft.actions[:MAX_ACTIONS]
                if not a.is_blank
            ]
            session.add_all(actions)
            completed = [
                a
                for a in await queries.open_actions_about(session, employee.slack_id)
                if a.id in draft.completed_action_ids
            ]
            for item in completed:
                item.status, item.completed_at, item.completed_in_talk_id = (
                    ActionStatus.DONE,
                    now,
                    talk.id,
                )
                await outbox.cancel_pending(
                    session,
                    kinds=[ACTION_DUE, ACTION_OVERDUE],
                    subject=f"action:{item.id}",
                    reason="action done",
                    now=now,
                )
            if talk.kind == GOAL:
                await mark_clarified(
                    session,
                    employee_id=employee.slack_id,
                    talk_id=talk.id,
                    talk_created_at=talk.created_at,
                    now=now,
                )
            if talk.family == Family.DIALOGUE:
                await outbox.cancel_pending(
                    session,
                    kinds=[CHECKIN, HEADS_UP],
                    subject=employee.slack_id,
                    reason="dialogue logged",
                    now=now,
                )
            for kind, to in ((notices.TALK_RECORD, employee), (notices.TALK_SAVED, manager)):
                await notices.owe(
                    session,
                    kind=kind,
                    recipient_id=to.slack_id,
                    subject=f"talk:{talk.id}",
                    about_id=employee.slack_id,
                    payload={"talk_id": talk.id},
                    now=now,
                )
            await session.commit()
            return Recorded(talk, actions, completed, employee, manager, created=True)
    except IntegrityError:
        # A concurrent double submit won the race on the unique key: answer as it did.
        async with session_scope(engine) as session:
            earlier = await queries.talk_by_submission(session, key)
            if earlier is None:
                raise SaveFailed("integrity error without an earlier record") from None
            pair = await load_pair(session, actor_id, draft.employee_id)
            return await _recorded(session, earlier, pair.employee, pair.manager, created=False)
    except SQLAlchemyError as exc:
        raise SaveFailed(str(exc)) from exc


def _new_talk(draft: TalkDraft, policy: Policy, *, manager_id: str, actor_id: str) -> Talk:
    kind = policy.kind(draft.kind)
    minutes = (draft.minutes or "").strip()
    return Talk(
        kind=draft.kind,
        family=kind.family.value,
        manager_id=manager_id,
        employee_id=draft.employee_id,
        logged_by=actor_id,
        held_on=draft.held_on,
        duration_minutes=int(minutes) if minutes else kind.default_minutes,
        facts=draft.facts.strip(),
        consensus=draft.consensus.strip(),
        employee_talk_share=draft.talk_share.value if draft.talk_share else None,
        private_note=draft.private_note.strip() or None,
    )


async def _recorded(
    session: AsyncSession, talk: Talk, employee: Person, manager: Person, *, created: bool
) -> Recorded:
    assert talk.id is not None
    actions = await queries.actions_of_talks(session, [talk.id])
    return Recorded(talk, actions, [], employee, manager, created=created)


@dataclass(frozen=True)
class Acknowledged:
    """An acknowledged record; `first` is False when it had been acknowledged before."""

    talk: Talk
    employee: Person
    first: bool


async def acknowledge(
    engine: AsyncEngine, *, talk_id: int, actor_id: str, now: datetime
) -> Acknowledged:
    """The employee confirms they have read a record; repeating it changes nothing."""
    async with session_scope(engine) as session:
        talk = await session.get(Talk, talk_id)
        if talk is None:
            raise NotAllowed("refusal.unknown_talk")
        employee = await queries.get_person(session, talk.employee_id)
        if talk.employee_id != actor_id or employee is None:
            raise NotAllowed("refusal.not_your_record")
        first = talk.acknowledged_at is None
        if first:
            talk.acknowledged_at = now
            await notices.owe(
                session,
                kind=notices.TALK_ACKNOWLEDGED,
                recipient_id=talk.manager_id,
                subject=f"talk:{talk.id}",
                about_id=talk.employee_id,
                payload={"talk_id": talk.id},
                now=now,
            )
            await session.commit()
        return Acknowledged(talk, employee, first)


async def readable_talks(
    engine: AsyncEngine, *, actor_id: str, employee_id: str, limit: int = 20
) -> list[Talk]:
    """Talks about an employee that the actor may read; the private note only for managers."""
    async with session_scope(engine) as session:
        actor = await queries.get_person(session, actor_id)
        employee = await queries.get_person(session, employee_id)
        if employee is None or not may_read_talks(actor, employee):
            raise NotAllowed("refusal.not_your_report", name=employee.name if employee else "?")
        talks = await queries.talks_about(session, employee_id, limit=limit)
    if actor_id == employee_id:
        for talk in talks:
            talk.private_note = None
    return talks
