"""The one owner of Slack Web API calls made outside a listener: DMs, user look-ups, caches."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.logs import library_logger
from handlers.slack.blocks.kit import Message
from prompts import normalize_locale

log = logging.getLogger(__name__)

PROFILE_TTL = 3600.0
LOOKUP_TIMEOUT = 1.5  # a locale look-up before an ack must leave room in Slack's 3 s


def make_client(
    token: str | None,
    base_url: str,
    *,
    timeout: int = 10,
    retry_rate_limits: bool = True,
    retry_failures: bool = True,
) -> AsyncWebClient:
    """A Web API client that retries 429s after Retry-After, 5xx and dropped connections,
    unless the caller retries itself: the dispatcher does both (a 5xx or a dropped
    connection may come after Slack posted the message, so it looks before posting again)."""
    handlers: list[AsyncRetryHandler] = []
    if retry_failures:
        handlers += [
            AsyncServerErrorRetryHandler(max_retry_count=2),
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
        ]
    if retry_rate_limits:
        handlers.insert(0, AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=handlers,
        # its DEBUG lines hold whole request bodies: a logger of its own, WARNING and up
        logger=library_logger("bot.slack_api"),
    )


@dataclass(frozen=True)
class Profile:
    """What Slack says about a user that the bot cares about."""

    user_id: str
    locale: str | None
    tz: str | None
    deleted: bool
    email: str | None


class SlackGateway:
    """DMs and user look-ups, with each user's DM channel and profile cached."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._channels: dict[str, str] = {}
        self._profiles: dict[str, tuple[float, Profile]] = {}

    async def profile(self, user_id: str, *, timeout: float | None = None) -> Profile | None:
        """The user's Slack profile (locale, time zone), cached; None when Slack can't tell."""
        cached = self._profiles.get(user_id)
        if cached and time.monotonic() - cached[0] < PROFILE_TTL:
            return cached[1]
        try:
            call = self.client.users_info(user=user_id, include_locale=True)
            response = await (asyncio.wait_for(call, timeout) if timeout else call)
        except (SlackApiError, TimeoutError, OSError):
            log.warning("users.info failed for %s; using stored settings", user_id)
            return None
        user = response.get("user") or {}
        profile = Profile(
            user_id=user_id,
            locale=normalize_locale(user.get("locale")),
            tz=user.get("tz"),
            deleted=bool(user.get("deleted")),
            email=(user.get("profile") or {}).get("email"),
        )
        self._profiles[user_id] = (time.monotonic(), profile)
        return profile

    def known_locale(self, user_id: str) -> str | None:
        """The user's language if a recent look-up told it (no I/O, for the first 3 s)."""
        cached = self._profiles.get(user_id)
        fresh = cached is not None and time.monotonic() - cached[0] < PROFILE_TTL
        return cached[1].locale if cached is not None and fresh else None

    async def quick_profile(self, user_id: str) -> Profile | None:
        """The user's profile if Slack answers quickly enough to still ack in time."""
        return await self.profile(user_id, timeout=LOOKUP_TIMEOUT)

    async def dm_channel(self, user_id: str) -> str:
        """The DM channel with a user, opened once and remembered."""
        channel = self._channels.get(user_id)
        if channel is None:
            response = await self.client.conversations_open(users=user_id)
            channel = response["channel"]["id"]
            self._channels[user_id] = channel
        return channel

    async def dm(self, user_id: str, text: str, blocks: list[dict] | None = None) -> dict:
        """Send a direct message, in several posts (in order) when it is longer than Slack
        takes in one; returns Slack's answer (channel and ts) for the last post, which holds
        any buttons."""
        channel = await self.dm_channel(user_id)
        for part in Message(text, blocks or []).parts():
            response = await self.client.chat_postMessage(
                channel=channel, text=part.text, blocks=part.blocks or None
            )
        return {"channel": response["channel"], "ts": response["ts"]}

    async def lookup_email(self, email: str) -> str | None:
        """The Slack id of the user with this email, or None."""
        try:
            response = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response.get("error") == "users_not_found":
                return None
            raise
        return response["user"]["id"]
