"""Milestones: register who took part, mark one done; the planner then asks each
participant's manager for a retrospective (复盘对话)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import Invalid, NotAllowed, Problem
from bot.org.policy import Policy
from bot.records.goals import active_person, today_for
from bot.records.saving import save_once
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import Milestone, MilestoneParticipant, Person

NAME_LIMIT = 200
MAX_PARTICIPANTS = 50
# A slash command has no id of its own that survives a second press: the same milestone
# registered again within this time (by the same person, with the same people and date) is
# taken as the same command, pressed or delivered twice.
SAME_COMMAND_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class MilestoneInfo:
    """A milestone with its participants (in the order they were named)."""

    milestone: Milestone
    participants: list[Person]
    first: bool = True
    actor: Person | None = None


def milestone_key(
    actor_id: str, name: str, participant_ids: Sequence[str], due_on: date | None
) -> str:
    """The key of a registration: who registered it, the name (case and spacing aside), the
    people (in any order) and the date. The latest milestone registered so holds it."""
    what = [
        actor_id,
        " ".join(name.split()).casefold(),
        sorted(set(participant_ids)),
        due_on.isoformat() if due_on else None,
    ]
    return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode()).hexdigest()


def validate_milestone(
    *, name: str, participant_ids: Sequence[str], due_on: date | None, today: date
) -> dict[str, Problem]:
    """Every problem with a milestone as given, keyed by field."""
    problems: dict[str, Problem] = {}
    if is_blank(name):
        problems["name"] = Problem("milestone.error.no_name")
    elif len(name.strip()) > NAME_LIMIT:
        problems["name"] = Problem("milestone.error.name_too_long", {"limit": NAME_LIMIT})
    if not participant_ids:
        problems["participants"] = Problem("milestone.error.no_people")
    elif len(set(participant_ids)) > MAX_PARTICIPANTS:
        problems["participants"] = Problem("milestone.error.too_many", {"limit": MAX_PARTICIPANTS})
    if due_on is not None and due_on < today:
        problems["due_on"] = Problem("milestone.error.due_past")
    return problems


async def register_milestone(
    engine: AsyncEngine,
    *,
    actor_id: str,
    name: str,
    participant_ids: Sequence[str],
    due_on: date | None,
    now: datetime,
    policy: Policy | None = None,
) -> MilestoneInfo:
    """Save a milestone and its participants; the actor must be in the org chart and every
    participant an active person. The same registration again within minutes (a second
    press, or Slack delivering the command twice) is answered with the first one
    (`first` False): one unique key per registration, so two at once cannot both save."""
    wanted = list(dict.fromkeys(participant_ids))
    key = milestone_key(actor_id, name, wanted, due_on)

    async def unit(session: AsyncSession) -> MilestoneInfo:
        actor = await active_person(session, actor_id)
        if actor is None:
            raise NotAllowed("refusal.not_in_org")
        earlier = await queries.milestone_by_key(session, key)
        if earlier is not None and earlier.id is not None:
            if now - earlier.created_at < SAME_COMMAND_WINDOW:
                people = await queries.milestone_participants(session, earlier.id)
                return MilestoneInfo(earlier, people, first=False, actor=actor)
            # Registered long ago: meant as another milestone, which takes the key.
            earlier.submission_key = None
            session.add(earlier)
            await session.flush()
        problems = validate_milestone(
            name=name,
            participant_ids=wanted,
            due_on=due_on,
            today=today_for(actor, policy, now),
        )
        if problems:
            raise Invalid(problems)
        people_by_id = await queries.people_by_ids(session, wanted)
        if any(pid not in people_by_id or not people_by_id[pid].active for pid in wanted):
            raise Invalid({"participants": Problem("milestone.error.unknown_person")})
        milestone = Milestone(
            name=name.strip(),
            due_on=due_on,
            created_by=actor.id,
            submission_key=key,
            created_at=now,
        )
        session.add(milestone)
        await session.flush()
        assert milestone.id is not None
        session.add_all(
            MilestoneParticipant(milestone_id=milestone.id, person_id=pid) for pid in wanted
        )
        await session.commit()
        named = [people_by_id[pid] for pid in wanted]
        return MilestoneInfo(milestone, named, actor=actor)

    # The same command at the same moment won the race: the second pass answers
    # with its milestone.
    return await save_once(engine, unit)


def may_mark_done(actor: Person | None, milestone: Milestone, participants: list[Person]) -> bool:
    """The creator, HR, or the manager of a participant marks a milestone done."""
    if actor is None or not actor.active:
        return False
    if actor.id == milestone.created_by or actor.is_hr:
        return True
    return any(p.manager_id == actor.id for p in participants)


async def mark_done(
    engine: AsyncEngine, *, milestone_id: int, actor_id: str, now: datetime
) -> MilestoneInfo:
    """Record that a milestone ended (once; repeating it changes nothing)."""
    async with session_scope(engine) as session:
        milestone = await session.get(Milestone, milestone_id)
        if milestone is None:
            raise NotAllowed("milestone.refusal.unknown")
        participants = await queries.milestone_participants(session, milestone_id)
        actor = await queries.get_person(session, actor_id)
        if not may_mark_done(actor, milestone, participants):
            raise NotAllowed("milestone.refusal.not_allowed", name=milestone.name)
        # One conditional update, so that of two clicks at once only one is the first.
        first = await queries.mark_milestone_done(session, milestone_id, now=now)
        await session.commit()
        await session.refresh(milestone)
        return MilestoneInfo(milestone, participants, first, actor)
