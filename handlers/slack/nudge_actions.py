"""Answers to nudges: log the talk now, snooze, skip with a reason, mark an action done."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import choices
from bot.engine.dispatch import NoLongerNeeded
from bot.engine.nudge_content import nudge_content
from bot.records import talks
from bot.slack.deps import Deps
from handlers.slack import ids, parse
from handlers.slack.blocks.messages import refusal
from handlers.slack.blocks.nudges import nudge_message, settled_message
from handlers.slack.commands import record_view
from handlers.slack.notify import note_payload_place
from handlers.slack.opening import open_form
from handlers.slack.tell import answer
from prompts import t
from storage.models import Nudge

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the nudge listeners."""
    app.action(ids.NUDGE_LOG_TALK_ACTION)(partial(log_talk, deps=deps))
    app.action(ids.NUDGE_SNOOZE)(partial(snooze, deps=deps))
    app.action(ids.NUDGE_SKIP)(partial(skip, deps=deps))
    app.action(ids.NUDGE_ACTION_DONE)(partial(action_done, deps=deps))


async def _settle(
    client: AsyncWebClient, deps: Deps, body: dict[str, Any], nudge: Nudge, note: str, locale: str
) -> None:
    """Show the choice in the nudge's own message: where the outbox says it was sent (never
    where the payload says), drawn from the database (never from the payload's blocks)."""
    if nudge.channel is None or nudge.ts is None:
        log.warning("nudge %s has no sent message to update", nudge.id)
        return
    note_payload_place([nudge], parse.clicked(body), what="nudge")
    try:
        content = await nudge_content(deps.engine, nudge, policy=deps.policy, now=deps.clock())
        drawn = nudge_message(content, policy=deps.policy, locale=locale).last_part().as_kwargs()
    except (NoLongerNeeded, talks.NotAllowed, KeyError, ValueError):
        drawn = {"text": nudge.sent_text or note, "blocks": []}
    settled = settled_message(drawn, note)
    try:
        await client.chat_update(channel=nudge.channel, ts=nudge.ts, **settled.as_kwargs())
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        log.warning("could not update nudge %s: %s", nudge.id, error)


async def _refuse(
    client: AsyncWebClient,
    deps: Deps,
    body: dict[str, Any],
    refused: talks.NotAllowed,
    locale: str,
) -> None:
    """Say why not, where the nudge was clicked."""
    user_id = body["user"]["id"]
    message = refusal(refused.key, locale, **refused.params)
    await answer(deps, user_id, message, client=client, channel=parse.clicked(body).channel)


async def log_talk(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    respond: Any,
    deps: Deps,
) -> None:
    """Open the record form set to the nudge's report and kind of talk (a button, or the
    select of a milestone nudge with many people); the form re-checks who may log it."""
    await ack()
    user_id, choice = body["user"]["id"], parse.nudge_choice(action)

    async def form(locale: str) -> dict[str, Any]:
        actor, employee = await deps.person_key(user_id), await deps.person_ref(choice.employee_id)
        return await record_view(deps, actor, employee, locale, kind=choice.kind)

    await open_form(
        client, deps, trigger_id=body["trigger_id"], user_id=user_id, build=form, respond=respond
    )


async def snooze(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Bring the nudge back tomorrow or next week."""
    await ack()
    user_id, choice = body["user"]["id"], parse.nudge_choice(action)
    locale = await deps.locale_for(user_id)
    try:
        snoozed = await choices.snooze(
            deps.engine,
            nudge_id=choice.nudge_id,
            actor_id=await deps.person_key(user_id),
            until=choice.until,
            policy=deps.policy,
            now=deps.clock(),
        )
    except talks.NotAllowed as refused:
        await _refuse(client, deps, body, refused, locale)
        return
    when = snoozed.until.strftime("%Y-%m-%d %H:%M")
    await _settle(client, deps, body, snoozed.nudge, t("nudge.snoozed", locale, when=when), locale)


async def skip(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Skip this one, with the reason given."""
    await ack()
    user_id, choice = body["user"]["id"], parse.nudge_choice(action)
    locale = await deps.locale_for(user_id)
    try:
        nudge = await choices.skip(
            deps.engine,
            nudge_id=choice.nudge_id,
            actor_id=await deps.person_key(user_id),
            reason=choice.reason,
            now=deps.clock(),
        )
    except talks.NotAllowed as refused:
        await _refuse(client, deps, body, refused, locale)
        return
    label = t(f"nudge.skip_{choice.reason}", locale)
    await _settle(client, deps, body, nudge, t("nudge.skipped", locale, reason=label), locale)


async def action_done(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Mark the nudge's action item done."""
    await ack()
    user_id, choice = body["user"]["id"], parse.nudge_choice(action)
    locale = await deps.locale_for(user_id)
    try:
        done = await choices.complete_action(
            deps.engine,
            action_id=choice.action_id,
            actor_id=await deps.person_key(user_id),
            now=deps.clock(),
            nudge_id=choice.nudge_id,
        )
    except talks.NotAllowed as refused:
        await _refuse(client, deps, body, refused, locale)
        return
    if done.nudge is not None:
        await _settle(client, deps, body, done.nudge, t("nudge.done", locale), locale)
