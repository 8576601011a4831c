"""What Slack told us about people (language, zone, deleted), and their DM channels, kept in
the database so that sending at scale needs no look-up per message."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import outbox
from bot.org.policy import Policy
from storage import queries
from storage.db import session_scope
from storage.models import Person

FRESH = timedelta(days=7)


def fresh_slack_locale(person: Person | None, now: datetime) -> str | None:
    """The person's Slack language if we learnt it recently."""
    if person is None or not person.slack_locale or person.slack_checked_at is None:
        return None
    return person.slack_locale if now - person.slack_checked_at < FRESH else None


def stored_locale(person: Person, policy: Policy) -> str:
    """The language known without asking Slack: Slack's (even if not checked lately), else
    the org file's, else the policy's."""
    return person.slack_locale or person.locale or policy.locale


async def stored_dm_channel(engine: AsyncEngine, user_id: str) -> str | None:
    """The DM channel id stored for a user, if one was ever opened."""
    async with session_scope(engine) as session:
        return await queries.dm_channel(session, user_id)


async def remember_profile(
    engine: AsyncEngine,
    *,
    user_id: str,
    locale: str | None,
    tz: str | None,
    deleted: bool,
    now: datetime,
) -> None:
    """Store a Slack profile; a user Slack reports deleted leaves the org chart."""
    async with session_scope(engine) as session:
        person = await queries.get_person(session, user_id)
        if person is None:
            return
        person.slack_locale, person.slack_tz, person.slack_checked_at = locale, tz, now
        if deleted and person.active:
            person.active, person.updated_at = False, now
            await outbox.cancel_for_person(session, user_id, reason="deleted in Slack", now=now)
        await session.commit()


async def remember_dm_channel(engine: AsyncEngine, user_id: str, channel: str) -> None:
    """Keep a user's DM channel id, so it is opened once ever."""
    async with session_scope(engine) as session:
        await queries.set_dm_channel(session, user_id, channel)
        await session.commit()


__all__ = [
    "fresh_slack_locale",
    "remember_dm_channel",
    "remember_profile",
    "stored_dm_channel",
    "stored_locale",
]
