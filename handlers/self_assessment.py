"""(Placeholder, being written.)"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the listeners."""


async def self_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str, locale: str
) -> None:
    """`/checkin self`: open the self-assessment modal."""
    raise NotImplementedError
