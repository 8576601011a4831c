"""The process's chat platforms, assembled once: Slack's Bolt app, Teams' bot, or both, with
one nudge engine (one dispatcher, each platform's own pace) and one notifier they share, and
the HTTP routes each platform answers on."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from bot.clock import Clock, system_clock
from bot.engine import pace
from bot.engine.scheduler import Engine, Notifier, worker_name
from bot.org.policy import Policy
from bot.process.config import Settings

if TYPE_CHECKING:
    from bot.slack.deps import Deps
    from bot.teams.app import TeamsBot
    from bot.teams.auth import BotToken


@dataclass
class Platforms:
    """What `serve` (and the tests) run: the routes, the one nudge engine and its notifier,
    and each platform's side (None where it is not configured)."""

    routes: list[BaseRoute]
    engine: Engine
    notifier: Notifier
    slack_app: Any | None = None  # Bolt's AsyncApp (Socket Mode connects to it)
    slack: Deps | None = None
    teams: TeamsBot | None = None


def assemble(
    settings: Settings,
    policy: Policy,
    *,
    engine: AsyncEngine,
    clock: Clock = system_clock,
    monotonic: pace.Clock = time.monotonic,
    sleep: pace.Sleeper = asyncio.sleep,
    slack_client: Any | None = None,
    teams_token: BotToken | None = None,
    teams_sends_per_second: float | None = None,
) -> Platforms:
    """Every configured platform, sharing one engine. Slack when it has a bot token, Teams
    when it has a client id (or is anonymous); `slack_client` and `teams_token` replace the
    real ones (tests, the demo)."""
    routes: list[BaseRoute] = []
    nudges: Engine | None = None
    notifier: Notifier | None = None
    slack_app = slack_deps = teams_bot = None
    if settings.slack:
        from bot.slack.app import create_app
        from bot.slack.edge import slack_routes

        slack_app, slack_deps = create_app(
            settings,
            policy,
            engine=engine,
            client=slack_client,
            clock=clock,
            monotonic=monotonic,
            sleep=sleep,
        )
        assert slack_deps.notifier is not None
        notifier = slack_deps.notifier
        nudges = notifier.engine
        routes += slack_routes(slack_app, signing_secret=settings.slack_signing_secret or "")
    if settings.teams is not None:
        from bot.teams.app import TeamsBot, teams_delivery
        from bot.teams.edge import teams_routes

        teams_bot = TeamsBot(settings.teams, policy, engine=engine, token=teams_token, clock=clock)
        delivery = teams_delivery(
            teams_bot, sends_per_second=teams_sends_per_second, monotonic=monotonic, sleep=sleep
        )
        if nudges is None:
            nudges = Engine(teams_bot.deps, [delivery], worker_name())
            notifier = Notifier(nudges)
        else:
            nudges.platforms.append(delivery)
        teams_bot.deps.notifier = notifier
        routes += teams_routes(teams_bot)
    if nudges is None or notifier is None:
        raise ValueError("neither Slack nor Teams is configured")
    return Platforms(routes, nudges, notifier, slack_app, slack_deps, teams_bot)
