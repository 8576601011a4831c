"""Events API: deduplicate Slack's retries by event_id; publish App Home when opened; pause
delivery when the app is uninstalled or its bot token revoked."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.engine import delivery_pause
from bot.slack.deps import Deps
from bot.slack.seen_events import first_delivery
from handlers.slack import parse
from handlers.slack.notify import publish_home


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the dedupe middleware and the event listeners."""
    app.middleware(partial(skip_seen_events, deps=deps))
    app.event("app_home_opened")(partial(home_opened, deps=deps))
    app.event("app_uninstalled")(partial(uninstalled, deps=deps))
    app.event("tokens_revoked")(partial(tokens_revoked, deps=deps))


async def skip_seen_events(body: dict[str, Any], next: Any, deps: Deps) -> BoltResponse | None:
    """Answer an already-handled event_id with 200 and do nothing else."""
    event_id = parse.event_id(body)
    if event_id and not await first_delivery(deps.engine, event_id, deps.clock()):
        return BoltResponse(status=200, body="")
    return await next()


async def home_opened(event: dict[str, Any], deps: Deps) -> None:
    """Render the Home tab for whoever opened it."""
    user_id = parse.home_opened_by(event)
    if user_id:
        await publish_home(deps, user_id)


async def uninstalled(deps: Deps) -> None:
    """Stop sending (every record is kept); a reinstall resumes it (`auth.test` works again)."""
    await delivery_pause.pause(deps.engine, reason="app_uninstalled", now=deps.clock())


async def tokens_revoked(event: dict[str, Any], deps: Deps) -> None:
    """Stop sending if the bot's token is among those revoked (a user token is not ours)."""
    if parse.bot_token_revoked(event):
        await delivery_pause.pause(deps.engine, reason="tokens_revoked", now=deps.clock())
