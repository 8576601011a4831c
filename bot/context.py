"""What every part of the process shares, whatever the chat platform: the organisation's
policy, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import Clock
from bot.org.policy import Policy


@dataclass
class Context:
    """The policy, the database and the clock; a platform's dependencies extend it."""

    policy: Policy
    engine: AsyncEngine
    clock: Clock
