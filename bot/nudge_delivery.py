"""Sending one nudge through Slack: content from the database, words in the recipient's
language, Slack's answers turned into what the dispatcher needs to decide."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.dispatch import Delivered, DeliveryError
from bot.logs import failure
from bot.notice_content import notice_content
from bot.notices import is_notice
from bot.nudge_content import nudge_content
from bot.prep_pack import PrepPack
from bot.prep_pack_text import to_markdown
from bot.profiles import remember_dm_channel, remember_profile
from handlers.blocks.notices import notice_message
from handlers.blocks.nudges import nudge_message
from handlers.blocks.prep_pack import file_comment
from prompts import t
from storage.models import Nudge

log = logging.getLogger(__name__)
GONE = {"user_not_found", "user_disabled", "account_inactive", "cannot_dm_bot", "is_archived"}


class SlackNudgeSender:
    """The dispatcher's `send`: render a nudge or a notice and post it as a DM."""

    def __init__(self, deps: Deps, client: AsyncWebClient) -> None:
        self.deps, self.client = deps, client

    async def __call__(
        self, nudge: Nudge, now: datetime, turn: Callable[[], Awaitable[None]]
    ) -> Delivered:
        policy = self.deps.policy
        pack = None
        if is_notice(nudge.kind):
            notice = await notice_content(self.deps.engine, nudge, policy=policy)
            recipient = notice.recipient
            locale = await self.deps.locale_for(nudge.recipient_id)
            message = notice_message(notice, policy=policy, locale=locale)
        else:
            content = await nudge_content(self.deps.engine, nudge, policy=policy, now=now)
            recipient, pack = content.recipient, content.pack
            locale = await self.deps.locale_for(nudge.recipient_id)
            message = nudge_message(content, policy=policy, locale=locale)
        try:
            channel = recipient.dm_channel_id or await self._open(nudge.recipient_id)
            for part in message.parts():  # a long nudge goes out in several posts, in order
                await turn()
                response = await self.client.chat_postMessage(channel=channel, **part.as_kwargs())
        except SlackApiError as exc:
            raise await self._explain(exc, nudge.recipient_id, now) from exc
        except (TimeoutError, ClientError) as exc:
            raise DeliveryError(f"network: {type(exc).__name__}") from exc
        if pack is not None:
            await self._attach_pack(pack, response["channel"], locale)
        return Delivered(channel=response["channel"], ts=response["ts"], text=message.text)

    async def _attach_pack(self, pack: PrepPack, channel: str, locale: str) -> None:
        """The full pack as a Markdown file under the summary; the summary stands alone if
        the upload fails (and `prep-pack` prints the same pack)."""
        name = pack.employee.name
        try:
            await self.client.files_upload_v2(
                channel=channel,
                content=to_markdown(pack, policy=self.deps.policy, locale=locale),
                filename=f"prep-pack-{pack.cycle.name}-{pack.employee.slack_id}.md",
                title=t("prep.title", locale, name=name, cycle=pack.cycle.name),
                initial_comment=file_comment(pack, locale=locale),  # mrkdwn: escaped
            )
        except (SlackApiError, TimeoutError, ClientError):
            failure(log, "could not attach the prep pack for %s", pack.employee.slack_id)

    async def refresh_profiles(self, user_ids: list[str], now: datetime) -> None:
        """Learn the Slack language and zone of people not looked up lately (a few at a time:
        users.info is Tier 4)."""
        gate = asyncio.Semaphore(4)

        async def one(user_id: str) -> None:
            async with gate:
                profile = await self.deps.gateway.profile(user_id)
            if profile is not None:
                await remember_profile(
                    self.deps.engine,
                    user_id=user_id,
                    locale=profile.locale,
                    tz=profile.tz,
                    deleted=profile.deleted,
                    now=now,
                )

        await asyncio.gather(*(one(u) for u in user_ids))

    async def _open(self, user_id: str) -> str:
        response = await self.client.conversations_open(users=user_id)
        channel = response["channel"]["id"]
        await remember_dm_channel(self.deps.engine, user_id, channel)
        return channel

    async def _explain(self, exc: SlackApiError, user_id: str, now: datetime) -> DeliveryError:
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = str(data.get("error") or f"HTTP {status}")
        if status == 429 or error == "ratelimited":
            retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
            return DeliveryError(f"ratelimited ({retry_after:g}s)", retry_after=retry_after)
        if error in GONE:
            profile = await self.deps.gateway.profile(user_id)
            if profile is not None and profile.deleted:
                await remember_profile(
                    self.deps.engine,
                    user_id=user_id,
                    locale=profile.locale,
                    tz=profile.tz,
                    deleted=True,
                    now=now,
                )
            return DeliveryError(f"cannot reach the user: {error}", recipient_gone=True)
        return DeliveryError(error)
