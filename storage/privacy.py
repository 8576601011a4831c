"""Queries for privacy: the access log, everything about one person ("my data"), and what
erasure removes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import is_postgres
from storage.models import (
    AccessLog,
    ActionItem,
    Cycle,
    Goal,
    Interview,
    Leave,
    Person,
    Review,
    SelfAssessment,
    Talk,
)


async def access_rows(
    session: AsyncSession, subject_id: str, *, since: datetime | None = None
) -> list[AccessLog]:
    """The access log's rows about one person, oldest first."""
    query = select(AccessLog).where(col(AccessLog.subject_id) == subject_id)
    if since is not None:
        query = query.where(col(AccessLog.at) >= since)
    return list((await session.exec(query.order_by(col(AccessLog.at), col(AccessLog.id)))).all())


@dataclass(frozen=True)
class Subject:
    """Every row about one person as the subject of records."""

    talks: list[Talk]
    actions: list[ActionItem]
    goals: list[Goal]
    self_assessments: list[SelfAssessment]
    reviews: list[Review]
    interviews: list[Interview]
    leaves: list[Leave]
    cycles: dict[int, Cycle]


async def subject_rows(session: AsyncSession, person_id: str) -> Subject:
    """Every record whose subject is this person, in date order (one query per table)."""

    async def rows(model: Any, column: Any, *order: Any) -> list[Any]:
        query = select(model).where(column == person_id).order_by(*order)
        return list((await session.exec(query)).all())

    talks = await rows(Talk, col(Talk.employee_id), col(Talk.held_on), col(Talk.id))
    actions = await rows(
        ActionItem, col(ActionItem.employee_id), col(ActionItem.due_on), col(ActionItem.id)
    )
    goals = await rows(Goal, col(Goal.employee_id), col(Goal.created_at), col(Goal.id))
    selves = await rows(SelfAssessment, col(SelfAssessment.employee_id), col(SelfAssessment.id))
    reviews = await rows(Review, col(Review.employee_id), col(Review.id))
    interviews = await rows(Interview, col(Interview.employee_id), col(Interview.id))
    leaves = await rows(Leave, col(Leave.person_id), col(Leave.starts_on))
    cycle_ids = {r.cycle_id for r in [*selves, *reviews, *interviews]}
    cycles = (
        {
            c.id or 0: c
            for c in (await session.exec(select(Cycle).where(col(Cycle.id).in_(cycle_ids)))).all()
        }
        if cycle_ids
        else {}
    )
    return Subject(talks, actions, goals, selves, reviews, interviews, leaves, cycles)


# -- erasure ------------------------------------------------------------------------------------

# The stand-in every link to an erased author points at: their records about others keep
# their text and lose the link. Not a person key (those start with "p"), never active.
FORMER_KEY = "former"
FORMER_NAME = "Former employee"

# What erasing person :p deletes, in an order the foreign keys accept. Each is a table and the
# rows about :p in it; `count` and `delete` read the same list.
_ERASED: tuple[tuple[str, str, str], ...] = (
    ("messages", "nudge", "recipient_id = :p OR about_id = :p OR subject LIKE :like"),
    ("access log rows about them", "access_log", "subject_id = :p"),
    ("reviews", "review", "employee_id = :p"),
    (
        "actions",
        "action_item",
        "employee_id = :p OR talk_id IN (SELECT id FROM talk WHERE employee_id = :p)",
    ),
    ("goals", "goal", "employee_id = :p"),
    ("talks", "talk", "employee_id = :p"),
    ("self-assessments", "self_assessment", "employee_id = :p"),
    ("review interviews planned", "interview", "employee_id = :p"),
    ("leave", "leave", "person_id = :p"),
    ("milestone places", "milestone_participant", "person_id = :p"),
    ("chat accounts", "chat_identity", "person_id = :p"),
)
# What they wrote about others: kept, signed by the former-employee stand-in.
_RELINKED: tuple[tuple[str, str, str], ...] = (
    ("talk", "manager_id", "talks they held with others"),
    ("talk", "logged_by", "talks they recorded for others"),
    ("action_item", "owner_id", "actions they owned in others' talks"),
    ("goal", "set_by", "goals they set for others"),
    ("interview", "set_by", "interview dates they set"),
    ("milestone", "created_by", "milestones they registered"),
    ("review", "manager_id", "reviews they held with others"),
)


@dataclass(frozen=True)
class ErasurePlan:
    """How many rows erasure deletes and relinks, by what they are."""

    deleted: dict[str, int]
    relinked: dict[str, int]
    reports: int  # people whose manager they are: left without one until the next import
    scrubbed_messages: int  # others' messages whose bookkeeping names them


def _params(person: Person) -> dict[str, str]:
    return {"p": person.id, "like": f"%{person.id}%"}


async def _count(session: AsyncSession, table: str, where: str, params: dict[str, str]) -> int:
    found = await session.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)
    return int(found.scalar_one())


def _named_in_message(person: Person) -> tuple[str, dict[str, str]]:
    """Others' outbox rows whose payload or first line names the person: the condition and
    its parameters."""
    named = "payload LIKE :like OR sent_text LIKE :name"
    params = _params(person) | {"name": f"%{person.name}%"}
    if person.email:
        named, params["email"] = f"{named} OR sent_text LIKE :email", f"%{person.email}%"
    where = f"({named}) AND NOT (recipient_id = :p OR about_id = :p OR subject LIKE :like)"
    return where, params


async def erasure_plan(session: AsyncSession, person: Person) -> ErasurePlan:
    """What erasing `person` would change, counted."""
    params = _params(person)
    deleted = {
        label: await _count(session, table, where, params) for label, table, where in _ERASED
    }
    deleted["profile"] = 1
    relinked = {
        label: await _count(session, table, f"{column} = :p", params)
        for table, column, label in _RELINKED
    }
    reports = await _count(session, "person", "manager_id = :p", params)
    scrubbed = await _count(session, "nudge", *_named_in_message(person))
    return ErasurePlan(deleted, relinked, reports, scrubbed)


async def erase(
    session: AsyncSession,
    person: Person,
    *,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> bool:
    """Delete every row about `person` and relink what they wrote about others to the
    former-employee stand-in (the caller commits: one transaction); False when the person
    was no longer there to delete (erased meanwhile: the caller rolls back). `progress`
    hears how many of the statements are done."""
    params = _params(person)
    steps, done = len(_ERASED) + len(_RELINKED) + 4, 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, steps)

    for table, column, _ in _RELINKED:
        if await _count(session, table, f"{column} = :p", params):
            await _former_employee(session, now)  # made once, when first someone needs it
            break
    named, named_params = _named_in_message(person)
    await session.execute(
        text(
            "UPDATE nudge SET payload = replace(payload, :p, :former), sent_text = NULL"
            f" WHERE {named}"
        ),
        named_params | {"former": FORMER_KEY},
    )
    step()
    for _, table, where in _ERASED:
        await session.execute(text(f"DELETE FROM {table} WHERE {where}"), params)
        step()
    for table, column, _ in _RELINKED:
        await session.execute(
            text(f"UPDATE {table} SET {column} = :former WHERE {column} = :p"),
            params | {"former": FORMER_KEY},
        )
        step()
    await session.execute(
        text("UPDATE access_log SET reader = :former WHERE reader = :p"),
        params | {"former": FORMER_NAME},
    )
    step()
    await session.execute(
        update(Person)
        .where(col(Person.manager_id) == person.id)
        .values(manager_id=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    step()
    gone = await session.execute(text("DELETE FROM person WHERE id = :p"), params)
    step()
    return bool(gone.rowcount)  # type: ignore[attr-defined]  # a DELETE gives a CursorResult


async def review_in_progress(session: AsyncSession, person_id: str, today: date) -> str | None:
    """The cycle whose review of this person is under way, if any: a review not yet answered,
    or a self-assessment or interview date in a cycle whose window has not closed."""
    unanswered = (
        select(Cycle.name)
        .join(Review, col(Review.cycle_id) == col(Cycle.id))
        .where(
            col(Review.employee_id) == person_id,
            col(Review.acknowledged_at).is_(None),
            col(Review.disagreed_at).is_(None),
        )
    )
    found = (await session.exec(unanswered)).first()
    if found is not None:
        return found
    for model in (SelfAssessment, Interview):
        open_window = (
            select(Cycle.name)
            .join(model, col(model.cycle_id) == col(Cycle.id))
            .where(col(model.employee_id) == person_id, col(Cycle.review_to) >= today)
            .where(
                ~select(Review.id)
                .where(col(Review.cycle_id) == col(Cycle.id), col(Review.employee_id) == person_id)
                .exists()
            )
        )
        found = (await session.exec(open_window)).first()
        if found is not None:
            return found
    return None


async def _former_employee(session: AsyncSession, now: datetime) -> None:
    """The former-employee row, made if missing (two erasures at once make it once)."""
    row = {
        "id": FORMER_KEY,
        "name": FORMER_NAME,
        "is_hr": False,
        "active": False,
        "created_at": now,
        "updated_at": now,
    }
    make = pg_insert(Person) if is_postgres(session) else sqlite_insert(Person)
    await session.execute(make.values(row).on_conflict_do_nothing(index_elements=["id"]))


async def logged_since(
    session: AsyncSession, *, reader: str, subjects: list[str], what: str, since: datetime
) -> set[str]:
    """Which of these subjects already have an access row of this reader and kind since."""
    if not subjects:
        return set()
    query = select(AccessLog.subject_id).where(
        col(AccessLog.reader) == reader,
        col(AccessLog.what) == what,
        col(AccessLog.at) >= since,
        col(AccessLog.subject_id).in_(subjects),
    )
    return {s for s in (await session.exec(query)).all() if s is not None}


async def add_reads(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Append access-log rows, in one statement however many."""
    if rows:
        await session.execute(insert(AccessLog), rows)
