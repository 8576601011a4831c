"""Teams in tests: the real app served by uvicorn on loopback, activities posted to
`/api/messages` with tokens the Bot Connector stand-in signs (its keys are the validator's,
through CADENCE_TEAMS_TEST_JWKS_URL), and the stand-in as every activity's `serviceUrl`,
recording what the bot sends back."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dev.slack_standin import SlackStandIn
from bot.dev.teams_standin import TeamsStandIn
from bot.org.policy import Policy
from bot.process.assembly import Platforms, assemble
from bot.process.config import Settings
from bot.process.web import create_web
from bot.slack.gateway import make_client
from bot.teams.auth import fixed_token
from storage.db import session_scope
from storage.models import ChatIdentity, Person, Platform
from tests.app_fixtures import SIGNING_SECRET, FixedClock, RunningApp, notices_sent
from tests.factories import T0
from tests.fast_forward_time import FastForwardTime

CLIENT_ID = "5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c"  # the bot's Entra app registration
BOT_ID = f"28:{CLIENT_ID}"
_activity_ids = itertools.count(1)


def aad(n: int) -> str:
    """An Entra object id (what the org file calls teams_id)."""
    return f"00000000-0000-4000-8000-{n:012d}"


@dataclass(frozen=True)
class TeamsUser:
    """Someone in Teams: their Entra object id (the org file's teams_id) and the Bot Framework
    id Teams gives them in the bot's chats."""

    aad: str
    name: str
    locale: str = "en-US"
    timezone: str = "Asia/Shanghai"

    @property
    def bf_id(self) -> str:
        return f"29:{self.aad}"


# The small Teams org: Tara manages Tom (Chinese) and Tess; Hugo is HR.
TARA = TeamsUser(aad(1), "Tara Nowak")
TOM = TeamsUser(aad(2), "Tom Li", locale="zh-CN")
TESS = TeamsUser(aad(3), "Tess Roy", locale="en-GB", timezone="Europe/London")
HUGO = TeamsUser(aad(4), "Hugo Park")


def tkey(user: TeamsUser) -> str:
    """The person key tests give a Teams user: never their Entra id."""
    return f"t{user.aad[-6:]}"


async def add_teams_people(
    engine: AsyncEngine, rows: list[tuple[TeamsUser, TeamsUser | None, dict[str, Any]]]
) -> None:
    """People on Teams (user, their manager or None, Person fields), managers first, each
    with a Teams identity as the org import makes them (no chat known yet)."""
    async with session_scope(engine) as session:
        for user, manager, fields in rows:
            session.add(
                Person(
                    id=tkey(user),
                    name=user.name,
                    manager_id=tkey(manager) if manager else None,
                    created_at=T0,
                    updated_at=T0,
                    **fields,
                )
            )
            await session.flush()
            session.add(
                ChatIdentity(
                    person_id=tkey(user),
                    platform=Platform.TEAMS,
                    user_id=user.aad,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        await session.commit()


TEAMS_ORG: list[tuple[TeamsUser, TeamsUser | None, dict[str, Any]]] = [
    (HUGO, None, dict(is_hr=True, email="hugo@example.com")),
    (TARA, None, dict(email="tara@example.com")),
    (TOM, TARA, dict(email="tom@example.com", locale="zh", timezone="Asia/Shanghai")),
    (TESS, TARA, dict(email="tess@example.com")),
]


@dataclass
class RunningTeams:
    """The app under test, spoken to as Teams does."""

    url: str
    teams: TeamsStandIn
    http: httpx.AsyncClient
    platforms: Platforms
    clock: FixedClock
    time: FastForwardTime
    slack: RunningApp | None = None  # the same process's Slack side, when it serves both

    @property
    def deps(self) -> Any:
        assert self.platforms.teams is not None
        return self.platforms.teams.deps

    def token(self, **overrides: Any) -> str:
        return self.teams.token_for(CLIENT_ID, **overrides)

    async def post(
        self, activity: dict[str, Any], *, token: str | None = None, auth: bool = True
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or self.token()}"} if auth else {}
        return await self.http.post(f"{self.url}/api/messages", json=activity, headers=headers)

    def activity(
        self, user: TeamsUser, kind: str, *, chat: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        """An activity from `user` in their personal chat with the bot, as Teams sends it."""
        conversation = chat or self.teams.install(user.bf_id)
        return {
            "type": kind,
            "id": f"f:{next(_activity_ids)}",
            "timestamp": "2026-11-26T03:00:00.000Z",
            "serviceUrl": self.teams.service_url,
            "channelId": "msteams",
            "from": {"id": user.bf_id, "name": user.name, "aadObjectId": user.aad},
            "conversation": {
                "id": conversation,
                "conversationType": "personal",
                "tenantId": self.teams.tenant_id,
            },
            "recipient": {"id": BOT_ID, "name": "Cadence"},
            "locale": user.locale,
            "localTimezone": user.timezone,
            "channelData": {"tenant": {"id": self.teams.tenant_id}},
            **fields,
        }

    async def install(self, user: TeamsUser) -> httpx.Response:
        """The app is installed for `user`: Teams tells the bot."""
        return await self.post(self.activity(user, "installationUpdate", action="add"))

    async def say(self, user: TeamsUser, text: str, **fields: Any) -> httpx.Response:
        return await self.post(self.activity(user, "message", text=text, **fields))

    async def invoke(self, user: TeamsUser, name: str, value: dict[str, Any]) -> httpx.Response:
        return await self.post(self.activity(user, "invoke", name=name, value=value))

    async def fetch(self, user: TeamsUser, data: dict[str, Any]) -> httpx.Response:
        """Open a dialog from a button with this data (`task/fetch`)."""
        return await self.invoke(
            user, "task/fetch", {"data": data, "context": {"theme": "default"}}
        )

    async def submit(self, user: TeamsUser, data: dict[str, Any]) -> httpx.Response:
        """Submit a dialog's card (its inputs merged into its button's data)."""
        return await self.invoke(
            user, "task/submit", {"data": data, "context": {"theme": "default"}}
        )

    async def execute(self, user: TeamsUser, verb: str, data: dict[str, Any]) -> httpx.Response:
        """Click an `Action.Execute` button."""
        value = {
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        }
        return await self.invoke(user, "adaptiveCard/action", value)

    def messages_to(self, user: TeamsUser) -> list[dict[str, Any]]:
        """What the bot's chat with `user` holds now, oldest first."""
        return self.teams.messages_with(user.bf_id)

    async def notices_sent(self, timeout: float = 5.0) -> None:
        """Wait until every notice written so far has left the outbox."""
        engine = self.platforms.engine.context.engine
        await notices_sent(engine, self.platforms.notifier, timeout)


def teams_env(teams: TeamsStandIn, database_url: str, **more: str) -> dict[str, str]:
    """The environment of a process that serves Teams (the SDK's own variable names)."""
    prefix = "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__"
    return {
        f"{prefix}CLIENTID": CLIENT_ID,
        f"{prefix}CLIENTSECRET": "not-used-in-tests",
        f"{prefix}TENANTID": teams.tenant_id,
        "CADENCE_TEAMS_TEST_JWKS_URL": teams.jwks_url,
        "CADENCE_TEAMS_TEST_ISSUER": teams.issuer,
        "DATABASE_URL": database_url,
        **more,
    }


@asynccontextmanager
async def serve_teams(
    engine: AsyncEngine,
    teams: TeamsStandIn,
    policy: Policy,
    clock: FixedClock,
    database_url: str,
    fast_forward: FastForwardTime,
    *,
    slack: SlackStandIn | None = None,
    anonymous: bool = False,
) -> AsyncIterator[RunningTeams]:
    """The app serving Teams (and Slack too, given its stand-in) on a loopback port;
    `anonymous`: as for the Agents Playground (no client id, no tokens either way)."""
    more = {}
    if slack is not None:
        more = {
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.base_url,
        }
    env = teams_env(teams, database_url, **more)
    if anonymous:
        env = {"CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true", **more}
        env["DATABASE_URL"] = database_url
    settings = Settings.from_env(env)
    client = (
        make_client(settings.slack_bot_token, settings.slack_api_url, timeout=5)
        if slack is not None
        else None
    )
    platforms = assemble(
        settings,
        policy,
        engine=engine,
        clock=clock,
        monotonic=fast_forward.clock,
        sleep=fast_forward.sleep,
        slack_client=client,
        teams_token=None if anonymous else fixed_token(teams.token),
        teams_sends_per_second=500,
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_web(engine, platforms.routes), log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(timeout=10) as http:
        slack_side = None
        if slack is not None and platforms.slack is not None:
            slack_side = RunningApp(url, platforms.slack, slack, http, clock, fast_forward)
        yield RunningTeams(url, teams, http, platforms, clock, fast_forward, slack_side)
    await platforms.notifier.idle()
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
def teams(fast_forward_time: FastForwardTime) -> Iterator[TeamsStandIn]:
    """The Bot Connector on loopback, recording every call."""
    with TeamsStandIn(clock=fast_forward_time.clock) as standin:
        yield standin


@pytest.fixture
async def teams_app(
    engine: AsyncEngine,
    teams: TeamsStandIn,
    policy: Policy,
    clock: FixedClock,
    database_url: str,
    fast_forward_time: FastForwardTime,
) -> AsyncIterator[RunningTeams]:
    """The app serving only Teams, with the small Teams org in the database."""
    await add_teams_people(engine, TEAMS_ORG)
    async with serve_teams(engine, teams, policy, clock, database_url, fast_forward_time) as app:
        yield app
