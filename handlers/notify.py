"""After a talk is saved: send what it owes people (its notices), refresh their Home tabs."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.deps import Deps
from bot.logs import failure
from bot.overview import overview
from bot.talks import Recorded
from handlers.blocks.home import home_view

log = logging.getLogger(__name__)


async def announce_recorded(deps: Deps, rec: Recorded) -> None:
    """Send the record's notices (the employee's record, the manager's confirmation, written
    with the talk) at once, and refresh the Home tab of everyone concerned."""
    deps.kick()
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
        failure(log, "could not publish App Home for %s", user_id)
