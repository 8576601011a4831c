"""Queries for retention: what is past its time, counted, and deleted a batch at a time (each
batch its own short transaction, so no lock is held long and a stop loses nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime

from sqlalchemy import and_, delete, func, select, update
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

FINAL_STATES = (NudgeState.SENT, NudgeState.FAILED, NudgeState.CANCELLED, NudgeState.SKIPPED)


def old_dialogues(before: date) -> ColumnElement[bool]:
    return and_(col(Talk.family) == Family.DIALOGUE, col(Talk.held_on) < before)


def old_notes(before: date) -> ColumnElement[bool]:
    return and_(col(Talk.private_note).is_not(None), col(Talk.held_on) < before)


def old_cycles(before: date) -> ColumnElement[bool]:
    return col(Cycle.ends_on) < before


def delivered_before(moment: datetime) -> ColumnElement[bool]:
    return and_(col(Nudge.state).in_(FINAL_STATES), col(Nudge.updated_at) < moment)


def logged_before(moment: datetime) -> ColumnElement[bool]:
    return col(AccessLog.at) < moment


async def count(engine: AsyncEngine, model: type, where: ColumnElement[bool]) -> int:
    async with engine.connect() as conn:
        found = await conn.execute(select(func.count()).select_from(model).where(where))
        return int(found.scalar_one())


async def count_dialogue_actions(engine: AsyncEngine, before: date) -> int:
    """The actions of the dialogues held before `before`."""
    talks = select(col(Talk.id)).where(old_dialogues(before)).scalar_subquery()
    return await count(engine, ActionItem, col(ActionItem.talk_id).in_(talks))


async def count_review_rows(engine: AsyncEngine, before: date) -> dict[str, int]:
    """What `delete_reviews` deletes for cycles that ended before `before`, counted."""
    cycles = select(col(Cycle.id)).where(old_cycles(before)).scalar_subquery()
    talks = select(col(Review.talk_id)).where(col(Review.cycle_id).in_(cycles)).scalar_subquery()
    out = {
        "reviews": 0,
        "review actions": await count(engine, ActionItem, col(ActionItem.talk_id).in_(talks)),
    }
    async with engine.connect() as conn:
        for name, model in (
            ("reviews", Review),
            ("self-assessments", SelfAssessment),
            ("interview dates", Interview),
        ):
            query = select(func.count()).select_from(model).where(model.cycle_id.in_(cycles))  # type: ignore[attr-defined]
            out[name] = int((await conn.execute(query)).scalar_one())
    return out


async def _ids(engine: AsyncEngine, query: object) -> list[int]:
    async with engine.connect() as conn:
        return [row[0] for row in (await conn.execute(query)).all()]  # type: ignore[call-overload]


async def _batches(
    engine: AsyncEngine, key: Mapped[int | None], where: ColumnElement[bool], batch: int
) -> AsyncIterator[list[int]]:
    """The ids matching `where`, `batch` at a time, in id order: each read starts after the
    last id of the one before, so none scans again what an earlier batch left behind."""
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


async def delete_reviews(engine: AsyncEngine, before: date, batch: int) -> dict[str, int]:
    """Delete the review records of cycles that ended before `before`: each review with its
    talk and that talk's actions, then the cycles' self-assessments and interview dates."""
    cycles = select(col(Cycle.id)).where(old_cycles(before)).scalar_subquery()
    out = {"reviews": 0, "review actions": 0, "self-assessments": 0, "interview dates": 0}
    pairs = (
        select(col(Review.id), col(Review.talk_id))
        .where(col(Review.cycle_id).in_(cycles))
        .limit(batch)
    )
    while True:
        async with engine.connect() as conn:
            rows = (await conn.execute(pairs)).all()
        if not rows:
            break
        async with engine.begin() as conn:
            reviews = delete(Review).where(col(Review.id).in_([r[0] for r in rows]))
            gone = await conn.execute(reviews)
            out["review actions"] += (await _drop_talks(conn, [r[1] for r in rows]))[1]
        out["reviews"] += int(gone.rowcount or 0)
    for name, model, key, cycle in (
        ("self-assessments", SelfAssessment, col(SelfAssessment.id), col(SelfAssessment.cycle_id)),
        ("interview dates", Interview, col(Interview.id), col(Interview.cycle_id)),
    ):
        out[name] += await delete_rows(engine, model, key, cycle.in_(cycles), batch)
    return out


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
            done = await conn.execute(delete(model).where(key.in_(ids)))
        deleted += int(done.rowcount or 0)
    return deleted


async def leavers(engine: AsyncEngine, left_before: datetime) -> list[str]:
    """The people deactivated before `left_before` (erasure is theirs next)."""
    query = select(col(Person.id)).where(
        col(Person.active).is_(False),
        col(Person.left_at) < left_before,
        col(Person.id) != FORMER_KEY,
    )
    async with engine.connect() as conn:
        return [row[0] for row in (await conn.execute(query)).all()]
