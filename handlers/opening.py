"""Opening a modal within the trigger's three seconds: a loading view at once, then the form
(or a refusal) in its place once the database has answered."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.errors import NotAllowed
from handlers.blocks.messages import refusal
from handlers.blocks.waiting import loading_view, message_view
from prompts import t

log = logging.getLogger(__name__)

# What views.open answers when the trigger is too old (3 s) or was used already.
SPENT_TRIGGER = frozenset({"expired_trigger_id", "exchanged_trigger_id"})


class Opener:
    """One modal for one trigger: `open()` the loading view first, then `show()` the form
    or `refuse()` in it."""

    def __init__(self, client: AsyncWebClient, deps: Deps, trigger_id: str, user_id: str):
        self.client, self.deps, self.trigger_id, self.user_id = client, deps, trigger_id, user_id
        self.view_id: str | None = None
        self._hash: str | None = None

    async def open(self) -> bool:
        """Open the loading view (in the user's language if known without the database, else
        in both); False when the trigger had expired, so the caller tells the user."""
        view = loading_view(self.deps.gateway.known_locale(self.user_id))
        try:
            response = await self.client.views_open(trigger_id=self.trigger_id, view=view)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            if error in SPENT_TRIGGER:
                log.warning("views.open for %s: %s", self.user_id, error)
                return False
            raise
        opened = response.get("view") or {}
        self.view_id, self._hash = opened.get("id"), opened.get("hash")
        return True

    async def show(self, view: dict[str, Any]) -> None:
        """Put the form in place of the loading view (unless the user closed it meanwhile)."""
        try:
            await self.client.views_update(view_id=self.view_id, hash=self._hash, view=view)
        except SlackApiError as exc:
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            log.warning("views.update of %s for %s: %s", self.view_id, self.user_id, error)

    async def refuse(self, text: str, locale: str) -> None:
        """Say in the modal why there is no form."""
        await self.show(message_view(text, locale=locale))


async def tell_expired(deps: Deps, user_id: str, respond: Any | None = None) -> None:
    """Tell the user the form did not open and to try again: ephemeral where the request came
    from (`respond`), else (App Home) in a DM."""
    locale = await deps.locale_for(user_id)
    message = refusal("wait.expired", locale)
    try:
        if respond is not None:
            await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())
        else:
            await deps.gateway.dm(user_id, message.text, message.blocks)
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        log.warning("could not tell %s the form did not open: %s", user_id, error)


async def open_form(
    client: AsyncWebClient,
    deps: Deps,
    *,
    trigger_id: str,
    user_id: str,
    build: Callable[[str], Awaitable[dict[str, Any]]],
    respond: Any | None = None,
) -> None:
    """Open a loading view with the trigger at once, then put in it the form `build(locale)`
    makes, or the polite refusal it raises (NotAllowed). When the trigger had expired, tell
    the user (see `tell_expired`)."""
    opener = Opener(client, deps, trigger_id, user_id)
    if not await opener.open():
        await tell_expired(deps, user_id, respond)
        return
    locale = await deps.locale_for(user_id)
    try:
        view = await build(locale)
    except NotAllowed as refused:
        await opener.refuse(t(refused.key, locale, **refused.params), locale)
        return
    await opener.show(view)
