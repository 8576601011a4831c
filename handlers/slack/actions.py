"""Buttons and selects: acknowledge a record, log from Home, page Home, grow the form."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.records import talks
from bot.slack.deps import Deps
from handlers.slack import ids, parse
from handlers.slack.blocks.messages import refusal
from handlers.slack.blocks.modals import record_modal
from handlers.slack.commands import DEFAULT_KIND, record_view
from handlers.slack.notify import note_payload_place, publish_home, redraw
from handlers.slack.opening import open_form


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the interactive listeners."""
    app.action(ids.ACKNOWLEDGE)(partial(acknowledge, deps=deps))
    app.action(ids.LOG_TALK)(partial(log_from_home, deps=deps))
    app.action(ids.HOME_PAGE)(partial(turn_home_page, deps=deps))  # Previous and Next
    app.action(ids.ADD_ACTION_ROW)(partial(redraw_form, deps=deps))
    app.action(ids.KIND_SELECT)(partial(redraw_form, deps=deps))


async def acknowledge(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """The employee acknowledges a record: store it, redraw the record DM where the outbox
    says it was sent, tell the manager."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    try:
        done = await talks.acknowledge(
            deps.engine, talk_id=int(action["value"]), actor_id=user_id, now=deps.clock()
        )
    except (talks.NotAllowed, ValueError) as refused:
        key = refused.key if isinstance(refused, talks.NotAllowed) else "refusal.unknown_talk"
        message = refusal(key, locale)
        await client.chat_postEphemeral(
            channel=body["channel"]["id"], user=user_id, **message.as_kwargs()
        )
        return
    clicked = (body.get("channel") or {}).get("id"), (body.get("message") or {}).get("ts")
    note_payload_place(done.posted, *clicked, what="talk record")
    for row in done.posted:
        await redraw(deps, row)
    if done.first:
        deps.kick()  # the manager's notice was written with the acknowledgement


async def log_from_home(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Open the record form for the report whose "Log a talk" button was clicked."""
    await ack()
    user_id = body["user"]["id"]

    async def form(locale: str) -> dict[str, Any]:
        return await record_view(deps, user_id, str(action.get("value", "")), locale)

    await open_form(client, deps, trigger_id=body["trigger_id"], user_id=user_id, build=form)


async def turn_home_page(
    ack: Any, body: dict[str, Any], action: dict[str, Any], deps: Deps
) -> None:
    """Show another page of the manager's reports."""
    await ack()
    page = int(action["value"]) if str(action.get("value", "")).isdigit() else 1
    await publish_home(deps, body["user"]["id"], page)


async def redraw_form(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Redraw the record form for a new kind (hints) or one more action row; typing is kept."""
    await ack()
    view = body["view"]
    user_id = body["user"]["id"]
    meta = parse.metadata(view)
    rows = int(meta.get("r", 1)) + (1 if action["action_id"] == ids.ADD_ACTION_ROW else 0)
    locale = await deps.locale_for(user_id)
    try:
        ctx = await talks.record_context(
            deps.engine,
            actor_id=user_id,
            employee_id=str(meta.get("e", "")),
            policy=deps.policy,
            now=deps.clock(),
        )
    except talks.NotAllowed:
        return
    kind = parse.selected_kind(view, DEFAULT_KIND)
    form = record_modal(
        ctx, policy=deps.policy, locale=locale, kind=kind, today=ctx.today, rows=rows
    )
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=form)
