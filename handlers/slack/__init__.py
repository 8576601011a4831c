"""Slack listeners: thin edges that parse, call a service, render and respond."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# The gateway imports handlers.slack.blocks: no import of bot.slack.deps at load time.
if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.slack.deps import Deps


def register(bolt: AsyncApp, deps: Deps) -> None:
    """Attach every listener to the app, each behind the guard (handlers/slack/guard.py)."""
    from handlers.slack import (
        actions,
        commands,
        events,
        goals,
        nudge_actions,
        options,
        reviews,
        self_assessment,
        views,
    )
    from handlers.slack.guard import GuardedApp

    app: Any = GuardedApp(bolt, deps)
    events.register(app, deps)
    commands.register(app, deps)
    views.register(app, deps)
    actions.register(app, deps)
    goals.register(app, deps)
    nudge_actions.register(app, deps)
    options.register(app, deps)
    self_assessment.register(app, deps)
    reviews.register(app, deps)
