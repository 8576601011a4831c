"""Telling a person something from a listener: an answer where they acted, or a DM.

Slack refusing the post (or not answering) is logged, by the error's class and place only
(`bot.logs.describe`), and never raised: what the listener did is done either way, and the
guard would apologise for a failure that did not happen."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.logs import describe
from bot.slack.deps import Deps
from handlers.slack.blocks.messages import Message

log = logging.getLogger(__name__)

# What a post to Slack raises when it does not arrive: a refusal, or no answer.
NOT_DELIVERED = (SlackApiError, OSError, TimeoutError)


async def dm(deps: Deps, user_id: str, message: Message) -> bool:
    """DM `message` (in several posts when long); False, logged, when Slack refuses it."""
    try:
        await deps.gateway.dm(user_id, message.text, message.blocks)
    except NOT_DELIVERED as exc:
        log.warning("could not DM %s: %s", user_id, describe(exc))
        return False
    return True


async def answer(
    deps: Deps,
    user_id: str,
    message: Message,
    *,
    respond: Any | None = None,
    client: Any | None = None,
    channel: str | None = None,
    replace: bool = False,
) -> bool:
    """An answer only `user_id` sees, where they acted: through `respond` (a command's or a
    message's response_url; with `replace`, its first post replaces the message clicked),
    else as an ephemeral in `channel`, else (App Home, a modal) in a DM. False, logged, when
    Slack refuses it."""
    try:
        if respond is not None:
            for n, part in enumerate(message.parts()):
                await respond(
                    response_type="ephemeral",
                    replace_original=replace and n == 0,
                    **part.as_kwargs(),
                )
            return True
        if channel and client is not None:
            for part in message.parts():
                await client.chat_postEphemeral(channel=channel, user=user_id, **part.as_kwargs())
            return True
    except NOT_DELIVERED as exc:
        log.warning("could not answer %s: %s", user_id, describe(exc))
        return False
    return await dm(deps, user_id, message)
