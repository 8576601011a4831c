"""Sending one nudge through Slack: content from the database, words in the recipient's
language, Slack's answers turned into what the dispatcher needs to decide.

Every post carries Slack message metadata naming its outbox row (and its part, for a message
of several posts). Slack has no idempotency key, so a row whose earlier attempt may have
reached Slack (`Nudge.uncertain`) is first looked for in its DM's recent history
(`conversations.history`, the bot's own messages only): what is there is not posted again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine.dispatch import Delivered, DeliveryError, NoLongerNeeded, TokenRefused, Turn
from bot.engine.kinds import is_notice
from bot.engine.notice_content import notice_content
from bot.engine.nudge_content import NudgeContent, nudge_content
from bot.engine.pace import Clock, Sleeper
from bot.org.profiles import remember_dm_channel, remember_profile, slack_identity, stored_locale
from bot.records.coverage_digest import CoverageDigest, chart_png
from bot.review.prep_pack import PrepPack
from bot.review.prep_pack_text import to_markdown
from bot.slack.deps import Deps
from bot.slack.profile_refresh import MinuteBudget, ProfileRefresher
from handlers.slack.blocks.messages import Message
from handlers.slack.blocks.notices import notice_message
from handlers.slack.blocks.nudges import nudge_message
from handlers.slack.blocks.prep_pack import file_comment
from prompts import t
from storage.models import ChatIdentity, Nudge, Person

log = logging.getLogger(__name__)

EVENT_TYPE = "cadence_outbox"  # Slack: ^[a-zA-Z0-9_]+$
# Errors about the bot's token or installation, not the recipient: pause, cancel nothing.
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "org_login_required",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
# Errors about the recipient: their nudges are cancelled.
GONE = frozenset({"user_not_found", "user_disabled", "cannot_dm_bot", "is_archived"})
# ok:false answers after which Slack says part of the work may have been done.
MAYBE_DONE = frozenset({"fatal_error", "internal_error"})
# History look-ups that cannot be made at all (an install without im:history): post anyway,
# since a message possibly twice beats a message never.
CANNOT_LOOK = frozenset({"missing_scope", "not_allowed_token_type", "channel_not_found"})
HISTORY_LOOKBACK = timedelta(minutes=2)  # before the first claim: clocks differ
HISTORY_PAGE = 200
HISTORY_PAGES = 10
HISTORY_PER_MINUTE = 40  # conversations.history is Tier 3 (~50 a minute)


def _parts(message: Message) -> list[Message]:
    """A rendered message as the posts it takes (a long one is several, in order)."""
    return message.parts()


def _error(exc: SlackApiError) -> tuple[int, str]:
    status = exc.response.status_code
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return status, str(data.get("error") or f"HTTP {status}")


def _retry_after(exc: SlackApiError) -> float:
    return float(exc.response.headers.get("Retry-After", 1) or 1)


class SlackNudgeSender:
    """The dispatcher's `send`: render a nudge or a notice and post it as a DM. Its look-up
    budgets keep time by `clock` (monotonic); the default refresher waits with `sleep`."""

    def __init__(
        self,
        deps: Deps,
        client: AsyncWebClient,
        refresher: ProfileRefresher | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.deps, self.client = deps, client
        self.refresher = refresher or ProfileRefresher(
            deps.engine, deps.gateway.profile, clock=clock, sleep=sleep
        )
        self.history_budget = MinuteBudget(HISTORY_PER_MINUTE, clock)
        self._me: dict[str, str] = {}

    async def __call__(self, nudge: Nudge, now: datetime, turn: Turn) -> Delivered:
        posted: dict[int, tuple[str, str]] = {}  # part → (ts, text) already in Slack
        identity = await slack_identity(self.deps.engine, nudge.recipient_id)
        if identity is None:
            raise DeliveryError("no Slack account", recipient_gone=True)
        user_id, channel = identity.user_id, identity.conversation
        if nudge.uncertain and channel is not None:
            posted, total = await self._posted_parts(nudge, channel)
            if posted and len(posted) >= total:
                # the row keeps the last post's ts (it carries the buttons, and updates
                # after a click go there) and the first post's text
                ts, text = posted[max(posted)][0], posted[min(posted)][1]
                return Delivered(channel=channel, ts=ts, text=text)
        parts, content, locale = await self._render(nudge, identity, now)
        channel = channel or await self._open(user_id, now)
        for index, part in enumerate(parts):
            if index in posted:
                continue
            try:
                channel, ts = await self._post(
                    nudge, user_id, channel, part, (index, len(parts)), turn, now
                )
            except DeliveryError as error:
                error.uncertain = error.uncertain or bool(posted)  # sent in part
                raise
            posted[index] = (ts, part.text)
        if content is not None and content.pack is not None:
            await turn()
            await self._attach_pack(content.pack, channel, locale)
        if content is not None and content.digest is not None:
            await turn()
            await self._attach_chart(content.digest, channel, locale)
        ts, text = posted[max(posted)][0], posted[0][1]  # the buttons' post; the first text
        return Delivered(channel=channel, ts=ts, text=text)

    async def token_works(self) -> bool:
        """Whether Slack accepts the bot's token now (`auth.test`)."""
        try:
            await self._whoami()
        except (TokenRefused, DeliveryError) as exc:
            log.warning("auth.test: the token does not work yet (%s)", exc)
            return False
        return True

    async def _whoami(self) -> dict[str, str]:
        """The bot's own user and bot ids (`auth.test`)."""
        try:
            response = await self.client.auth_test()
        except SlackApiError as exc:
            error = _error(exc)[1]
            if error in TOKEN_ERRORS:
                raise TokenRefused(error) from exc
            raise DeliveryError(f"auth.test: {error}", uncertain=True) from exc
        except (TimeoutError, ClientError) as exc:
            raise DeliveryError(f"auth.test network: {type(exc).__name__}", uncertain=True) from exc
        self._me = {"user": response.get("user_id") or "", "bot": response.get("bot_id") or ""}
        return self._me

    async def _render(
        self, nudge: Nudge, identity: ChatIdentity, now: datetime
    ) -> tuple[list[Message], NudgeContent | None, str]:
        policy = self.deps.policy
        if is_notice(nudge.kind):
            notice = await notice_content(self.deps.engine, nudge, policy=policy)
            locale = await self._locale(notice.recipient, identity, now)
            return _parts(notice_message(notice, policy=policy, locale=locale)), None, locale
        content = await nudge_content(self.deps.engine, nudge, policy=policy, now=now)
        locale = await self._locale(content.recipient, identity, now)
        message = nudge_message(content, policy=policy, locale=locale)
        return _parts(message), content, locale

    async def _locale(self, person: Person, identity: ChatIdentity, now: datetime) -> str:
        """The stored language; someone never looked up is looked up first if Tier 4's
        budget has room this minute (else the look-up comes later, in the background)."""
        if not person.active:
            raise NoLongerNeeded("the recipient left")
        if identity.refreshed_at is None and self.refresher.budget.take():
            profile = await self.deps.gateway.quick_profile(identity.user_id)
            if profile is not None:
                await remember_profile(
                    self.deps.engine,
                    user_id=identity.user_id,
                    locale=profile.locale,
                    tz=profile.tz,
                    deleted=profile.deleted,
                    now=now,
                )
                if profile.deleted:
                    raise NoLongerNeeded("deleted in Slack")
                if profile.locale:
                    return profile.locale
        return stored_locale(person, identity, self.deps.policy)

    async def _post(
        self,
        nudge: Nudge,
        user_id: str,
        channel: str,
        part: Message,
        place: tuple[int, int],
        turn: Turn,
        now: datetime,
    ) -> tuple[str, str]:
        """Post one part (`place`: its index and the number of parts) to a Slack user; a
        stale DM channel id is opened afresh once."""
        index, total = place
        metadata = {
            "event_type": EVENT_TYPE,
            "event_payload": {
                "outbox_id": nudge.id,
                "kind": nudge.kind,
                "part": index,
                "parts": total,
            },
        }
        reopened = False
        while True:
            await turn()
            try:
                response = await self.client.chat_postMessage(
                    channel=channel, metadata=metadata, **part.as_kwargs()
                )
            except SlackApiError as exc:
                if _error(exc)[1] == "channel_not_found" and not reopened:
                    channel, reopened = await self._open(user_id, now), True
                    continue
                raise await self._explain(exc, user_id, now) from exc
            except (TimeoutError, ClientError) as exc:
                # the request may have reached Slack: look before posting it again
                raise DeliveryError(f"network: {type(exc).__name__}", uncertain=True) from exc
            return response["channel"], response["ts"]

    async def _posted_parts(
        self, nudge: Nudge, channel: str
    ) -> tuple[dict[int, tuple[str, str]], int]:
        """The parts of this row the bot already posted in `channel` (part → ts, text), and
        how many parts the message had; looked up in the DM's history since just before
        the row was first claimed."""
        if not self._me:
            await self._whoami()
        since = (nudge.first_claimed_at or nudge.created_at) - HISTORY_LOOKBACK
        found: dict[int, tuple[str, str]] = {}
        total, cursor = 1, None
        for _page in range(HISTORY_PAGES):
            if not self.history_budget.take():
                raise DeliveryError(
                    "history look-ups over budget",
                    retry_after=max(self.history_budget.wait(), 1.0),
                    posting_limited=False,
                    uncertain=True,
                )
            response = await self._history(channel, since, cursor)
            if response is None:
                return {}, 1
            for message in response.get("messages") or []:
                part = self._our_part(message, nudge)
                if part is not None:
                    found[part[0]] = (str(message.get("ts")), str(message.get("text") or ""))
                    total = part[1]
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                break
        return found, total

    async def _history(self, channel: str, since: datetime, cursor: str | None) -> Any:
        try:
            return await self.client.conversations_history(
                channel=channel,
                oldest=f"{since.timestamp():.6f}",
                include_all_metadata=True,
                limit=HISTORY_PAGE,
                cursor=cursor,
            )
        except SlackApiError as exc:
            status, error = _error(exc)
            if status == 429 or error == "ratelimited":
                raise DeliveryError(
                    "history ratelimited",
                    retry_after=_retry_after(exc),
                    posting_limited=False,
                    uncertain=True,
                ) from exc
            if error in TOKEN_ERRORS:
                raise TokenRefused(error) from exc
            if error in CANNOT_LOOK:
                log.warning("cannot look for an earlier post in %s (%s); posting", channel, error)
                return None
            raise DeliveryError(f"history: {error}", uncertain=True) from exc
        except (TimeoutError, ClientError) as exc:
            raise DeliveryError(f"history network: {type(exc).__name__}", uncertain=True) from exc

    def _our_part(self, message: dict[str, Any], nudge: Nudge) -> tuple[int, int] | None:
        """(part, parts) if `message` is the bot's own post of this row."""
        mine = (self._me.get("user") and message.get("user") == self._me["user"]) or (
            self._me.get("bot") and message.get("bot_id") == self._me["bot"]
        )
        metadata = message.get("metadata") or {}
        if not mine or metadata.get("event_type") != EVENT_TYPE:
            return None
        payload = metadata.get("event_payload") or {}
        if payload.get("outbox_id") != nudge.id:
            return None
        try:
            return int(payload.get("part", 0)), max(1, int(payload.get("parts", 1)))
        except (TypeError, ValueError):
            return None

    async def _attach_pack(self, pack: PrepPack, channel: str, locale: str) -> None:
        """The full pack as a Markdown file under the summary; the summary stands alone if
        the upload fails (and `prep-pack` prints the same pack)."""
        name = pack.employee.name
        try:
            await self.client.files_upload_v2(
                channel=channel,
                content=to_markdown(pack, policy=self.deps.policy, locale=locale),
                filename=f"prep-pack-{pack.cycle.name}-{pack.employee.id}.md",
                title=t("prep.title", locale, name=name, cycle=pack.cycle.name),
                initial_comment=file_comment(pack, locale=locale),  # mrkdwn: escaped
            )
        except (SlackApiError, TimeoutError, ClientError) as exc:
            log.error(
                "could not attach the prep pack for %s (%s)",
                pack.employee.id,
                type(exc).__name__,
            )

    async def _attach_chart(self, digest: CoverageDigest, channel: str, locale: str) -> None:
        """HR's digest chart as an image under the digest; the digest stands alone if the
        upload fails (its button still sends the full table)."""
        day = digest.at.date().isoformat()
        try:
            await self.client.files_upload_v2(
                channel=channel,
                content=await chart_png(digest, locale=locale),
                filename=f"cadence-coverage-{day}.png",
                title=t("hr_digest.chart_title", locale, date=day),
                alt_txt=t("hr_digest.chart_alt", locale),
            )
        except (SlackApiError, TimeoutError, ClientError) as exc:
            log.error("could not attach the coverage chart (%s)", type(exc).__name__)

    async def _open(self, user_id: str, now: datetime) -> str:
        try:
            response = await self.client.conversations_open(users=user_id)
        except SlackApiError as exc:
            raise await self._explain(exc, user_id, None) from exc
        except (TimeoutError, ClientError) as exc:
            raise DeliveryError(f"network: {type(exc).__name__}") from exc
        channel = response["channel"]["id"]
        await remember_dm_channel(self.deps.engine, user_id, channel, now=now)
        return channel

    async def _explain(
        self, exc: SlackApiError, user_id: str, now: datetime | None
    ) -> DeliveryError | TokenRefused:
        status, error = _error(exc)
        if status == 429 or error == "ratelimited":
            retry_after = _retry_after(exc)
            return DeliveryError(f"ratelimited ({retry_after:g}s)", retry_after=retry_after)
        if error in TOKEN_ERRORS:
            return TokenRefused(error)
        if error in GONE or error == "channel_not_found":
            profile = await self.deps.gateway.profile(user_id)
            if profile is not None and profile.deleted and now is not None:
                await remember_profile(
                    self.deps.engine,
                    user_id=user_id,
                    locale=profile.locale,
                    tz=profile.tz,
                    deleted=True,
                    now=now,
                )
            return DeliveryError(f"cannot reach the user: {error}", recipient_gone=True)
        return DeliveryError(error, uncertain=status >= 500 or error in MAYBE_DONE)
