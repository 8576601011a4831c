"""Assemble the Bolt app: Slack client, listeners and their dependencies."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

import handlers
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.deps import Deps
from bot.policy import Policy
from bot.slack_gateway import SlackGateway, make_client

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    policy: Policy,
    *,
    engine: AsyncEngine,
    client: AsyncWebClient | None = None,
    clock: Clock = system_clock,
) -> tuple[AsyncApp, Deps]:
    """The Bolt app with every listener registered, and the dependencies they share."""
    client = client or make_client(settings.slack_bot_token, settings.slack_api_url)
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    deps = Deps(policy=policy, engine=engine, gateway=SlackGateway(client), clock=clock)
    handlers.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict) -> None:
        log.exception("unhandled error in a listener (type %s)", body.get("type"), exc_info=error)

    return app, deps
