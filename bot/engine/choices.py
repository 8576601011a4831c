"""What people answer to a nudge: snooze it, skip it (with a reason), or mark its action done.
Choices are stored on the outbox row and respected by the planner and the dispatcher."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import outbox
from bot.engine.kinds import (
    ACTION_KINDS,
    CHECKIN_KINDS,
    action_subject,
    base_period,
    snoozed_period,
)
from bot.errors import NotAllowed
from bot.org.people import may_log_talk
from bot.org.policy import Policy
from bot.org.profiles import reported_zone
from bot.org.worktime import calendar_for
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, Leave, LeavePauses, Nudge, NudgeState

SkipReason = Literal["talked_offline", "on_leave", "not_relevant"]
SKIP_REASONS: tuple[SkipReason, ...] = ("talked_offline", "on_leave", "not_relevant")
LEAVE_DAYS = 14


@dataclass(frozen=True)
class Snoozed:
    """A snoozed nudge and when it comes back."""

    nudge: Nudge
    until: datetime  # in the person's own time zone


async def _own_nudge(session: AsyncSession, nudge_id: int, actor_id: str) -> Nudge:
    nudge = await session.get(Nudge, nudge_id)
    if nudge is None or nudge.recipient_id != actor_id:
        raise NotAllowed("refusal.not_your_nudge")
    return nudge


async def snooze(
    engine: AsyncEngine,
    *,
    nudge_id: int,
    actor_id: str,
    until: Literal["tomorrow", "week"],
    policy: Policy,
    now: datetime,
) -> Snoozed:
    """Bring the nudge back tomorrow or next week, at the same local hour, on a working day.
    Snoozing the same nudge again (a double click) brings it back once."""
    async with session_scope(engine) as session:
        nudge = await _own_nudge(session, nudge_id, actor_id)
        person = await queries.get_person(session, actor_id)
        identity = await queries.reporting_identity(session, actor_id) if person else None
        calendar = calendar_for(
            policy,
            timezone=reported_zone(person, identity) if person else None,
            country=person.country if person else None,
        )
        earlier = await _snoozed_before(session, nudge, now)
        if earlier is not None:
            await session.commit()
            return Snoozed(nudge, earlier.due_at.astimezone(calendar.zone))
        today = now.astimezone(calendar.zone).date()
        day = today + timedelta(days=1) if until == "tomorrow" else _next_monday(today)
        due = calendar.next_working_moment(
            datetime.combine(day, time(0), tzinfo=calendar.zone),
            at=time(policy.cadence.checkin.hour),
        )
        count = await outbox.snoozes_of(session, nudge)
        spec = outbox.NudgeSpec(
            nudge.kind,
            actor_id,
            nudge.subject,
            snoozed_period(base_period(nudge.period), count + 1),
            due,
            nudge.about_id,
            nudge.role,
            _payload(nudge),
        )
        await outbox.enqueue(session, [spec], now)
        nudge.skip_reason, nudge.updated_at = "snoozed", now
        await session.commit()
    return Snoozed(nudge, due.astimezone(calendar.zone))


async def _snoozed_before(session: AsyncSession, nudge: Nudge, now: datetime) -> Nudge | None:
    """Mark the nudge snoozed, if no click did before (one conditional update, so that of
    two clicks at once only one snoozes); else the nudge that click brings back."""
    if await outbox.mark_snoozed(session, nudge.id, now=now):
        return None
    # None: marked snoozed some other way, snooze it now
    return await outbox.snoozed_return(session, nudge)


def _payload(nudge: Nudge) -> dict[str, object]:
    return dict(json.loads(nudge.payload or "{}"))


def _next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


async def skip(
    engine: AsyncEngine, *, nudge_id: int, actor_id: str, reason: SkipReason, now: datetime
) -> Nudge:
    """Skip this nudge and the actor's own pending follow-ups of it; "on leave" also records
    leave (see `_leave_from`)."""
    async with session_scope(engine) as session:
        nudge = await _own_nudge(session, nudge_id, actor_id)
        nudge.skip_reason, nudge.updated_at = reason, now
        if nudge.state in (NudgeState.SENT, NudgeState.PENDING):
            nudge.state = NudgeState.SKIPPED
        kinds = CHECKIN_KINDS if nudge.kind in CHECKIN_KINDS else (nudge.kind,)
        # A choice changes only what the actor is sent: an employee's skip of their heads-up
        # never touches their manager's (snoozed) check-in about them.
        follow_ups = await outbox.pending_follow_ups(
            session, nudge, kinds=kinds, recipient_id=actor_id
        )
        for row in follow_ups:
            row.state, row.skip_reason, row.updated_at = NudgeState.SKIPPED, reason, now
        if reason == "on_leave":
            session.add(await _leave_from(session, nudge, actor_id, now))
        await session.commit()
        return nudge


async def _leave_from(session: AsyncSession, nudge: Nudge, actor_id: str, now: datetime) -> Leave:
    """The leave an "on leave" choice records, from today for LEAVE_DAYS days.

    A manager (or HR) answering a nudge sent to them as someone's manager (a check-in, a
    prep pack, a goal's or an overdue action's reminder) says that report is away: that
    pauses every nudge to and about the report, as HR's `leave` does. Anyone else, and a
    manager on a reminder of their own action, says they themself are away, which pauses only
    the nudges sent to them: an employee's choice never silences what their manager is told
    about them."""
    today = now.date()
    about = nudge.about_id
    pauses, away = LeavePauses.OWN_MESSAGES, actor_id
    if about and about != actor_id and nudge.role == "manager":
        actor = await queries.get_person(session, actor_id)
        report = await queries.get_person(session, about)
        if report is not None and may_log_talk(actor, report):
            pauses, away = LeavePauses.ALL, about
    return Leave(
        person_id=away,
        starts_on=today,
        ends_on=today + timedelta(days=LEAVE_DAYS - 1),
        reason="skip: on leave",
        pauses=pauses,
        created_at=now,
    )


@dataclass(frozen=True)
class Completed:
    """An action marked done, and the nudge it was done from (the message to update)."""

    action: ActionItem
    nudge: Nudge | None


async def complete_action(
    engine: AsyncEngine,
    *,
    action_id: int,
    actor_id: str,
    now: datetime,
    nudge_id: int | None = None,
) -> Completed:
    """Mark an action done (its owner, the employee, their manager or HR); cancel its
    reminders. From a nudge (`nudge_id`), it must be the actor's own nudge about that
    action: anything else is refused and nothing changes."""
    # Unlike snooze and skip, this changes the action itself, not one person's messages: the
    # reminders of a done action are moot for both parties, so both are cancelled.
    async with session_scope(engine) as session:
        nudge = None
        if nudge_id is not None:
            nudge = await _own_nudge(session, nudge_id, actor_id)
            if nudge.subject != action_subject(action_id):
                raise NotAllowed("refusal.not_your_nudge")
        action = await session.get(ActionItem, action_id)
        if action is None:
            raise NotAllowed("refusal.unknown_talk")
        actor = await queries.get_person(session, actor_id)
        employee = await queries.get_person(session, action.employee_id)
        allowed = actor_id in (action.owner_id, action.employee_id) or (
            employee is not None and may_log_talk(actor, employee)
        )
        if not allowed:
            raise NotAllowed("refusal.not_your_action")
        if action.status == ActionStatus.OPEN:
            action.status, action.completed_at = ActionStatus.DONE, now
            await outbox.cancel_pending(
                session,
                kinds=ACTION_KINDS,
                subject=action_subject(action_id),
                reason="action done",
                now=now,
            )
            await session.commit()
        return Completed(action, nudge)
