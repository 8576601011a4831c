"""Whom a person may pick in a report picker, found by name as they type."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import NotAllowed
from storage import queries
from storage.db import session_scope
from storage.models import Person

MAX_FOUND = 100  # a select menu shows at most 100 options; typing narrows the rest
TYPED_LIMIT = 100  # characters of the typed text that are looked for


@dataclass(frozen=True)
class Found:
    """The people the actor may pick whose name matches, and the actor's own manager."""

    actor: Person
    manager: Person | None
    people: list[Person]


async def pickable_people(engine: AsyncEngine, *, actor_id: str, typed: str) -> Found:
    """Active people whose name contains `typed` (literally, ignoring case) that the actor
    may pick: their own reports; for HR, anyone active but themself."""
    typed = typed.strip()[:TYPED_LIMIT]
    async with session_scope(engine) as session:
        actor = await queries.get_person(session, actor_id)
        if actor is None or not actor.active:
            raise NotAllowed("refusal.not_in_org")
        people = await queries.people_matching(
            session,
            typed,
            manager_id=None if actor.is_hr else actor.id,
            limit=MAX_FOUND + 1,
        )
        manager = await queries.get_person(session, actor.manager_id) if actor.manager_id else None
    people = [p for p in people if p.id != actor.id][:MAX_FOUND]
    active_manager = manager if manager is not None and manager.active else None
    return Found(actor, active_manager, people)


async def anyone_named(engine: AsyncEngine, *, actor_id: str, typed: str) -> list[Person]:
    """Active people whose name contains `typed`, whoever they report to (a milestone's
    participants are anyone who took part); only for someone in the org chart."""
    typed = typed.strip()[:TYPED_LIMIT]
    async with session_scope(engine) as session:
        actor = await queries.get_person(session, actor_id)
        if actor is None or not actor.active:
            raise NotAllowed("refusal.not_in_org")
        return await queries.people_matching(session, typed, manager_id=None, limit=MAX_FOUND)
