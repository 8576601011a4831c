"""Queries for privacy: the access log, everything about one person ("my data"), and what
erasure removes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AccessLog


async def access_rows(
    session: AsyncSession, subject_id: str, *, since: datetime | None = None
) -> list[AccessLog]:
    """The access log's rows about one person, oldest first."""
    query = select(AccessLog).where(col(AccessLog.subject_id) == subject_id)
    if since is not None:
        query = query.where(col(AccessLog.at) >= since)
    return list((await session.exec(query.order_by(col(AccessLog.at), col(AccessLog.id)))).all())
