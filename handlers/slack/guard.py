"""One guard around every listener: a failure becomes a short answer in the person's
language, never silence, a 500 or a log line with what they typed.

A database that is down (or a network error on the way to it) is told as "try again in a
minute"; anything else as a short apology. A view submission gets the answer as an error
under its first input, so the modal stays open with everything typed; a command, through
its `response_url`; a click, as an ephemeral in its channel or a DM from Home or a modal.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from bot.logs import describe
from bot.slack.deps import Deps
from handlers.slack import parse
from handlers.slack.blocks.messages import refusal
from handlers.slack.tell import answer

log = logging.getLogger(__name__)

DATABASE_DOWN = (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError)
# What the guard itself needs from Bolt, whatever the listener asks for.
NEEDED = ("ack", "body", "respond", "client")

Listener = Callable[..., Awaitable[Any]]


def guarded(listener: Listener, deps: Deps) -> Listener:
    """`listener` with the guard; Bolt still injects exactly the arguments it asks for."""
    wants = inspect.getfullargspec(inspect.unwrap(listener)).args
    names = list(dict.fromkeys([*wants, *NEEDED]))

    async def run(**given: Any) -> Any:
        try:
            return await listener(**{name: given[name] for name in wants if name in given})
        except Exception as exc:
            await answer_failure(exc, given, deps)
            return None

    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD) for name in names]
    )
    run.__name__ = getattr(inspect.unwrap(listener), "__name__", "listener")
    return run


async def answer_failure(exc: Exception, given: dict[str, Any], deps: Deps) -> None:
    """Log a listener's failure by class and place, and tell the person what to do."""
    body: dict[str, Any] = given.get("body") or {}
    kind = str(body.get("type") or ("command" if body.get("command") else "unknown"))
    down = isinstance(exc, DATABASE_DOWN)
    log.error("a %s listener failed: %s", kind, describe(exc))
    user_id = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
    locale = await deps.locale_for(user_id) if user_id else deps.policy.locale
    ack = given.get("ack")
    try:
        if kind == "view_submission" and ack is not None and ack.response is None:
            key = "error.database_down_form" if down else "error.unexpected"
            block = _first_input(body.get("view") or {})
            if block is not None:
                text = refusal(key, locale).text
                await ack(response_action="errors", errors={block: text})
                return
        if ack is not None and ack.response is None:
            await ack()
        if kind == "block_suggestion":
            return
        if user_id:
            message = refusal("error.database_down" if down else "error.unexpected", locale)
            await answer(
                deps,
                user_id,
                message,
                respond=given.get("respond") if body.get("response_url") else None,
                client=given.get("client"),
                channel=parse.clicked(body).channel,
            )
    except (SlackApiError, OSError, TimeoutError) as failed:
        log.warning("could not tell the user about the failure: %s", describe(failed))


def _first_input(view: dict[str, Any]) -> str | None:
    return next(
        (str(b["block_id"]) for b in view.get("blocks") or [] if b.get("type") == "input"),
        None,
    )


class GuardedApp:
    """The Bolt app as the listener modules see it: everything they register through it is
    guarded, so no module can forget the guard."""

    def __init__(self, app: AsyncApp, deps: Deps) -> None:
        self._app, self._deps = app, deps

    def _through(self, register: Callable[[Listener], Any]) -> Callable[[Listener], Listener]:
        def decorator(listener: Listener) -> Listener:
            register(guarded(listener, self._deps))
            return listener

        return decorator

    def command(self, *args: Any, **kwargs: Any) -> Callable[[Listener], Listener]:
        return self._through(self._app.command(*args, **kwargs))

    def view(self, *args: Any, **kwargs: Any) -> Callable[[Listener], Listener]:
        return self._through(self._app.view(*args, **kwargs))

    def action(self, *args: Any, **kwargs: Any) -> Callable[[Listener], Listener]:
        return self._through(self._app.action(*args, **kwargs))

    def options(self, *args: Any, **kwargs: Any) -> Callable[[Listener], Listener]:
        return self._through(self._app.options(*args, **kwargs))

    def event(self, *args: Any, **kwargs: Any) -> Callable[[Listener], Listener]:
        return self._through(self._app.event(*args, **kwargs))

    def middleware(self, *args: Any, **kwargs: Any) -> Any:
        return self._app.middleware(*args, **kwargs)
