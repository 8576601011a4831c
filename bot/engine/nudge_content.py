"""What a nudge says, gathered from the database at the moment it is sent, or the news that
it is no longer needed (the talk happened, the action was done)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import kinds
from bot.engine.dispatch import NoLongerNeeded
from bot.errors import NotAllowed
from bot.org.people import zone_of
from bot.org.policy import Policy
from bot.records.coverage_digest import CoverageDigest, coverage_digest
from bot.review.prep_pack import PrepPack, build_packs
from storage import queries
from storage.db import session_scope
from storage.models import (
    ActionItem,
    ActionStatus,
    Cycle,
    Goal,
    GoalStatus,
    Milestone,
    Nudge,
    Person,
)


@dataclass
class NudgeContent:
    """Everything a nudge message may show; which fields are set depends on the kind."""

    nudge: Nudge
    recipient: Person
    about: Person | None = None
    manager: Person | None = None
    payload: dict[str, object] = field(default_factory=dict)
    carry_over: list[ActionItem] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    last_dialogue: date | None = None
    goal: Goal | None = None
    action: ActionItem | None = None
    milestone: Milestone | None = None
    participants: list[Person] = field(default_factory=list)
    cycle: Cycle | None = None
    pack: PrepPack | None = None
    # the recipient's own date when the message is sent (an action is "due tomorrow" on it)
    today: date | None = None
    digest: CoverageDigest | None = None  # HR's weekly digest


async def nudge_content(
    engine: AsyncEngine, nudge: Nudge, *, policy: Policy, now: datetime
) -> NudgeContent:
    """Load what the nudge shows; raise NoLongerNeeded if its reason has gone."""
    payload = json.loads(nudge.payload or "{}")
    async with session_scope(engine) as session:
        recipient = await queries.get_person(session, nudge.recipient_id)
        about = await queries.get_person(session, nudge.about_id) if nudge.about_id else None
        if recipient is None or (nudge.about_id and (about is None or not about.active)):
            raise NoLongerNeeded("the person it is about left the org chart")
        manager = (
            await queries.get_person(session, about.manager_id)
            if about is not None and about.manager_id
            else None
        )
        content = NudgeContent(nudge, recipient, about, manager, payload)
        zone = zone_of(recipient, policy, await queries.reported_timezone(session, recipient.id))
        content.today = now.astimezone(zone).date()
        kind = nudge.kind
        if kind in (kinds.CHECKIN, kinds.HEADS_UP):
            assert about is not None
            last = await queries.last_dialogue(session, about.id)
            since = date.fromisoformat(str(payload["since"]))
            if last is not None and last >= since:
                raise NoLongerNeeded("a dialogue was logged in this period")
            content.last_dialogue = last
            content.carry_over = await queries.open_actions_about(session, about.id)
        elif kind == kinds.GOAL:
            content.goal = await session.get(Goal, int(payload["goal_id"]))
            if content.goal is None or content.goal.clarified_at is not None:
                raise NoLongerNeeded("the goal was clarified")
            if content.goal.status not in (GoalStatus.PROPOSED, GoalStatus.ACTIVE):
                raise NoLongerNeeded("the goal is no longer open")
        elif kind in (kinds.ACTION_DUE, kinds.ACTION_OVERDUE):
            content.action = await session.get(ActionItem, int(payload["action_id"]))
            if content.action is None or content.action.status != ActionStatus.OPEN:
                raise NoLongerNeeded("the action was done")
        elif kind == kinds.MILESTONE:
            content.milestone = await session.get(Milestone, int(payload["milestone_id"]))
            ids = [str(p) for p in payload.get("participants", [])]
            content.participants = list((await queries.people_by_ids(session, ids)).values())
        elif kind in (kinds.SELF_ASSESSMENT, kinds.SELF_REMINDER, kinds.PREP_PACK):
            content.cycle = await session.get(Cycle, int(payload["cycle_id"]))
            if content.cycle is None:
                raise NoLongerNeeded("the cycle was removed")
            if kind != kinds.PREP_PACK and await queries.self_assessment_submitted(
                session, content.cycle.id or 0, nudge.recipient_id
            ):
                raise NoLongerNeeded("the self-assessment was submitted")
            if about is not None and kind != kinds.PREP_PACK:
                content.carry_over = await queries.open_actions_about(session, about.id)
        owners = {a.owner_id for a in content.carry_over}
        if content.action is not None:
            owners.add(content.action.owner_id)
        people = await queries.people_by_ids(session, owners | {p.id for p in content.participants})
        content.names = {pid: p.name for pid, p in people.items()}
    if nudge.kind == kinds.PREP_PACK and about is not None:
        try:
            packs = await build_packs(
                engine,
                manager_id=nudge.recipient_id,
                employee_id=about.id,
                policy=policy,
                now=now,
            )
        except NotAllowed as changed:
            raise NoLongerNeeded("no longer this manager's report") from changed
        if not packs:
            raise NoLongerNeeded("no cycle under review")
        content.pack = packs[0]
    if nudge.kind == kinds.HR_DIGEST:
        try:
            content.digest = await coverage_digest(
                engine, reader_id=recipient.id, policy=policy, now=now
            )
        except NotAllowed as changed:
            raise NoLongerNeeded("no longer in HR") from changed
    return content


__all__ = ["NudgeContent", "nudge_content"]
