"""Slack listeners: thin edges that parse, call a service, render and respond."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the gateway imports handlers.blocks: no import of bot.deps at load time
    from slack_bolt.async_app import AsyncApp

    from bot.deps import Deps


def register(bolt: AsyncApp, deps: Deps) -> None:
    """Attach every listener to the app, each behind the guard (handlers/guard.py)."""
    from handlers import (
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
    from handlers.guard import GuardedApp

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
