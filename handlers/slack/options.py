"""Options of the report pickers, loaded as the user types (`external_select`): a static
select stops at 100 people, a search does not."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.errors import NotAllowed
from bot.org import pickers
from bot.slack.deps import Deps
from handlers.slack import ids, parse
from handlers.slack.blocks import goal_views as gv
from handlers.slack.blocks.modals import report_options


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the option loaders."""
    app.options(ids.TALK_PICK_REPORT)(partial(report_picker, deps=deps))
    app.options(ids.GOAL_EMPLOYEE_PICK)(partial(goal_picker, deps=deps))


async def report_picker(ack: Any, body: dict[str, Any], deps: Deps) -> None:
    """Whom the record form may be about: the actor's reports (HR: anyone) matching."""
    try:
        found = await pickers.pickable_people(
            deps.engine,
            actor_id=await deps.person_key(body["user"]["id"]),
            typed=parse.typed_search(body, pickers.TYPED_LIMIT),
        )
    except NotAllowed:
        await ack(options=[])
        return
    await ack(options=report_options(found.people))


async def goal_picker(ack: Any, body: dict[str, Any], deps: Deps) -> None:
    """Whose goal: "Myself" (proposed to the actor's manager), then the matching reports."""
    user_id, typed = body["user"]["id"], parse.typed_search(body, pickers.TYPED_LIMIT)
    try:
        actor = await deps.person_key(user_id)
        found = await pickers.pickable_people(deps.engine, actor_id=actor, typed=typed)
    except NotAllowed:
        await ack(options=[])
        return
    locale = await deps.locale_for(user_id)
    options = gv.employee_options(
        found.people, actor=found.actor, manager=found.manager, typed=typed, locale=locale
    )
    await ack(options=options)
