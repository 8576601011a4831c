"""Sending one nudge or notice through Teams: content from the database, words in the
recipient's language, an Adaptive Card posted proactively to the personal chat stored on
their Teams identity, and Teams' answers turned into what the dispatcher needs to decide.

Teams lets a bot message someone only once the app is installed for them: a Teams account
with no stored chat is unreachable (the row waits, counted), and so is one whose chat Teams
no longer knows (403/404: the app was removed), whose stored chat is forgotten. The Bot
Connector has no idempotency key and the bot cannot read its chat's history, so a post that
timed out or got a 502/504 is posted again: a message possibly twice beats one never."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from bot.engine.dispatch import (
    Delivered,
    DeliveryError,
    NoLongerNeeded,
    TokenRefused,
    Turn,
    Unreachable,
)
from bot.engine.kinds import is_notice
from bot.engine.notice_content import notice_content
from bot.engine.nudge_content import nudge_content
from bot.org.profiles import stored_locale
from bot.records.coverage_digest import card_chart_png
from bot.review.prep_pack_text import to_markdown
from bot.teams.app import TeamsDeps
from bot.teams.connector import ConnectorError, ConversationReference
from handlers.teams.cards.digest import digest_card
from handlers.teams.cards.kit import TeamsMessage
from handlers.teams.cards.notices import notice_card
from handlers.teams.cards.nudges import nudge_card
from handlers.teams.cards.prep_pack import full_pack
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, Platform

log = logging.getLogger(__name__)

GONE = frozenset({403, 404})  # the app was removed, or the chat is gone: unreachable now


def can_reach(identity: ChatIdentity) -> bool:
    """Whether Teams lets the bot message this account: a chat with it is known."""
    return ConversationReference.loads(identity.conversation) is not None


class TeamsNudgeSender:
    """The dispatcher's `send` for Teams."""

    def __init__(self, deps: TeamsDeps) -> None:
        self.deps = deps

    async def _chat(self, person_key: str) -> tuple[ChatIdentity, ConversationReference] | None:
        """The person's Teams identity and the chat stored on it, if there is one."""
        async with session_scope(self.deps.engine) as session:
            identity = await queries.identity_on(session, person_key, Platform.TEAMS)
        reference = ConversationReference.loads(identity.conversation) if identity else None
        return (identity, reference) if identity is not None and reference is not None else None

    async def __call__(self, nudge: Nudge, now: datetime, turn: Turn) -> Delivered:
        chat = await self._chat(nudge.recipient_id)
        if chat is None:
            raise Unreachable()
        identity, reference = chat
        parts = await self._render(nudge, identity, now)
        first_text, last_id = parts[0].summary, ""
        for index, part in enumerate(parts):
            await turn()
            try:
                last_id = await self.deps.connector.send(reference, part.activity())
            except ConnectorError as error:
                raise await self._explain(error, identity, now, sent_some=index > 0) from None
        return Delivered(channel=reference.conversation_id, ts=last_id, text=first_text)

    async def redraw(self, row: Nudge) -> None:
        """Draw a sent notice again where it went (the row's conversation and activity id),
        from the record as it is now; the message's last part carries its buttons."""
        chat = await self._chat(row.recipient_id)
        if chat is None or not row.channel or not row.ts:
            return
        identity, reference = chat
        try:
            notice = await notice_content(self.deps.engine, row, policy=self.deps.policy)
        except NoLongerNeeded:
            return
        locale = stored_locale(notice.recipient, identity, self.deps.policy)
        last = notice_card(notice, policy=self.deps.policy, locale=locale).parts()[-1]
        where = replace(reference, conversation_id=row.channel)
        try:
            await self.deps.connector.update(where, row.ts, last.activity())
        except ConnectorError as exc:
            log.warning("could not redraw notice %s (%s) in Teams: %s", row.id, row.kind, exc)

    async def token_works(self) -> bool:
        """Whether Entra gives the bot a token now (ends a pause)."""
        try:
            await self.deps.connector.token()
        except Exception as exc:  # MSAL raises its own kinds
            log.warning("no Bot Connector token yet (%s)", type(exc).__name__)
            return False
        return True

    async def _render(
        self, nudge: Nudge, identity: ChatIdentity, now: datetime
    ) -> list[TeamsMessage]:
        policy = self.deps.policy
        if is_notice(nudge.kind):
            notice = await notice_content(self.deps.engine, nudge, policy=policy)
            if not notice.recipient.active:
                raise NoLongerNeeded("the recipient left")
            locale = stored_locale(notice.recipient, identity, policy)
            return notice_card(notice, policy=policy, locale=locale).parts()
        content = await nudge_content(self.deps.engine, nudge, policy=policy, now=now)
        if not content.recipient.active:
            raise NoLongerNeeded("the recipient left")
        locale = stored_locale(content.recipient, identity, policy)
        if content.digest is not None:  # its chart is drawn off the event loop
            chart = await card_chart_png(content.digest, locale=locale)
            return digest_card(content.digest, chart=chart, locale=locale).parts()
        parts = nudge_card(content, policy=policy, locale=locale).parts()
        if content.pack is not None:
            # Teams takes no file from a bot without a consent card per file: the whole pack
            # follows the summary as messages of its own, the text `prep-pack` prints.
            markdown = to_markdown(content.pack, policy=policy, locale=locale)
            parts += full_pack(content.pack, markdown, locale=locale).parts()
        return parts

    async def _explain(
        self, error: ConnectorError, identity: ChatIdentity, now: datetime, *, sent_some: bool
    ) -> Exception:
        if error.token_refused:
            return TokenRefused(f"Teams: {error}")
        if error.status in GONE:
            await _forget_chat(self.deps, identity, now)
            return Unreachable()
        if error.status == 429:
            wait = error.retry_after if error.retry_after is not None else 1.0
            return DeliveryError(f"Teams 429 ({wait:g}s)", retry_after=wait, uncertain=sent_some)
        if error.retryable:  # 412, 502, 504, no answer: back off and post again
            return DeliveryError(f"Teams {error}", uncertain=sent_some)
        # 400/413: a card Teams refuses is our bug; retried a few times, then failed for good
        return DeliveryError(f"Teams refused the message: {error}", uncertain=sent_some)


async def _forget_chat(deps: TeamsDeps, identity: ChatIdentity, now: datetime) -> None:
    """Teams no longer knows this chat (the app was removed): forget it, so the account is
    unreachable until the person installs the app again and Teams tells us the new one."""
    async with session_scope(deps.engine) as session:
        stored = await session.get(ChatIdentity, identity.id)
        if stored is not None and stored.conversation == identity.conversation:
            stored.conversation, stored.updated_at = None, now
            await session.commit()
    log.info("a Teams chat is gone (the app was removed); its account waits to be reached")
