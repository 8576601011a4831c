"""Assemble Teams' side: the inbound check, the connector back to Teams, the listeners and the
sender, sharing the process's one nudge engine with Slack when both are served."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from microsoft_agents.activity import Activity
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.clock import Clock, system_clock
from bot.context import Context
from bot.engine import pace
from bot.engine.dispatch import PlatformDelivery
from bot.logs import describe
from bot.org.policy import Policy
from bot.org.profiles import (
    adopt_teams_account,
    remember_teams_contact,
    stored_locale,
    teams_account,
)
from bot.process.config import TeamsSettings
from bot.teams.auth import BotToken, InboundAuth, bot_token
from bot.teams.connector import ConnectorError, ConversationReference, TeamsConnector
from prompts import normalize_locale
from storage.models import ChatIdentity, Person, Platform

if TYPE_CHECKING:
    from bot.engine.scheduler import Notifier

log = logging.getLogger(__name__)

PERSONAL = "personal"


@dataclass(frozen=True)
class Answer:
    """What `/api/messages` answers: a status, and for an invoke its body."""

    status: int = 200
    body: dict[str, Any] | None = None


@dataclass
class TeamsDeps(Context):
    """What every Teams listener is handed: the shared context and the connector."""

    connector: TeamsConnector
    notifier: Notifier | None = None

    def kick(self) -> None:
        """Send the notices just written to the outbox, now, in the background."""
        if self.notifier is not None:
            self.notifier.kick()


@dataclass
class Incoming:
    """One activity from Teams, as a listener sees it: who sent it (None: not in the org
    chart), in which language, and where an answer goes."""

    activity: Activity
    person: Person | None
    locale: str
    reply_to: ConversationReference | None
    deps: TeamsDeps

    @property
    def actor(self) -> str:
        """The sender's person key, or "" (which the domain refuses as unknown)."""
        return self.person.id if self.person is not None else ""

    async def reply(self, activity: dict[str, Any]) -> str | None:
        """Post an activity in the conversation this one came from; its id, or None if
        Teams refused (logged by status, never raised: an answer is never worth a crash)."""
        if self.reply_to is None:
            return None
        try:
            return await self.deps.connector.send(self.reply_to, activity)
        except ConnectorError as exc:
            log.warning("a reply in Teams was refused (%s)", describe(exc))
            return None


def reference_of(activity: Activity) -> ConversationReference | None:
    """Where to answer this activity, or None when it names no conversation."""
    if not activity.service_url or activity.conversation is None or not activity.conversation.id:
        return None
    sender, bot = activity.from_property, activity.recipient
    return ConversationReference(
        service_url=activity.service_url,
        conversation_id=activity.conversation.id,
        user_id=sender.id if sender is not None else "",
        bot_id=bot.id if bot is not None else "",
        tenant_id=activity.conversation.tenant_id,
    )


class TeamsBot:
    """Teams' side of the process: `handle` answers one authenticated activity."""

    def __init__(
        self,
        teams: TeamsSettings,
        policy: Policy,
        *,
        engine: AsyncEngine,
        token: BotToken | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self.auth = InboundAuth(teams)
        self._asked: dict[str, datetime] = {}  # unknown accounts looked up, and when
        self.deps = TeamsDeps(
            policy=policy,
            engine=engine,
            clock=clock,
            connector=TeamsConnector(
                token or bot_token(teams),
                upload_origins=(teams.test_origin,) if teams.test_origin else (),
            ),
        )

    async def _recognise(self, aad: str, reference: ConversationReference, now: datetime) -> bool:
        """Someone whose Teams account Cadence does not know: ask Teams for their email and,
        if the org file names an active person by it (and they have no Teams account), it
        becomes theirs (True). Asked at most hourly per account, so strangers cost little."""
        asked = self._asked.get(aad)
        if asked is not None and now - asked < LOOKUP_AGAIN:
            return False
        if len(self._asked) >= LOOKUPS_KEPT:
            self._asked.clear()
        self._asked[aad] = now
        try:
            emails = await self.deps.connector.member_emails(reference)
        except ConnectorError as exc:
            log.warning("could not look a Teams member up (%s)", describe(exc))
            return False
        if await adopt_teams_account(self.deps.engine, aad_object_id=aad, emails=emails, now=now):
            log.info("a Teams account was matched to the org file by email")
            return True
        return False

    async def handle(self, activity: Activity) -> Answer:
        """Remember what the activity tells about its sender, then let the listeners answer
        (timed by the activity's kind)."""
        from handlers.teams.listeners import answer  # the listeners import this module

        started = time.perf_counter()
        try:
            return await answer(await self.incoming(activity))
        finally:
            metrics.request(Platform.TEAMS, activity_kind(activity), time.perf_counter() - started)

    async def incoming(self, activity: Activity) -> Incoming:
        """The activity with its sender looked up (and their chat, language and zone kept)."""
        deps, now = self.deps, self.deps.clock()
        sender = activity.from_property
        aad = (sender.aad_object_id or "") if sender is not None else ""
        reference = reference_of(activity)
        personal = (
            activity.conversation is not None
            and (activity.conversation.conversation_type or PERSONAL) == PERSONAL
        )
        chat = reference if personal else None

        async def remember() -> tuple[Person, ChatIdentity] | None:
            return await remember_teams_contact(
                deps.engine,
                aad_object_id=aad,
                reference=chat.dumps() if chat is not None else None,
                locale=normalize_locale(activity.locale),  # a catalog's: `zh-CN` is `zh`
                tz=activity.local_timezone,
                now=now,
            )

        known = await remember() if aad else None
        if known is None and aad and chat is not None and await self._recognise(aad, chat, now):
            known = await remember()
        if known is None or not known[0].active:
            locale = normalize_locale(activity.locale) or deps.policy.locale
            return Incoming(activity, None, locale, reference, deps)
        person, identity = known
        locale = stored_locale(person, identity, deps.policy)
        return Incoming(activity, person, locale, reference, deps)


# An activity's `type` (an invoke's `name`) → the kind `cadence_request_seconds` names it by.
ACTIVITY_KINDS = {
    "message": "message",
    "installationUpdate": "installation_update",
    "conversationUpdate": "conversation_update",
}
INVOKE_KINDS = {
    "task/fetch": "task_fetch",
    "task/submit": "task_submit",
    "adaptiveCard/action": "card_action",
}


def activity_kind(activity: Activity) -> str:
    """What kind of request an activity is, from its type and an invoke's name, one of a
    fixed set; anything else is "other" (an unknown invoke: "invoke")."""
    if activity.type == "invoke":
        return INVOKE_KINDS.get(activity.name or "", "invoke")
    return ACTIVITY_KINDS.get(activity.type or "", metrics.OTHER)


LOOKUP_AGAIN = timedelta(hours=1)  # an unknown account is looked up at most this often
LOOKUPS_KEPT = 10_000


def teams_delivery(
    bot: TeamsBot,
    *,
    sends_per_second: float | None = None,
    channel_spacing: float | None = None,
    monotonic: pace.Clock = time.monotonic,
    sleep: pace.Sleeper = asyncio.sleep,
) -> PlatformDelivery:
    """Teams as the dispatcher sees it: its sender, its own pace (Teams allows about 7
    messages a second to one chat and 50 a second per bot across them), its token check."""
    from bot.teams.sender import TeamsNudgeSender, can_reach

    delivery = bot.deps.policy.delivery
    rate = sends_per_second or delivery.sends_per_second
    sender = TeamsNudgeSender(bot.deps)
    return PlatformDelivery(
        Platform.TEAMS,
        sender,
        pace.Pace(
            start=rate,
            ceiling=max(rate, delivery.max_sends_per_second),
            channel_spacing=TEAMS_CHAT_SPACING if channel_spacing is None else channel_spacing,
            clock=monotonic,
            sleep=sleep,
        ),
        verify=sender.token_works,
        reachable=can_reach,
        redraw=sender.redraw,
    )


TEAMS_CHAT_SPACING = 0.2  # s between posts to one chat: under Teams' 7 per second per chat


__all__ = ["Answer", "Incoming", "TeamsBot", "TeamsDeps", "teams_account", "teams_delivery"]
