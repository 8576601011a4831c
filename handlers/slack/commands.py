"""`/checkin`: ack at once, open a loading modal with the trigger, then put the record form,
the picker, or the reason why not in it; help and milestones answer in the channel."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.records import talks
from bot.slack.deps import Deps
from handlers.slack import goals, ids, my_data, parse, reviews, self_assessment
from handlers.slack.blocks.messages import help_message
from handlers.slack.blocks.modals import picker_modal, record_modal
from handlers.slack.opening import open_form
from handlers.slack.tell import answer

DEFAULT_KIND = "checkin"


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the slash command."""
    app.command(ids.COMMAND)(partial(checkin, deps=deps))


async def checkin(
    ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient, deps: Deps
) -> None:
    """Answer `/checkin [@someone | help]`."""
    await ack()
    user_id = command["user_id"]
    request = parse.checkin_command(command.get("text"))
    if request.action == "goal":
        await goals.goal_command(command, respond, client, deps, request.rest)
        return
    if request.action == "milestone":
        await goals.milestone_command(command, respond, client, deps, request.rest)
        return
    if request.action == "self":
        await self_assessment.self_command(command, respond, client, deps, request.rest)
        return
    if request.action == "review":
        await reviews.review_command(command, respond, client, deps, request.rest)
        return
    if request.action == "my_data":
        await my_data.my_data_command(command, respond, client, deps)
        return
    if request.action in ("help", "unknown"):
        locale = await deps.locale_for(user_id)
        message = help_message(locale, unknown=request.action == "unknown")
        await answer(deps, user_id, message, respond=respond)
        return

    async def form(locale: str) -> dict[str, Any]:
        actor = await deps.person_key(user_id)
        if request.action == "pick":
            _, any_user = await talks.report_choices(deps.engine, actor_id=actor)
            return picker_modal(locale=locale, any_user=any_user)
        named = await deps.person_key(request.user_id) if request.user_id else None
        employee_id = await talks.find_employee(deps.engine, person_id=named, handle=request.handle)
        return await record_view(deps, actor, employee_id, locale)

    await open_form(
        client, deps, trigger_id=command["trigger_id"], user_id=user_id, build=form, respond=respond
    )


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
    return record_form(deps, ctx, locale, kind=kind)


def record_form(
    deps: Deps, ctx: talks.RecordContext, locale: str, *, kind: str = DEFAULT_KIND
) -> dict[str, Any]:
    """The record form drawn from what `talks.record_context` gathered."""
    if kind not in deps.policy.dialogue_kinds():
        kind = deps.policy.dialogue_kinds()[0]
    return record_modal(ctx, policy=deps.policy, locale=locale, kind=kind, today=ctx.today)
