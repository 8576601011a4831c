"""What listeners are handed: the policy, the database, Slack, the clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.policy import Policy
from bot.profiles import fresh_slack_locale, remember_profile
from bot.slack_gateway import SlackGateway
from storage import queries
from storage.db import session_scope

if TYPE_CHECKING:
    from bot.scheduler import Notifier


@dataclass
class Deps:
    """Dependencies shared by every listener."""

    policy: Policy
    engine: AsyncEngine
    gateway: SlackGateway
    clock: Clock
    # Sends the notices a use case just wrote to the outbox (set by the app's assembly).
    notifier: Notifier | None = None

    def kick(self) -> None:
        """Send the notices just written to the outbox, now, in the background."""
        if self.notifier is not None:
            self.notifier.kick()

    async def locale_for(self, user_id: str) -> str:
        """A user's language: Slack's setting, else the org file's, else the policy's."""
        now = self.clock()
        async with session_scope(self.engine) as session:
            person = await queries.get_person(session, user_id)
        known = fresh_slack_locale(person, now)
        if known:
            return known
        profile = await self.gateway.slack_locale_profile(user_id)
        if profile is not None:
            if person is not None:
                await remember_profile(
                    self.engine,
                    user_id=user_id,
                    locale=profile.locale,
                    tz=profile.tz,
                    deleted=profile.deleted,
                    now=now,
                )
            if profile.locale:
                return profile.locale
        return (person.locale if person and person.locale else None) or self.policy.locale
