"""Opening a modal within the trigger's three seconds: a loading view at once, then the form
(or a refusal) in its place once the database has answered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import NotAllowed
from bot.slack.deps import Deps
from handlers.slack.blocks.messages import Message, refusal
from handlers.slack.blocks.waiting import loading_view, message_view
from handlers.slack.tell import answer

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
    """Tell the user the form did not open and to try again."""
    locale = await deps.locale_for(user_id)
    await answer(deps, user_id, refusal("wait.expired", locale), respond=respond)


async def open_form(
    client: AsyncWebClient,
    deps: Deps,
    *,
    trigger_id: str,
    user_id: str,
    build: Callable[[str], Awaitable[dict[str, Any]]],
    respond: Any | None = None,
) -> None:
    """Open the form `build(locale)` makes within the trigger's three seconds. When it is
    ready within `deps.form_wait_seconds` (the usual case) it opens at once; when the
    database is slow, a loading view opens with the trigger first and the form takes its
    place. A polite refusal (NotAllowed) is shown in the modal instead of the form.
    When the trigger had expired, tell the user (see `tell_expired`)."""
    made = asyncio.ensure_future(_make(deps, user_id, build))
    await asyncio.wait({made}, timeout=deps.form_wait_seconds)
    if made.done():
        view, refused, locale = made.result()
        if refused is not None:  # said in the modal the person asked for, like a slow one
            view = message_view(refused.text, locale=locale)
        assert view is not None
        try:
            await client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            if _error(exc) not in SPENT_TRIGGER:
                raise
            log.warning("views.open for %s: %s", user_id, _error(exc))
            await tell_expired(deps, user_id, respond)
        return
    opener = Opener(client, deps, trigger_id, user_id)
    if not await opener.open():
        made.cancel()
        await tell_expired(deps, user_id, respond)
        return
    view, refused, locale = await made
    if refused is not None:
        await opener.refuse(refused.text, locale)
        return
    assert view is not None
    await opener.show(view)


async def _make(
    deps: Deps, user_id: str, build: Callable[[str], Awaitable[dict[str, Any]]]
) -> tuple[dict[str, Any] | None, Message | None, str]:
    """The form, or the refusal to show instead, and the user's language."""
    locale = await deps.locale_for(user_id)
    try:
        return await build(locale), None, locale
    except NotAllowed as no:
        return None, refusal(no.key, locale, **no.params), locale


def _error(exc: SlackApiError) -> str | None:
    return exc.response.get("error") if isinstance(exc.response.data, dict) else None
