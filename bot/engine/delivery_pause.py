"""Delivery through a chat platform paused because it no longer accepts the bot (Slack: a
revoked token, an uninstalled app).

A pause is a database row per platform, so every process and a restart see it, and a paused
platform holds up no other; nothing is cancelled while it lasts and no attempt is counted.
It ends by itself: the dispatcher asks the platform (Slack: `auth.test`) at the start of each
pass, and once it accepts the bot again delivery resumes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from storage.db import ping, session_scope
from storage.models import DeliveryPause

log = logging.getLogger(__name__)
SLACK = "slack"
# A platform's row: Slack's keeps the scope it had when Slack was the only platform (one
# installation per deployment), so a pause stored by an earlier version still holds.
SCOPES = {SLACK: "workspace"}
REASON_LEN = 40


def scope_of(platform: str) -> str:
    """The stored scope of a platform's pause."""
    return SCOPES.get(platform, platform)


def platform_of(scope: str) -> str:
    """The platform a stored pause is for."""
    return next((p for p, s in SCOPES.items() if s == scope), scope)


async def pause(engine: AsyncEngine, *, reason: str, now: datetime, platform: str = SLACK) -> bool:
    """Stop delivery through `platform` for `reason` (the platform's error code or event
    type); False if paused already."""
    scope = scope_of(platform)
    async with session_scope(engine) as session:
        if await session.get(DeliveryPause, scope) is not None:
            return False
        session.add(
            DeliveryPause(scope=scope, reason=reason[:REASON_LEN], since=now, checked_at=now)
        )
        try:
            await session.commit()
        except IntegrityError:  # another process paused it meanwhile
            return False
    log.warning(
        "delivery through %s paused: it refused the bot (%s)", platform, reason[:REASON_LEN]
    )
    return True


async def current(engine: AsyncEngine, platform: str = SLACK) -> DeliveryPause | None:
    """The pause of a platform in force, if any."""
    async with session_scope(engine) as session:
        return await session.get(DeliveryPause, scope_of(platform))


async def every_pause(engine: AsyncEngine) -> list[DeliveryPause]:
    """Every pause in force, on whichever platform."""
    async with session_scope(engine) as session:
        return list((await session.exec(select(DeliveryPause))).all())


async def checked(engine: AsyncEngine, now: datetime, platform: str = SLACK) -> None:
    """Note that the platform was asked again and still refuses the bot."""
    scope = scope_of(platform)
    async with session_scope(engine) as session:
        await session.execute(
            update(DeliveryPause).where(col(DeliveryPause.scope) == scope).values(checked_at=now)
        )
        await session.commit()


async def resume(engine: AsyncEngine, platform: str = SLACK) -> bool:
    """End a platform's pause; False if there was none."""
    scope = scope_of(platform)
    async with session_scope(engine) as session:
        result = await session.execute(
            delete(DeliveryPause).where(col(DeliveryPause.scope) == scope)
        )
        await session.commit()
    resumed = bool(result.rowcount)  # type: ignore[attr-defined]  # a DELETE gives a CursorResult
    if resumed:
        log.warning("delivery through %s resumed: it accepts the bot again", platform)
    return resumed


async def health(engine: AsyncEngine) -> tuple[int, dict[str, str]]:
    """`/healthz`: 503 when the database is unreachable (nothing works); 200 "degraded" while
    delivery is paused (the process is fine and still answers Slack: restarting it would not
    bring a revoked token back); else 200 "ok"."""
    if not await ping(engine):
        return 503, {"status": "database unreachable"}
    try:
        pauses = await every_pause(engine)
    except Exception as exc:  # a database that answers a ping but not this: say so
        log.error("could not read the delivery pause (%s)", type(exc).__name__)
        return 503, {"status": "database unreachable"}
    if not pauses:
        return 200, {"status": "ok"}
    paused = min(pauses, key=lambda p: p.since)  # the longest-standing
    return 200, {
        "status": "degraded",
        "delivery": "paused",
        "platform": platform_of(paused.scope),
        "reason": paused.reason,
        "since": paused.since.isoformat(),
    }
