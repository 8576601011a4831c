"""Modal submissions: validate and save before the ack, announce after it."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import talks
from bot.deps import Deps
from bot.logs import failure
from handlers import ids, parse
from handlers.commands import record_view
from handlers.notify import announce_recorded
from prompts import t

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the modal submission listeners."""
    app.view(ids.RECORD_MODAL)(partial(submit_record, deps=deps))
    app.view(ids.PICK_REPORT_MODAL)(partial(submit_pick, deps=deps))


async def submit_record(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Save the talk, or keep the form open with the problem on the exact field."""
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    employee_id = str(parse.metadata(view).get("e", ""))
    draft = parse.talk_draft(view, employee_id)
    key = talks.submission_key(view["id"], view.get("state", {}).get("values", {}))
    try:
        recorded = await talks.record_talk(
            deps.engine,
            actor_id=user_id,
            draft=draft,
            policy=deps.policy,
            now=deps.clock(),
            key=key,
        )
    except talks.Invalid as invalid:
        errors = {
            parse.error_block(name): t(p.key, locale, **p.params)
            for name, p in invalid.problems.items()
        }
        await ack(response_action="errors", errors=errors)
        return
    except talks.NotAllowed as refused:
        await ack(
            response_action="errors", errors={ids.FACTS: t(refused.key, locale, **refused.params)}
        )
        return
    except talks.SaveFailed:
        failure(log, "saving a talk failed; the form stays open")
        await ack(response_action="errors", errors={ids.FACTS: t("error.save_failed", locale)})
        return
    await ack()
    if recorded.created:
        await announce_recorded(deps, recorded)


async def submit_pick(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Swap the picker for the record form of the chosen person."""
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    employee_id = parse.picked_user(view) or ""
    try:
        form = await record_view(deps, user_id, employee_id, locale)
    except talks.NotAllowed as refused:
        await ack(
            response_action="errors",
            errors={ids.EMPLOYEE: t(refused.key, locale, **refused.params)},
        )
        return
    await ack(response_action="update", view=form)
