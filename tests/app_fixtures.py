"""The running app: real uvicorn on loopback, signed requests in, the Slack stand-in out. Its
nudge engines (the process's own and `nudge_engine`) and the stand-in keep the test's
`FastForwardTime`: a wait for the pace, a Retry-After or a look-up budget takes no real time."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dev.slack_standin import SlackStandIn
from bot.engine.notices import ROLE
from bot.engine.scheduler import Engine
from bot.org.policy import Policy
from bot.process.config import Settings
from bot.process.web import create_web
from bot.slack.app import create_app, create_nudge_engine
from bot.slack.deps import Deps
from bot.slack.edge import slack_routes
from bot.slack.gateway import make_client
from storage.db import session_scope
from storage.models import Nudge
from tests.fast_forward_time import FastForwardTime

SIGNING_SECRET = "test-signing-secret"
TEAM = {"id": "T0001", "domain": "cadence-test"}


@dataclass
class FixedClock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 3, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class RunningApp:
    """The app under test and ways to talk to it the way Slack does."""

    url: str
    deps: Deps
    slack: SlackStandIn
    http: httpx.AsyncClient
    clock: FixedClock
    time: FastForwardTime  # the monotonic time its nudge engines and the stand-in keep

    def sign(self, body: str, *, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    async def post(
        self, body: str, content_type: str, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        all_headers = {"Content-Type": content_type, **self.sign(body), **(headers or {})}
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=all_headers)

    async def notices_sent(self, timeout: float = 5.0) -> None:
        """Wait until every notice written so far has left the outbox (sent or given up)."""
        await notices_sent(self.deps.engine, self.deps.notifier, timeout)

    async def command(
        self, user_id: str, text: str = "", *, command: str = "/checkin"
    ) -> httpx.Response:
        """Send a slash command as Slack does (form-encoded)."""
        form = {
            "token": "legacy",
            "team_id": TEAM["id"],
            "team_domain": TEAM["domain"],
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0CADENCE",
            "response_url": self.slack.response_url(f"cmd-{user_id}"),
            "trigger_id": self.trigger(user_id),
        }
        return await self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")

    def trigger(self, user_id: str) -> str:
        """A fresh trigger_id from the stand-in, as Slack sends with each interaction."""
        return self.slack.issue_trigger(user_id)

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """Send an interactivity payload (`payload=<json>`) carrying a fresh, real trigger_id."""
        if "trigger_id" in payload:
            payload = {**payload, "trigger_id": self.trigger(payload["user"]["id"])}
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(
        self, event: dict[str, Any], *, event_id: str, retry_num: int | None = None
    ) -> httpx.Response:
        """Send an Events API callback, optionally as one of Slack's retries."""
        envelope = {
            "token": "legacy",
            "team_id": TEAM["id"],
            "api_app_id": "A0CADENCE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return await self.post(json.dumps(envelope), "application/json", headers=headers)


async def notices_sent(engine: AsyncEngine, notifier: Any, timeout: float = 5.0) -> None:
    """Wait until every notice written so far has left the outbox (sent or given up), and
    the notifier's pass is over."""
    deadline = time.monotonic() + timeout
    query = select(func.count()).where(
        Nudge.role == ROLE,
        Nudge.state.in_(("pending", "sending")),  # type: ignore[attr-defined]
    )
    while True:
        async with session_scope(engine) as session:
            owed = (await session.execute(query)).scalar_one()
        if owed == 0:
            if notifier is not None:
                await notifier.idle()
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{owed} notice(s) still owed after {timeout}s")
        await asyncio.sleep(0.02)


@pytest.fixture
def clock() -> FixedClock:
    """Thursday 26 November 2026, 03:00 UTC (11:00 in Shanghai)."""
    return FixedClock()


@pytest.fixture
async def running_app(
    engine: AsyncEngine,
    slack: SlackStandIn,
    policy: Policy,
    clock: FixedClock,
    database_url: str,
    fast_forward_time: FastForwardTime,
) -> AsyncIterator[RunningApp]:
    """The real app served by uvicorn on a loopback port."""
    async with serve_app(engine, slack, policy, clock, database_url, fast_forward_time) as app:
        yield app


@asynccontextmanager
async def serve_app(
    engine: AsyncEngine,
    slack: SlackStandIn,
    policy: Policy,
    clock: FixedClock,
    database_url: str,
    fast_forward: FastForwardTime,
) -> AsyncIterator[RunningApp]:
    """Serve the app on a loopback port until the block ends (a second one on the same
    database stands for a second `serve` process)."""
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": slack_token(slack),
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": database_url,
        }
    )
    client = make_client(settings.slack_bot_token, settings.slack_api_url, timeout=5)
    app, deps = create_app(
        settings,
        policy,
        engine=engine,
        client=client,
        clock=clock,
        monotonic=fast_forward.clock,
        sleep=fast_forward.sleep,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_web(engine, slack_routes(app, signing_secret=SIGNING_SECRET)),
            log_level="warning",
            lifespan="off",
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    async with httpx.AsyncClient(timeout=10) as http:
        yield RunningApp(f"http://127.0.0.1:{port}", deps, slack, http, clock, fast_forward)
    if deps.notifier is not None:
        await deps.notifier.idle()  # notices still being sent finish before the database goes
    server.should_exit = True
    await task
    sock.close()


def slack_token(slack: SlackStandIn) -> str:
    """The bot token the stand-in accepts."""
    return slack.bot_token


@pytest.fixture
def nudge_engine(running_app: RunningApp, database_url: str) -> Engine:
    """The planner and dispatcher of the running app, sending to the stand-in quickly."""
    return engine_for(running_app, database_url)


def engine_for(app: RunningApp, database_url: str, *, timeout: float = 5) -> Engine:
    """A nudge engine bound to the app's dependencies and the stand-in, on the app's
    fast-forward time, with a client that retries nothing (as `create_nudge_engine`'s own)."""
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": app.slack.bot_token,
            "SLACK_API_URL": app.slack.base_url,
            "DATABASE_URL": database_url,
        }
    )
    client = make_client(
        settings.slack_bot_token,
        settings.slack_api_url,
        timeout=timeout,  # type: ignore[arg-type]  # aiohttp takes fractions of a second
        retry_rate_limits=False,
        retry_failures=False,
    )
    return create_nudge_engine(
        app.deps,
        settings,
        client=client,
        sends_per_second=500,
        monotonic=app.time.clock,
        sleep=app.time.sleep,
    )
