"""What a chat platform told us about people (language, zone, deleted), and their DM
channels, kept on their chat identities so that sending at scale needs no look-up per
message."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import outbox
from bot.org.policy import Policy
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Person, Platform

FRESH = timedelta(days=7)
REMEMBER_EVERY = timedelta(hours=1)  # a busy chat writes its sender's identity at most hourly
LOCALE_MAX = 16  # chat_identity.locale
ZONE_NAME_MAX = 64  # chat_identity.timezone


def fresh_locale(identity: ChatIdentity | None, now: datetime) -> str | None:
    """The language a chat identity's platform reported, if we learnt it recently."""
    if identity is None or not identity.locale or identity.refreshed_at is None:
        return None
    return identity.locale if now - identity.refreshed_at < FRESH else None


def is_stale(identity: ChatIdentity | None, now: datetime) -> bool:
    """Whether a chat identity's profile was never, or not lately, asked for."""
    return identity is None or identity.refreshed_at is None or now - identity.refreshed_at > FRESH


def stored_locale(person: Person, identity: ChatIdentity | None, policy: Policy) -> str:
    """The language known without asking the platform: the identity's (even if not
    checked lately), else the org file's, else the policy's."""
    return (identity.locale if identity else None) or person.locale or policy.locale


def reported_zone(person: Person, identity: ChatIdentity | None) -> str | None:
    """The time zone name known for a person: their chat identity's, else the org file's."""
    return (identity.timezone if identity else None) or person.timezone


async def slack_identity(engine: AsyncEngine, person_id: str) -> ChatIdentity | None:
    """The person's Slack identity as stored."""
    async with session_scope(engine) as session:
        return await queries.slack_identity(session, person_id)


async def slack_account(session: AsyncSession, user_id: str) -> ChatIdentity | None:
    """The Slack identity of a Slack user id (in the one installed workspace)."""
    return await queries.identity_of_account(session, Platform.SLACK, "", user_id)


async def stored_dm_channel(engine: AsyncEngine, user_id: str) -> str | None:
    """The DM channel id stored for a Slack user, if one was ever opened."""
    async with session_scope(engine) as session:
        identity = await slack_account(session, user_id)
        return identity.conversation if identity is not None else None


async def remember_profile(
    engine: AsyncEngine,
    *,
    user_id: str,
    locale: str | None,
    tz: str | None,
    deleted: bool,
    now: datetime,
) -> None:
    """Store a Slack user's profile on their Slack identity; a user Slack reports deleted
    leaves the org chart."""
    async with session_scope(engine) as session:
        identity = await slack_account(session, user_id)
        person = await queries.get_person(session, identity.person_id) if identity else None
        if identity is None or person is None:
            return
        identity.locale, identity.timezone, identity.refreshed_at = locale, tz, now
        identity.updated_at = now
        if deleted and person.active:
            person.active, person.updated_at = False, now
            await outbox.cancel_for_person(session, person.id, reason="deleted in Slack", now=now)
        await session.commit()


async def teams_account(session: AsyncSession, aad_object_id: str) -> ChatIdentity | None:
    """The Teams identity of an Entra object id (the org file's `teams_id`)."""
    return await queries.identity_of_account(session, Platform.TEAMS, "", aad_object_id.lower())


def known_zone(name: str | None) -> str | None:
    """A time zone name worth storing: one the zone database knows, else None."""
    if not name or len(name) > ZONE_NAME_MAX:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


async def remember_teams_contact(
    engine: AsyncEngine,
    *,
    aad_object_id: str,
    reference: str | None,
    locale: str | None,
    tz: str | None,
    now: datetime,
) -> tuple[Person, ChatIdentity] | None:
    """Keep what a Teams activity told us about its sender on their Teams identity: the
    personal chat's conversation reference (`reference`, serialised; None keeps the stored
    one), their language and time zone (nudges have no activity to read them from). Returns
    the person and that identity, or None for an account nobody in the org chart has."""
    async with session_scope(engine) as session:
        identity = await teams_account(session, aad_object_id)
        person = await queries.get_person(session, identity.person_id) if identity else None
        if identity is None or person is None:
            return None
        changed = False
        if reference is not None and identity.conversation != reference:
            identity.conversation, changed = reference, True
        zone = known_zone(tz)
        lang = locale[:LOCALE_MAX] if locale else None
        if (lang and lang != identity.locale) or (zone and zone != identity.timezone):
            identity.locale = lang or identity.locale
            identity.timezone = zone or identity.timezone
            changed = True
        if identity.refreshed_at is None or now - identity.refreshed_at > REMEMBER_EVERY:
            identity.refreshed_at, changed = now, True
        if changed:
            identity.updated_at = now
            await session.commit()
        return person, identity


async def adopt_teams_account(
    engine: AsyncEngine, *, aad_object_id: str, emails: list[str], now: datetime
) -> bool:
    """Give a Teams account to the active person the org file names by one of these emails
    (it names them by email only: no teams_id), if they have no Teams account yet. True when
    the account is theirs now."""
    async with session_scope(engine) as session:
        person = None
        for email in emails:
            person = await queries.active_person_by_email(session, email)
            if person is not None:
                break
        if person is None or await queries.identity_on(session, person.id, Platform.TEAMS):
            return False
        session.add(
            ChatIdentity(
                person_id=person.id,
                platform=Platform.TEAMS,
                workspace="",
                user_id=aad_object_id.lower(),
                created_at=now,
                updated_at=now,
            )
        )
        await session.commit()
        return True


async def remember_dm_channel(
    engine: AsyncEngine, user_id: str, channel: str, *, now: datetime
) -> None:
    """Keep a Slack user's DM channel id, so it is opened once ever."""
    async with session_scope(engine) as session:
        identity = await slack_account(session, user_id)
        if identity is not None:
            identity.conversation, identity.updated_at = channel, now
            await session.commit()


__all__ = [
    "adopt_teams_account",
    "fresh_locale",
    "is_stale",
    "remember_dm_channel",
    "remember_profile",
    "remember_teams_contact",
    "reported_zone",
    "slack_account",
    "slack_identity",
    "stored_dm_channel",
    "stored_locale",
    "teams_account",
]
