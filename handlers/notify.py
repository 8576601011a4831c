"""After a talk is saved: tell the employee, each action owner and the manager."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.overview import overview
from bot.talks import Recorded
from handlers.blocks.home import home_view
from handlers.blocks.messages import employee_record, manager_confirmation

log = logging.getLogger(__name__)


async def announce_recorded(deps: Deps, rec: Recorded) -> None:
    """DM the record to the employee and a confirmation to the manager; refresh both homes."""
    employee_locale = await deps.locale_for(rec.employee.slack_id)
    manager_locale = await deps.locale_for(rec.manager.slack_id)
    sends = [
        (rec.employee.slack_id, employee_record(rec, policy=deps.policy, locale=employee_locale)),
        (
            rec.manager.slack_id,
            manager_confirmation(rec, policy=deps.policy, locale=manager_locale),
        ),
    ]
    for user_id, message in sends:
        try:
            await deps.gateway.dm(user_id, message.text, message.blocks)
        except SlackApiError:
            # The record is saved; the person still sees it in App Home.
            log.exception("could not DM %s about talk %s", user_id, rec.talk.id)
    for user_id in {rec.employee.slack_id, rec.manager.slack_id, rec.talk.logged_by}:
        await publish_home(deps, user_id)


async def publish_home(deps: Deps, user_id: str, page: int = 1) -> None:
    """Render and publish a user's Home tab."""
    locale = await deps.locale_for(user_id)
    data = await overview(
        deps.engine, user_id=user_id, policy=deps.policy, now=deps.clock(), page=page
    )
    try:
        await deps.gateway.client.views_publish(
            user_id=user_id, view=home_view(data, policy=deps.policy, locale=locale)
        )
    except SlackApiError:
        log.exception("could not publish App Home for %s", user_id)
