"""`/checkin`: ack at once, then open the record form, the picker, or explain."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import talks
from bot.deps import Deps
from handlers import goals, parse, reviews, self_assessment
from handlers.blocks.messages import help_message, refusal
from handlers.blocks.modals import picker_modal, record_modal

DEFAULT_KIND = "checkin"


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the slash command."""
    app.command("/checkin")(partial(checkin, deps=deps))


async def checkin(
    ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient, deps: Deps
) -> None:
    """Answer `/checkin [@someone | help]`."""
    await ack()
    user_id = command["user_id"]
    locale = await deps.locale_for(user_id)
    request = parse.checkin_command(command.get("text"))
    if request.action == "goal":
        await goals.goal_command(command, respond, client, deps, request.rest, locale)
        return
    if request.action == "milestone":
        await goals.milestone_command(command, respond, client, deps, request.rest, locale)
        return
    if request.action == "self":
        await self_assessment.self_command(command, respond, client, deps, request.rest, locale)
        return
    if request.action == "review":
        await reviews.review_command(command, respond, client, deps, request.rest, locale)
        return
    if request.action in ("help", "unknown"):
        message = help_message(locale, unknown=request.action == "unknown")
        await respond(response_type="ephemeral", **message.as_kwargs())
        return
    try:
        if request.action == "pick":
            _, any_user = await talks.report_choices(deps.engine, actor_id=user_id)
            view = picker_modal(locale=locale, any_user=any_user)
        else:
            employee_id = await talks.find_employee(
                deps.engine, user_id=request.user_id, handle=request.handle
            )
            view = await record_view(deps, user_id, employee_id, locale)
    except talks.NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
        await respond(response_type="ephemeral", **message.as_kwargs())
        return
    await client.views_open(trigger_id=command["trigger_id"], view=view)


async def record_view(
    deps: Deps, actor_id: str, employee_id: str, locale: str, *, kind: str = DEFAULT_KIND
) -> dict[str, Any]:
    """The record form for a pair, after checking the actor may log it."""
    ctx = await talks.record_context(
        deps.engine,
        actor_id=actor_id,
        employee_id=employee_id,
        policy=deps.policy,
        now=deps.clock(),
    )
    if kind not in deps.policy.dialogue_kinds():
        kind = deps.policy.dialogue_kinds()[0]
    return record_modal(ctx, policy=deps.policy, locale=locale, kind=kind, today=ctx.today)
