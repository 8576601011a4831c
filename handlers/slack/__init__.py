"""The Slack edge. One convention for every feature (talks, Home, nudges, goals, milestones,
self-assessment, interview dates, reviews):

- `ids.py`: every id a payload carries back (the command, callback, action and block ids,
  private_metadata and button-value keys and their encoders): the shared ones, then one
  section per feature, each name prefixed by its feature. Nobody else spells an id, and a
  value once sent never changes (stored messages and open modals carry it).
- `parse.py`: every payload read into a typed value, one section per feature: pure
  functions (no Bolt, no database) that return a draft or value, or raise `Invalid` (field →
  problem, shown like the domain's) or `parse.Unreadable` (a prompt key). One date parser,
  `parse.day`. An unreadable record id is 0: the domain refuses it as unknown.
- `blocks/*`: pure Block Kit builders from plain data; they import `ids`, never define one.
- a listener module per feature: ack → parse → one domain call → builder → respond or send
  (a modal's submission acks after the save, with the problems under its fields), every
  listener registered through the guard (`guard.py`). An answer to one person goes through
  `tell.py` (where they acted, else a DM; Slack refusing is logged by class, not raised).
  `budget.py`, `opening.py` and `notify.py` are the shared machinery around the domain
  call (Slack's 3 s, opening modals, sending and redrawing notices).
"""

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
        digest,
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
    digest.register(app, deps)
    options.register(app, deps)
    self_assessment.register(app, deps)
    reviews.register(app, deps)
