"""Assemble the Bolt app: Slack client, listeners and their dependencies."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

import handlers.slack
from bot.clock import Clock, system_clock
from bot.engine import pace
from bot.engine.dispatch import PlatformDelivery
from bot.engine.scheduler import Engine, Notifier, worker_name
from bot.logs import describe, library_logger, quiet_libraries
from bot.org.policy import Policy
from bot.process.config import Settings
from bot.slack.deps import Deps
from bot.slack.gateway import SlackGateway, make_client
from bot.slack.profile_refresh import ProfileRefresher
from bot.slack.sender import SlackNudgeSender
from handlers.slack.notify import publish_homes_of, redraw
from storage.models import Platform

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    policy: Policy,
    *,
    engine: AsyncEngine,
    client: AsyncWebClient | None = None,
    clock: Clock = system_clock,
    monotonic: pace.Clock = time.monotonic,
    sleep: pace.Sleeper = asyncio.sleep,
) -> tuple[AsyncApp, Deps]:
    """The Bolt app with every listener registered, and the dependencies they share; its
    nudge engine waits by `monotonic` and `sleep` (see `create_nudge_engine`)."""
    client = client or make_client(settings.slack_bot_token, settings.slack_api_url)
    quiet_libraries()
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        # The edge (bot/slack/edge.py) verified the signature before Bolt sees a request;
        # Bolt's own check would log a refused request's whole body.
        request_verification_enabled=False,
        logger=_bolt_logger(),
    )
    deps = Deps(policy=policy, engine=engine, gateway=SlackGateway(client), clock=clock)
    deps.notifier = Notifier(create_nudge_engine(deps, settings, monotonic=monotonic, sleep=sleep))
    handlers.slack.register(app, deps)

    @app.error
    async def on_error(error: Exception, body: dict) -> None:
        # The guard (handlers/slack/guard.py) answers listeners' failures; this is what escapes it.
        log.error("a %s request failed in Bolt: %s", body.get("type"), describe(error))

    return app, deps


class _TokenFromTheClient(logging.Filter):
    """Drops Bolt's "As you gave `client` as well, `token` will be unused": Bolt reads
    SLACK_BOT_TOKEN from the environment even when handed a client, then warns that it will
    use the client's token instead, and the client was built from that very token. Bolt has
    no argument that stops it reading the variable, and the warning is not a fault to see."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


def _bolt_logger() -> logging.Logger:
    """The logger Bolt gets: `library_logger`'s, without the warning about its own token."""
    logger = library_logger("bot.bolt")
    if not any(isinstance(f, _TokenFromTheClient) for f in logger.filters):
        logger.addFilter(_TokenFromTheClient())
    return logger


def create_nudge_engine(
    deps: Deps,
    settings: Settings,
    *,
    client: AsyncWebClient | None = None,
    sends_per_second: float | None = None,
    max_sends_per_second: float | None = None,
    channel_spacing: float | None = None,
    monotonic: pace.Clock = time.monotonic,
    sleep: pace.Sleeper = asyncio.sleep,
) -> Engine:
    """The planner and dispatcher. Its client retries nothing by itself: the dispatcher
    handles 429s (slowing the whole pace) and looks for a post that may have reached Slack
    before posting it again, where a client's own retry could post it twice. Every wait
    (the pace, lease renewals, look-up budgets) reads `monotonic` and waits with `sleep`.
    `create_app` makes the process's one engine (`deps.notifier.engine`): use that one."""
    client = client or make_client(
        settings.slack_bot_token,
        settings.slack_api_url,
        retry_rate_limits=False,
        retry_failures=False,
    )
    delivery = deps.policy.delivery
    start = sends_per_second or delivery.sends_per_second
    ceiling = max(start, max_sends_per_second or delivery.max_sends_per_second)
    spacing = pace.CHANNEL_SPACING if channel_spacing is None else channel_spacing
    refresher = ProfileRefresher(deps.engine, deps.gateway.profile, clock=monotonic, sleep=sleep)
    sender = SlackNudgeSender(deps, client, refresher, clock=monotonic, sleep=sleep)
    slack = PlatformDelivery(
        Platform.SLACK,
        sender,
        pace.Pace(
            start=start, ceiling=ceiling, channel_spacing=spacing, clock=monotonic, sleep=sleep
        ),
        verify=sender.token_works,
        refresh=refresher.want,
        redraw=partial(redraw, deps),
        views=partial(publish_homes_of, deps),
    )
    return Engine(deps, [slack], worker_name())
