"""Queries for retention: what is past its time, counted, and deleted a batch at a time (each
batch its own short transaction, so no lock is held long and a stop loses nothing).

Every delete counts the rows it removed, not the rows it meant to: two replicas running the
daily job at once delete each row once, and together count it once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped
from sqlalchemy.sql import ColumnElement
from sqlmodel import SQLModel, col

from storage.models import (
    AccessLog,
    ActionItem,
    Cycle,
    Family,
    Goal,
    Interview,
    Nudge,
    NudgeState,
    Person,
    Review,
    SelfAssessment,
    Talk,
)
from storage.privacy import FORMER_KEY

# A message in one of these states is done with: never pending, never being sent.
FINAL_STATES = (NudgeState.SENT, NudgeState.FAILED, NudgeState.CANCELLED, NudgeState.SKIPPED)


def old_dialogues(before: date) -> ColumnElement[bool]:
    """Dialogue talks held before `before`."""
    return and_(col(Talk.family) == Family.DIALOGUE, col(Talk.held_on) < before)


def old_notes(before: date) -> ColumnElement[bool]:
    """Talks held before `before` that still carry a private note."""
    return and_(col(Talk.private_note).is_not(None), col(Talk.held_on) < before)


def delivered_before(moment: datetime) -> ColumnElement[bool]:
    """Outbox rows done with (sent, failed, cancelled, skipped) and last touched before
    `moment`; a pending or sending row is never among them, however old."""
    return and_(col(Nudge.state).in_(FINAL_STATES), col(Nudge.updated_at) < moment)


def logged_before(moment: datetime) -> ColumnElement[bool]:
    """Access log rows written before `moment`."""
    return col(AccessLog.at) < moment


def _ended_cycles(before: date) -> ColumnElement[int]:
    return select(col(Cycle.id)).where(col(Cycle.ends_on) < before).scalar_subquery()


def _review_talks(before: date) -> ColumnElement[int]:
    reviews = select(col(Review.talk_id)).where(col(Review.cycle_id).in_(_ended_cycles(before)))
    return reviews.scalar_subquery()


@dataclass(frozen=True)
class ReviewRows:
    """The rows of the review records of ended cycles: the reviews (each with its talk), the
    talks' actions, the cycles' self-assessments and interview dates."""

    reviews: int
    actions: int
    self_assessments: int
    interviews: int


async def count(engine: AsyncEngine, model: type[SQLModel], where: ColumnElement[bool]) -> int:
    """How many rows of `model` match `where`."""
    async with engine.connect() as conn:
        found = await conn.execute(select(func.count()).select_from(model).where(where))
        return int(found.scalar_one())


async def count_dialogue_actions(engine: AsyncEngine, before: date) -> int:
    """The actions of the dialogues held before `before`."""
    talks = select(col(Talk.id)).where(old_dialogues(before)).scalar_subquery()
    return await count(engine, ActionItem, col(ActionItem.talk_id).in_(talks))


async def count_review_rows(engine: AsyncEngine, before: date) -> ReviewRows:
    """What `delete_reviews` deletes for cycles that ended before `before`, counted."""
    cycles = _ended_cycles(before)
    return ReviewRows(
        reviews=await count(engine, Review, col(Review.cycle_id).in_(cycles)),
        actions=await count(engine, ActionItem, col(ActionItem.talk_id).in_(_review_talks(before))),
        self_assessments=await count(
            engine, SelfAssessment, col(SelfAssessment.cycle_id).in_(cycles)
        ),
        interviews=await count(engine, Interview, col(Interview.cycle_id).in_(cycles)),
    )


async def _ids(engine: AsyncEngine, query: Select[int | None]) -> list[int]:
    async with engine.connect() as conn:
        return [key for key in (await conn.execute(query)).scalars() if key is not None]


async def _batches(
    engine: AsyncEngine, key: Mapped[int | None], where: ColumnElement[bool], batch: int
) -> AsyncIterator[list[int]]:
    """The ids matching `where`, `batch` at a time, in id order: each read starts after the
    last id of the one before, so none scans again what an earlier batch left behind (and a
    row that could not go is never read twice)."""
    after = 0
    while ids := await _ids(
        engine, select(key).where(where, key > after).order_by(key).limit(batch)
    ):
        yield ids
        after = ids[-1]


async def _drop_talks(conn: AsyncConnection, talk_ids: Sequence[int]) -> tuple[int, int]:
    """Delete these talks and their actions, unlinking what points at them: (talks,
    actions) deleted (by this call: another replica's run may have taken some)."""
    ids = list(talk_ids)
    if not ids:
        return 0, 0
    await conn.execute(
        update(Goal)
        .where(col(Goal.clarified_in_talk_id).in_(ids))
        .values(clarified_in_talk_id=None)
    )
    await conn.execute(
        update(ActionItem)
        .where(col(ActionItem.completed_in_talk_id).in_(ids))
        .values(completed_in_talk_id=None)
    )
    actions = await conn.execute(delete(ActionItem).where(col(ActionItem.talk_id).in_(ids)))
    talks = await conn.execute(delete(Talk).where(col(Talk.id).in_(ids)))
    return int(talks.rowcount or 0), int(actions.rowcount or 0)


async def delete_dialogues(engine: AsyncEngine, before: date, batch: int) -> tuple[int, int]:
    """Delete dialogue talks held before `before`, with their actions: (talks, actions)."""
    talks = actions = 0
    async for ids in _batches(engine, col(Talk.id), old_dialogues(before), batch):
        async with engine.begin() as conn:
            dropped, dropped_actions = await _drop_talks(conn, ids)
        talks, actions = talks + dropped, actions + dropped_actions
    return talks, actions


async def delete_reviews(engine: AsyncEngine, before: date, batch: int) -> ReviewRows:
    """Delete the review records of cycles that ended before `before`: each review with its
    talk and that talk's actions, then the cycles' self-assessments and interview dates."""
    reviews = actions = 0
    ended = col(Review.cycle_id).in_(_ended_cycles(before))
    async for ids in _batches(engine, col(Review.id), ended, batch):
        async with engine.begin() as conn:
            # read in the transaction that deletes: a review another run took has no talk here
            talks = select(col(Review.talk_id)).where(col(Review.id).in_(ids))
            talk_ids = list((await conn.execute(talks)).scalars())
            gone = await conn.execute(delete(Review).where(col(Review.id).in_(ids)))
            actions += (await _drop_talks(conn, talk_ids))[1]
        reviews += int(gone.rowcount or 0)
    selves = await delete_rows(
        engine,
        SelfAssessment,
        col(SelfAssessment.id),
        col(SelfAssessment.cycle_id).in_(_ended_cycles(before)),
        batch,
    )
    interviews = await delete_rows(
        engine,
        Interview,
        col(Interview.id),
        col(Interview.cycle_id).in_(_ended_cycles(before)),
        batch,
    )
    return ReviewRows(reviews, actions, selves, interviews)


async def clear_notes(engine: AsyncEngine, before: date, batch: int) -> int:
    """Remove the private notes of talks held before `before` (the talks stay)."""
    cleared = 0
    async for ids in _batches(engine, col(Talk.id), old_notes(before), batch):
        async with engine.begin() as conn:
            done = await conn.execute(
                update(Talk)
                .where(col(Talk.id).in_(ids), col(Talk.private_note).is_not(None))
                .values(private_note=None)
            )
        cleared += int(done.rowcount or 0)
    return cleared


async def delete_rows(
    engine: AsyncEngine,
    model: type[SQLModel],
    key: Mapped[int | None],
    where: ColumnElement[bool],
    batch: int,
) -> int:
    """Delete the rows of `model` (by its `key`) matching `where`, `batch` at a time."""
    deleted = 0
    async for ids in _batches(engine, key, where, batch):
        async with engine.begin() as conn:
            # `where` again: a row changed since it was read (a message sent again) stays
            done = await conn.execute(delete(model).where(key.in_(ids), where))
        deleted += int(done.rowcount or 0)
    return deleted


async def leavers(engine: AsyncEngine, left_before: datetime) -> list[str]:
    """The people deactivated before `left_before` (erasure is theirs next), never the
    former-employee stand-in."""
    query = (
        select(col(Person.id))
        .where(
            col(Person.active).is_(False),
            col(Person.left_at) < left_before,
            col(Person.id) != FORMER_KEY,
        )
        .order_by(col(Person.id))
    )
    async with engine.connect() as conn:
        return list((await conn.execute(query)).scalars())
