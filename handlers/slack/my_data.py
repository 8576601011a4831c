"""`/checkin my-data`: the person's own records as a JSON file in their DM, with a summary."""

from __future__ import annotations

import logging
from typing import Any

from bot.errors import NotAllowed
from bot.logs import describe
from bot.privacy.my_data import my_data
from bot.slack.deps import Deps
from handlers.slack.blocks.messages import refusal
from handlers.slack.blocks.privacy import my_data_summary
from handlers.slack.tell import NOT_DELIVERED, answer
from prompts import t

log = logging.getLogger(__name__)


async def my_data_command(command: dict[str, Any], respond: Any, client: Any, deps: Deps) -> None:
    """Build the person's file and upload it to their DM (the command was acked already)."""
    user_id = command["user_id"]
    locale = await deps.locale_for(user_id)
    person = await deps.person_key(user_id)
    try:
        data = await my_data(
            deps.engine,
            subject_id=person,
            reader=person,
            platform="slack",
            policy=deps.policy,
            now=deps.clock(),
        )
    except NotAllowed as refused:
        await answer(deps, user_id, refusal(refused.key, locale, **refused.params), respond=respond)
        return
    summary = my_data_summary(data, policy=deps.policy, locale=locale)
    try:
        await client.files_upload_v2(
            channel=await deps.gateway.dm_channel(user_id),
            content=data.to_json(),
            filename=data.file_name(),
            title=t("privacy.my_data.title", locale),
            initial_comment=summary.text,
        )
    except NOT_DELIVERED as exc:
        log.warning("could not send my-data to %s: %s", user_id, describe(exc))
        await answer(deps, user_id, refusal("privacy.my_data.failed", locale), respond=respond)
        return
    await answer(deps, user_id, refusal("privacy.my_data.sent", locale), respond=respond)
