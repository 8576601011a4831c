"""What Slack listeners are handed: the policy, the database, the clock, and Slack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from bot.context import Context
from bot.logs import describe
from bot.org.profiles import fresh_locale, remember_profile, slack_account
from bot.slack.gateway import SlackGateway
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Person, Platform

if TYPE_CHECKING:
    from bot.engine.scheduler import Notifier


log = logging.getLogger(__name__)

LOCALE_READ_SECONDS = 0.5  # of Slack's 3 s before an ack


@dataclass
class Deps(Context):
    """What every Slack listener is handed: the shared context and the Slack gateway."""

    gateway: SlackGateway
    # A form ready this soon opens at once; a slower one opens behind a loading view, so
    # the trigger (3 s, of which the trip from Slack and Bolt's work take some) is never
    # spent waiting for the database.
    form_wait_seconds: float = 1.0
    # Sends the notices a use case just wrote to the outbox (set by the app's assembly).
    notifier: Notifier | None = None

    def kick(self) -> None:
        """Send the notices just written to the outbox, now, in the background."""
        if self.notifier is not None:
            self.notifier.kick()

    async def person_key(self, user_id: str) -> str:
        """The person key behind a Slack user id, or "" for someone not in the org chart
        (whom the domain refuses as unknown)."""
        async with session_scope(self.engine) as session:
            identity = await slack_account(session, user_id)
            return identity.person_id if identity is not None else ""

    async def person_ref(self, value: str) -> str:
        """The person a value from a payload names: a person key (what Cadence writes into
        buttons and forms), or a Slack user id (what messages and forms sent before person
        keys carry); "" for nobody."""
        if not value:
            return ""
        async with session_scope(self.engine) as session:
            if await queries.get_person(session, value) is not None:
                return value
            identity = await slack_account(session, value)
            return identity.person_id if identity is not None else ""

    async def person_keys(self, user_ids: Iterable[str]) -> dict[str, str]:
        """The person key behind each of these Slack user ids that has one."""
        async with session_scope(self.engine) as session:
            return await queries.keys_of_accounts(session, Platform.SLACK, user_ids)

    async def slack_user(self, person_key: str) -> str | None:
        """The Slack user id of a person, if they have a Slack account."""
        async with session_scope(self.engine) as session:
            identity = await queries.slack_identity(session, person_key)
            return identity.user_id if identity is not None else None

    async def locale_for_person(self, person_key: str) -> str:
        """A person's language, by their key: their Slack account's if they have one."""
        user_id = await self.slack_user(person_key)
        if user_id is not None:
            return await self.locale_for(user_id)
        async with session_scope(self.engine) as session:
            person = await queries.get_person(session, person_key)
        return (person.locale if person and person.locale else None) or self.policy.locale

    async def _person(self, user_id: str) -> tuple[Person | None, ChatIdentity | None]:
        async with session_scope(self.engine) as session:
            identity = await slack_account(session, user_id)
            person = await queries.get_person(session, identity.person_id) if identity else None
            return person, identity

    async def locale_for(self, user_id: str) -> str:
        """A user's language: Slack's setting, else the org file's, else the policy's."""
        now = self.clock()
        try:  # a language is never worth a failed answer: a database that is down or slow
            person, identity = await asyncio.wait_for(self._person(user_id), LOCALE_READ_SECONDS)
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            log.warning("no stored language for a user (%s)", describe(exc))
            person, identity = None, None
        known = fresh_locale(identity, now)
        if known:
            return known
        profile = await self.gateway.quick_profile(user_id)
        if profile is not None:
            if person is not None:
                try:
                    await remember_profile(
                        self.engine,
                        user_id=user_id,
                        locale=profile.locale,
                        tz=profile.tz,
                        deleted=profile.deleted,
                        now=now,
                    )
                except (SQLAlchemyError, OSError) as exc:
                    log.warning("could not store a user's Slack profile (%s)", describe(exc))
            if profile.locale:
                return profile.locale
        return (person.locale if person and person.locale else None) or self.policy.locale
