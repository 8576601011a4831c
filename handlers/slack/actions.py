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
from handlers.slack.tell import answer


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the interactive listeners."""
    app.action(ids.TALK_ACKNOWLEDGE)(partial(acknowledge, deps=deps))
    app.action(ids.HOME_LOG_TALK)(partial(log_from_home, deps=deps))
    app.action(ids.HOME_PAGE)(partial(turn_home_page, deps=deps))  # Previous and Next
    app.action(ids.TALK_ADD_ACTION_ROW)(partial(redraw_form, deps=deps))
    app.action(ids.TALK_KIND_SELECT)(partial(redraw_form, deps=deps))


async def acknowledge(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """The employee acknowledges a record: store it, redraw the record DM where the outbox
    says it was sent, tell the manager."""
    await ack()
    user_id, clicked = body["user"]["id"], parse.clicked(body)
    locale = await deps.locale_for(user_id)
    try:
        done = await talks.acknowledge(
            deps.engine,
            talk_id=parse.button_record_id(action),
            actor_id=await deps.person_key(user_id),
            now=deps.clock(),
        )
    except talks.NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
        await answer(deps, user_id, message, client=client, channel=clicked.channel)
        return
    note_payload_place(done.posted, clicked, what="talk record")
    for row in done.posted:
        await redraw(deps, row)
    if done.first:
        deps.kick()  # the manager's notice was written with the acknowledgement


async def log_from_home(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Open the record form for the report whose "Log a talk" button was clicked."""
    await ack()
    user_id, employee_id = body["user"]["id"], parse.log_talk_employee(action)

    async def form(locale: str) -> dict[str, Any]:
        actor, employee = await deps.person_key(user_id), await deps.person_ref(employee_id)
        return await record_view(deps, actor, employee, locale)

    await open_form(client, deps, trigger_id=body["trigger_id"], user_id=user_id, build=form)


async def turn_home_page(
    ack: Any, body: dict[str, Any], action: dict[str, Any], deps: Deps
) -> None:
    """Show another page of the manager's reports."""
    await ack()
    await publish_home(deps, body["user"]["id"], parse.home_page(action))


async def redraw_form(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, deps: Deps
) -> None:
    """Redraw the record form for a new kind (hints) or one more action row; typing is kept."""
    await ack()
    view, user_id = body["view"], body["user"]["id"]
    wanted = parse.talk_form_redraw(view, action)
    locale = await deps.locale_for(user_id)
    try:
        ctx = await talks.record_context(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            employee_id=await deps.person_ref(wanted.employee_id),
            policy=deps.policy,
            now=deps.clock(),
        )
    except talks.NotAllowed:
        return
    kind = wanted.kind or DEFAULT_KIND
    form = record_modal(
        ctx, policy=deps.policy, locale=locale, kind=kind, today=ctx.today, rows=wanted.rows
    )
    await client.views_update(view_id=view["id"], hash=view.get("hash"), view=form)
