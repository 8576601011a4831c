"""What listeners are handed: the policy, the database, Slack, the clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.policy import Policy
from bot.slack_gateway import SlackGateway
from storage import queries
from storage.db import session_scope


@dataclass
class Deps:
    """Dependencies shared by every listener."""

    policy: Policy
    engine: AsyncEngine
    gateway: SlackGateway
    clock: Clock

    async def locale_for(self, user_id: str) -> str:
        """A user's language: Slack's setting, else the org file's, else the policy's."""
        slack_locale = await self.gateway.slack_locale(user_id)
        if slack_locale:
            return slack_locale
        async with session_scope(self.engine) as session:
            person = await queries.get_person(session, user_id)
        return (person.locale if person and person.locale else None) or self.policy.locale
