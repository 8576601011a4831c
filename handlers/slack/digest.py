"""The HR digest's **Full table** button: the coverage table with its charts, as an HTML
file in the HR person's DM. HR's alone: the clicker is checked, not the message."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotAllowed
from bot.logs import describe
from bot.org.worktime import policy_today
from bot.records.coverage_digest import coverage_digest, file_name, full_table_html
from bot.slack.deps import Deps
from handlers.slack import ids
from handlers.slack.blocks.messages import refusal
from handlers.slack.tell import NOT_DELIVERED, answer
from prompts import t

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the digest's listener."""
    app.action(ids.DIGEST_FULL_TABLE)(partial(full_table, deps=deps))


async def full_table(ack: Any, body: dict[str, Any], client: AsyncWebClient, deps: Deps) -> None:
    """Send the clicker, if they are in HR, the full table as of now."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    now = deps.clock()
    try:
        digest = await coverage_digest(
            deps.engine, reader_id=await deps.person_key(user_id), policy=deps.policy, now=now
        )
    except NotAllowed as refused:
        await answer(deps, user_id, refusal(refused.key, locale, **refused.params), client=client)
        return
    day = policy_today(deps.policy, now).isoformat()
    try:
        await client.files_upload_v2(
            channel=await deps.gateway.dm_channel(user_id),
            content=await full_table_html(digest, locale=locale),
            filename=file_name(digest, deps.policy),
            title=t("hr_digest.file_title", locale, date=day),
            initial_comment=t("hr_digest.file_comment", locale, date=day),
        )
    except NOT_DELIVERED as exc:
        log.warning("could not send the coverage table to %s: %s", user_id, describe(exc))
        await answer(deps, user_id, refusal("hr_digest.file_failed", locale), client=client)
