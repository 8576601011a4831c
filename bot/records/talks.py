"""Recording a talk: validate the manager's draft, check access, save facts, consensus, actions."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import notices, outbox
from bot.engine.kinds import (
    ACTION_KINDS,
    CHECKIN_KINDS,
    TALK_ACKNOWLEDGED,
    TALK_RECORD,
    TALK_SAVED,
    action_subject,
    checkin_subject,
    talk_subject,
)
from bot.errors import Invalid, NotAllowed, Problem
from bot.org.people import local_today, may_log_talk
from bot.org.policy import Policy
from bot.records.goals import CLARIFICATION_TALK, mark_clarified
from bot.records.meeting import TEXT_LIMIT, ActionDraft, action_problems, held_problems
from bot.records.saving import save_once
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, Family, Nudge, Person, Talk, TalkShare

MAX_ACTIONS = 5


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
    """A saved talk; `created` is False when this form had been saved before, and `amended`
    True when this submission of it differed and was applied to that talk."""

    talk: Talk
    actions: list[ActionItem]
    completed: list[ActionItem]
    employee: Person
    manager: Person
    created: bool
    amended: bool = False


def submission_key(form: str, user_id: str, view_id: str) -> str:
    """The key of what one modal creates: which form, whose, and the view's id. Slack keeps
    a view's id while it is redrawn (`views.update`) and resubmitted, so a retry, a double
    click and a press of Save after "not saved yet" all name the same record."""
    # surrogatepass: a payload may carry a lone surrogate, which plain UTF-8 cannot encode
    return hashlib.sha256(
        f"{form}\n{user_id}\n{view_id}".encode("utf-8", "surrogatepass")
    ).hexdigest()


def form_digest(values: object) -> str:
    """A digest of what was typed in a form, to tell a resubmission that differs."""
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def validate_draft(draft: TalkDraft, *, policy: Policy, today: date) -> dict[str, Problem]:
    """Every problem in the draft, keyed by field name (`facts`, `action_2_due`, …)."""
    problems: dict[str, Problem] = {}
    kind = policy.talk_kinds.get(draft.kind)
    if kind is None or kind.family is not Family.DIALOGUE:
        problems["kind"] = Problem("error.kind_unknown")
    problems.update(held_problems(draft.held_on, draft.minutes, today=today))
    for name in ("facts", "consensus"):
        text = getattr(draft, name).strip()
        if is_blank(text):
            problems[name] = Problem(f"error.{name}_required")
        elif len(text) > TEXT_LIMIT:
            problems[name] = Problem("error.too_long", {"limit": TEXT_LIMIT})
    if len(draft.private_note) > TEXT_LIMIT:
        problems["private_note"] = Problem("error.too_long", {"limit": TEXT_LIMIT})
    problems.update(action_problems(draft.actions[:MAX_ACTIONS], today=today))
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
    if actor.id == employee.id:
        raise NotAllowed(myself)
    if not may_log_talk(actor, employee):
        raise NotAllowed(not_yours, name=employee.name)
    manager = employee.manager_id and await queries.get_person(session, employee.manager_id)
    return Pair(actor, employee, manager or actor)


async def find_employee(
    engine: AsyncEngine, *, person_id: str | None = None, handle: str | None = None
) -> str:
    """The key of the person a command names, by key ("" for an account nobody in the org
    chart has) or by a plain `@name`."""
    async with session_scope(engine) as session:
        if person_id is not None:
            person = await queries.get_person(session, person_id)
            if person is None or not person.active:
                raise NotAllowed("refusal.unknown_employee")
            return person.id
        matches = await queries.people_named(session, handle or "")
    if not matches:
        raise NotAllowed("refusal.unknown_employee")
    if len(matches) > 1:
        raise NotAllowed("refusal.ambiguous", handle=handle)
    return matches[0].id


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
    digest: str | None = None,
) -> Recorded:
    """Check access, validate, and save the draft as one talk with its actions, once per key
    (one form); a resubmission whose `digest` differs is applied to the talk it saved."""
    # A concurrent submission of the same form that won the race on the unique key is found
    # on the second pass, which answers as it did (or applies what differs).
    return await save_once(
        engine, lambda session: _record(session, actor_id, draft, policy, now, key, digest)
    )


async def _record(
    session: AsyncSession,
    actor_id: str,
    draft: TalkDraft,
    policy: Policy,
    now: datetime,
    key: str,
    digest: str | None,
) -> Recorded:
    pair = await load_pair(session, actor_id, draft.employee_id)
    employee, manager = pair.employee, pair.manager
    earlier = await queries.talk_by_submission(session, key)
    if earlier is not None:
        if earlier.employee_id != employee.id or earlier.logged_by != actor_id:
            raise NotAllowed("refusal.unknown_talk")
        if digest is None or earlier.form_digest == digest:
            return await _recorded(session, earlier, employee, manager, created=False)
    today = local_today(pair.actor, policy, now)
    problems = validate_draft(draft, policy=policy, today=today)
    if problems:
        raise Invalid(problems)
    if earlier is not None:
        await _amend(session, earlier, draft, policy, pair, now, digest)
        await session.commit()
        recorded = await _recorded(session, earlier, employee, manager, created=False)
        return replace(recorded, amended=True)
    talk = _new_talk(
        draft, policy, manager_id=manager.id, actor_id=actor_id, key=key, created_at=now
    )
    talk.form_digest = digest
    session.add(talk)
    await session.flush()
    assert talk.id is not None
    actions = _actions(draft, talk.id, pair, now)
    session.add_all(actions)
    completed = await _complete(session, draft, talk.id, employee.id, now)
    if talk.kind == CLARIFICATION_TALK:
        await mark_clarified(
            session,
            employee_id=employee.id,
            talk_id=talk.id,
            talk_created_at=talk.created_at,
            now=now,
        )
    if talk.family == Family.DIALOGUE:
        await outbox.cancel_pending(
            session,
            kinds=CHECKIN_KINDS,
            subject=checkin_subject(employee.id),
            reason="dialogue logged",
            now=now,
        )
    for kind, to in ((TALK_RECORD, employee), (TALK_SAVED, manager)):
        await notices.owe(
            session,
            kind=kind,
            recipient_id=to.id,
            subject=talk_subject(talk.id),
            about_id=employee.id,
            payload={"talk_id": talk.id},
            now=now,
        )
    await session.commit()
    return Recorded(talk, actions, completed, employee, manager, created=True)


def _actions(draft: TalkDraft, talk_id: int, pair: Pair, now: datetime) -> list[ActionItem]:
    owners = {"manager": pair.manager.id, "employee": pair.employee.id}
    return [
        ActionItem(
            talk_id=talk_id,
            employee_id=pair.employee.id,
            owner_id=owners[a.owner or "employee"],
            text=a.text.strip(),
            due_on=a.due_on or now.date(),
            status=ActionStatus.OPEN,
            created_at=now,
        )
        for a in draft.actions[:MAX_ACTIONS]
        if not a.is_blank
    ]


async def _complete(
    session: AsyncSession, draft: TalkDraft, talk_id: int, employee_id: str, now: datetime
) -> list[ActionItem]:
    """Mark the earlier open actions ticked in the form done in this talk; end their
    reminders."""
    completed = [
        a
        for a in await queries.open_actions_about(session, employee_id)
        if a.id in draft.completed_action_ids and a.talk_id != talk_id
    ]
    for item in completed:
        item.status, item.completed_at, item.completed_in_talk_id = ActionStatus.DONE, now, talk_id
        await outbox.cancel_pending(
            session,
            kinds=ACTION_KINDS,
            subject=action_subject(item.id),
            reason="action done",
            now=now,
        )
    return completed


def _what(action: ActionItem) -> tuple[str, str, date]:
    return action.owner_id, action.text, action.due_on


async def _amend(
    session: AsyncSession,
    talk: Talk,
    draft: TalkDraft,
    policy: Policy,
    pair: Pair,
    now: datetime,
    digest: str | None,
) -> None:
    """Apply a resubmission of the form to the talk it saved: nothing typed is lost, and
    there is still one talk. Its notices were owed once; if they went out already, the
    listener redraws them."""
    assert talk.id is not None
    typed = _new_talk(
        draft,
        policy,
        manager_id=talk.manager_id,
        actor_id=talk.logged_by,
        key=talk.submission_key,
        created_at=talk.created_at,
    )
    for name in (
        "kind",
        "family",
        "held_on",
        "duration_minutes",
        "facts",
        "consensus",
        "employee_talk_share",
        "private_note",
    ):
        setattr(talk, name, getattr(typed, name))
    talk.form_digest = digest
    session.add(talk)
    old = await queries.actions_of_talks(session, [talk.id])
    new = _actions(draft, talk.id, pair, now)
    if [_what(a) for a in old] != [_what(a) for a in new]:
        for item in old:
            await outbox.cancel_pending(
                session,
                kinds=ACTION_KINDS,
                subject=action_subject(item.id),
                reason="talk amended",
                now=now,
            )
            await session.delete(item)
        session.add_all(new)
    for item in await queries.actions_completed_in(session, talk.id):
        if item.id not in draft.completed_action_ids:  # unticked on the second try
            item.status, item.completed_at = ActionStatus.OPEN, None
            item.completed_in_talk_id = None
    await session.flush()
    await _complete(session, draft, talk.id, pair.employee.id, now)
    if talk.kind == CLARIFICATION_TALK:
        await mark_clarified(
            session,
            employee_id=pair.employee.id,
            talk_id=talk.id,
            talk_created_at=talk.created_at,
            now=now,
        )


def _new_talk(
    draft: TalkDraft,
    policy: Policy,
    *,
    manager_id: str,
    actor_id: str,
    key: str,
    created_at: datetime,
) -> Talk:
    """A talk as the validated draft types it (an amendment copies its typed fields)."""
    assert draft.held_on is not None, "validate_draft refuses a talk without its day"
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
        submission_key=key,
        created_at=created_at,
    )


async def _recorded(
    session: AsyncSession, talk: Talk, employee: Person, manager: Person, *, created: bool
) -> Recorded:
    assert talk.id is not None
    actions = await queries.actions_of_talks(session, [talk.id])
    return Recorded(talk, actions, [], employee, manager, created=created)


@dataclass(frozen=True)
class Acknowledged:
    """An acknowledged record; `first` is False when it had been acknowledged before.
    `posted` are the record DMs the employee was sent (where to show it)."""

    talk: Talk
    employee: Person
    first: bool
    posted: list[Nudge]


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
        # One conditional update, so that of two clicks at once only one is the first.
        first = await queries.first_acknowledgement(session, talk_id, now=now)
        if first:
            await notices.owe(
                session,
                kind=TALK_ACKNOWLEDGED,
                recipient_id=talk.manager_id,
                subject=talk_subject(talk.id),
                about_id=talk.employee_id,
                payload={"talk_id": talk.id},
                now=now,
            )
        await session.commit()
        await session.refresh(talk)
        posted = await notices.posted(
            session, kinds=(TALK_RECORD,), subject=talk_subject(talk.id), recipient_id=actor_id
        )
        return Acknowledged(talk, employee, first, posted)
