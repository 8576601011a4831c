"""Every activity Teams sends, routed to the listener of its feature. Each listener: parse →
one domain call → card → answer (an invoke's body, or a reply in the chat).

- `message`: a command typed in the personal chat (`checkin`, `checkin goal`, `self`,
  `review`, `home`, `help`); Teams may deliver one twice (a retry keeps its id): the second
  is ignored.
- `invoke` `task/fetch` / `task/submit`: a dialog's form asked for / submitted.
- `invoke` `adaptiveCard/action`: an `Action.Execute` button (acknowledge, snooze, skip,
  done, confirm): answered with the card it becomes, which Teams puts in place.
- `invoke` `application/search`: a people picker's typeahead.
- `invoke` `fileConsent/invoke`: the person accepted (or declined) their `my data` file.
- `installationUpdate` / `conversationUpdate`: the app was added: the welcome.
"""

from __future__ import annotations

import hashlib
import logging

from bot.teams.app import Answer, Incoming
from handlers.teams import actions, commands, dialogs, files
from storage import queries
from storage.db import session_scope

log = logging.getLogger(__name__)

ADDED = frozenset({"add", "add-upgrade"})


async def answer(incoming: Incoming) -> Answer:
    """The answer to one activity."""
    activity = incoming.activity
    kind = activity.type
    if kind == "invoke":
        name = activity.name or ""
        if name == "task/fetch":
            return await dialogs.fetch(incoming)
        if name == "task/submit":
            return await dialogs.submit(incoming)
        if name == "adaptiveCard/action":
            return await actions.execute(incoming)
        if name == "application/search":
            return await dialogs.search(incoming)
        if name == "fileConsent/invoke":
            return await files.consent(incoming)
        return Answer(200, {})
    if kind == "message":
        if not await _first_delivery(incoming):
            return Answer(200)
        await commands.on_message(incoming)
        return Answer(200)
    installed = kind == "installationUpdate" and (activity.action or "add") in ADDED
    if installed or (kind == "conversationUpdate" and _bot_added(incoming)):
        await commands.welcome(incoming)
    return Answer(200)


def _bot_added(incoming: Incoming) -> bool:
    activity = incoming.activity
    bot = activity.recipient.id if activity.recipient is not None else None
    return any(m.id == bot for m in activity.members_added or [])


async def _first_delivery(incoming: Incoming) -> bool:
    """Whether this message is seen for the first time (Teams retries with the same id)."""
    activity_id = incoming.activity.id
    if not activity_id:
        return True
    digest = hashlib.sha256(activity_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    async with session_scope(incoming.deps.engine) as session:
        first = await queries.claim_event(session, f"teams:{digest}", incoming.deps.clock())
        await session.commit()
    if not first:
        log.info("a Teams message delivered again was ignored")
    return first
