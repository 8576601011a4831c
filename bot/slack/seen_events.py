"""Slack delivers some things more than once; remember what was already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import queries
from storage.db import session_scope


async def first_delivery(engine: AsyncEngine, event_id: str, now: datetime) -> bool:
    """True the first time an Events API `event_id` is seen, False for its retries."""
    async with session_scope(engine) as session:
        first = await queries.claim_event(session, event_id, now)
        await session.commit()
    return first
