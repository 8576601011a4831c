"""Modal submissions: validate and save before the ack, within Slack's time; announce after
it. A save the database is too slow for goes on after the ack (see handlers.slack.budget)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.errors import SaveFailed
from bot.logs import failure
from bot.records import talks
from bot.slack.deps import Deps
from handlers.slack import ids, parse
from handlers.slack.blocks.waiting import loading_view, message_view
from handlers.slack.budget import Budget, late, locale_within, not_saved_yet, write
from handlers.slack.commands import record_form
from handlers.slack.notify import announce_recorded
from prompts import t

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the modal submission listeners."""
    app.view(ids.TALK_MODAL)(partial(submit_record, deps=deps))
    app.view(ids.TALK_PICK_MODAL)(partial(submit_pick, deps=deps))


async def submit_record(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Save the talk, or keep the form open with the problem on the exact field."""
    budget = Budget()
    user_id = body["user"]["id"]
    key = talks.submission_key(ids.TALK_MODAL, user_id, view["id"])
    digest = talks.form_digest(parse.form_values(view))
    now = deps.clock()

    async def save() -> talks.Recorded:
        draft = parse.talk_draft(view)  # Invalid, like the domain's, if a date is unreadable
        draft = replace(draft, employee_id=await deps.person_ref(draft.employee_id))
        return await talks.record_talk(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            draft=draft,
            policy=deps.policy,
            now=now,
            key=key,
            digest=digest,
        )

    work = write(key, save)
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(work):
        # The database is slow: keep the form (and everything typed) open; the save goes on,
        # and pressing Save again finds what it saved.
        text = not_saved_yet(known, "modal.save")
        await ack(response_action="errors", errors={ids.TALK_FACTS: text})
        recorded = await late(work, "a talk")
        if recorded is not None:
            await announce_recorded(deps, recorded)
        return
    locale = known or deps.policy.locale
    try:
        recorded = work.result()
    except talks.Invalid as invalid:
        errors = {
            ids.talk_block(name): t(p.key, locale, **p.params)
            for name, p in invalid.problems.items()
        }
        await ack(response_action="errors", errors=errors)
        return
    except talks.NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={ids.TALK_FACTS: text})
        return
    except SaveFailed:
        failure(log, "saving a talk failed; the form stays open")
        text = t("error.save_failed", locale)
        await ack(response_action="errors", errors={ids.TALK_FACTS: text})
        return
    await ack()
    await announce_recorded(deps, recorded)


async def submit_pick(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Swap the picker for the record form of the chosen person (a loading view first when
    the database is slow)."""
    budget = Budget()
    user_id = body["user"]["id"]
    picked = parse.picked_user(view)

    async def gather() -> talks.RecordContext:
        chosen = await deps.person_key(picked.slack_user) if picked.slack_user else picked.key
        return await talks.record_context(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            employee_id=chosen,
            policy=deps.policy,
            now=deps.clock(),
        )

    context = asyncio.ensure_future(gather())
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(context):
        await ack(response_action="update", view=loading_view(known))
        locale = known or await deps.locale_for(user_id)
        try:
            form = record_form(deps, await context, locale)
        except talks.NotAllowed as refused:
            form = message_view(t(refused.key, locale, **refused.params), locale=locale)
        try:
            await deps.gateway.client.views_update(view_id=view["id"], view=form)
        except SlackApiError as exc:
            log.warning("views.update of the picker for %s: %s", user_id, exc.response.get("error"))
        return
    locale = known or deps.policy.locale
    try:
        form = record_form(deps, context.result(), locale)
    except talks.NotAllowed as refused:
        await ack(
            response_action="errors",
            errors={ids.TALK_EMPLOYEE: t(refused.key, locale, **refused.params)},
        )
        return
    await ack(response_action="update", view=form)
