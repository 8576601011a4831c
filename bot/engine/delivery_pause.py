"""Delivery paused because Slack no longer accepts the bot's token (revoked, uninstalled).

The pause is a database row, so every process and a restart see it; nothing is cancelled
while it lasts and no attempt is counted. It ends by itself: the dispatcher asks Slack
(`auth.test`) at the start of each pass, and once the token works again it resumes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from storage.db import ping, session_scope
from storage.models import DeliveryPause

log = logging.getLogger(__name__)
SCOPE = "workspace"  # one installation per deployment
REASON_LEN = 40


async def pause(engine: AsyncEngine, *, reason: str, now: datetime) -> bool:
    """Stop delivery for `reason` (a Slack error code or event type); False if paused already."""
    async with session_scope(engine) as session:
        if await session.get(DeliveryPause, SCOPE) is not None:
            return False
        session.add(
            DeliveryPause(scope=SCOPE, reason=reason[:REASON_LEN], since=now, checked_at=now)
        )
        try:
            await session.commit()
        except IntegrityError:  # another process paused it meanwhile
            return False
    log.warning("delivery paused: Slack refused the bot's token (%s)", reason[:REASON_LEN])
    return True


async def current(engine: AsyncEngine) -> DeliveryPause | None:
    """The pause in force, if any."""
    async with session_scope(engine) as session:
        return await session.get(DeliveryPause, SCOPE)


async def checked(engine: AsyncEngine, now: datetime) -> None:
    """Note that the token was tried again and still refused."""
    async with session_scope(engine) as session:
        await session.execute(
            update(DeliveryPause).where(col(DeliveryPause.scope) == SCOPE).values(checked_at=now)
        )
        await session.commit()


async def resume(engine: AsyncEngine) -> bool:
    """End the pause; False if there was none."""
    async with session_scope(engine) as session:
        result = await session.execute(
            delete(DeliveryPause).where(col(DeliveryPause.scope) == SCOPE)
        )
        await session.commit()
    resumed = bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE gives a CursorResult
    if resumed:
        log.warning("delivery resumed: Slack accepts the bot's token again")
    return resumed


async def health(engine: AsyncEngine) -> tuple[int, dict[str, str]]:
    """`/healthz`: 503 when the database is unreachable (nothing works); 200 "degraded" while
    delivery is paused (the process is fine and still answers Slack: restarting it would not
    bring a revoked token back); else 200 "ok"."""
    if not await ping(engine):
        return 503, {"status": "database unreachable"}
    try:
        paused = await current(engine)
    except Exception as exc:  # a database that answers a ping but not this: say so
        log.error("could not read the delivery pause (%s)", type(exc).__name__)
        return 503, {"status": "database unreachable"}
    if paused is None:
        return 200, {"status": "ok"}
    return 200, {
        "status": "degraded",
        "delivery": "paused",
        "reason": paused.reason,
        "since": paused.since.isoformat(),
    }
