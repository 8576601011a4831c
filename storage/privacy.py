"""Queries for privacy: the access log, everything about one person ("my data"), and what
erasure removes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    AccessLog,
    ActionItem,
    Cycle,
    Goal,
    Interview,
    Leave,
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
