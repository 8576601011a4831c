"""Answers to nudges: log the talk now, snooze, skip with a reason, mark an action done."""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import nudge_choices, talks
from bot.deps import Deps
from handlers import ids
from handlers.blocks.messages import refusal
from handlers.blocks.nudges import settled_message
from handlers.commands import record_view
from prompts import t


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the nudge listeners."""
    app.action(ids.NUDGE_LOG_TALK_ACTION)(partial(log_talk, deps=deps))
    app.action(ids.NUDGE_SNOOZE)(partial(snooze, deps=deps))
    app.action(ids.NUDGE_SKIP)(partial(skip, deps=deps))
    app.action(ids.NUDGE_ACTION_DONE)(partial(action_done, deps=deps))


def _choice(action: dict[str, Any]) -> dict[str, Any]:
    raw = action.get("value") or (action.get("selected_option") or {}).get("value") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def _settle(client: AsyncWebClient, body: dict[str, Any], note: str) -> None:
    message = body.get("message") or {}
    settled = settled_message(message, note)
    await client.chat_update(
        channel=body["channel"]["id"], ts=message.get("ts"), **settled.as_kwargs()
    )


async def _refuse(client: AsyncWebClient, body: dict[str, Any], key: str, locale: str) -> None:
    message = refusal(key, locale)
    await client.chat_postEphemeral(
        channel=body["channel"]["id"], user=body["user"]["id"], **message.as_kwargs()
    )


async def log_talk(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Open the record form set to the nudge's report and kind of talk (a button, or the
    select of a milestone nudge with many people); the form re-checks who may log it."""
    await ack()
    user_id, choice = body["user"]["id"], _choice(action)
    locale = await deps.locale_for(user_id)
    try:
        view = await record_view(
            deps, user_id, str(choice.get("e", "")), locale, kind=str(choice.get("k", "checkin"))
        )
    except talks.NotAllowed as refused:
        await _refuse(client, body, refused.key, locale)
        return
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def snooze(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Bring the nudge back tomorrow or next week."""
    await ack()
    user_id, choice = body["user"]["id"], _choice(action)
    locale = await deps.locale_for(user_id)
    try:
        snoozed = await nudge_choices.snooze(
            deps.engine,
            nudge_id=int(choice.get("n", 0)),
            actor_id=user_id,
            until="week" if choice.get("u") == "week" else "tomorrow",
            policy=deps.policy,
            now=deps.clock(),
        )
    except talks.NotAllowed as refused:
        await _refuse(client, body, refused.key, locale)
        return
    when = snoozed.until.strftime("%Y-%m-%d %H:%M")
    await _settle(client, body, t("nudge.snoozed", locale, when=when))


async def skip(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Skip this one, with the reason given."""
    await ack()
    user_id, choice = body["user"]["id"], _choice(action)
    locale = await deps.locale_for(user_id)
    reason = str(choice.get("r"))
    if reason not in nudge_choices.SKIP_REASONS:
        reason = "not_relevant"
    try:
        await nudge_choices.skip(
            deps.engine,
            nudge_id=int(choice.get("n", 0)),
            actor_id=user_id,
            reason=reason,
            now=deps.clock(),
        )  # type: ignore[arg-type]
    except talks.NotAllowed as refused:
        await _refuse(client, body, refused.key, locale)
        return
    label = t(f"nudge.skip_{reason}", locale)
    await _settle(client, body, t("nudge.skipped", locale, reason=label))


async def action_done(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Mark the nudge's action item done."""
    await ack()
    user_id, choice = body["user"]["id"], _choice(action)
    locale = await deps.locale_for(user_id)
    try:
        await nudge_choices.complete_action(
            deps.engine, action_id=int(choice.get("a", 0)), actor_id=user_id, now=deps.clock()
        )
    except talks.NotAllowed as refused:
        await _refuse(client, body, refused.key, locale)
        return
    await _settle(client, body, t("nudge.done", locale))
