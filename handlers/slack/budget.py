"""Slack's three seconds: one time budget for the work a listener does before its ack, and
writes that go on after the ack when the database is slow.

A view submission must be acknowledged within 3 s whatever the database does. The listener
starts the write in a task of its own and waits for it only as long as the budget allows;
when it cannot finish, the form stays open with "not saved yet" while the write goes on. A
resubmission of the same form is written after it (writes with one key run one at a time,
in the order they started), finds the record the late write made and becomes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.slack.deps import Deps
from prompts import LOCALES, t

log = logging.getLogger(__name__)


# What a listener may spend before its ack: Slack waits 3 s from sending the request, and
# the request's trip and Bolt's own work come out of those too.
ACK_BUDGET = 2.2


class Budget:
    """The time left before a listener must ack, counted from when it started."""

    def __init__(self, seconds: float = ACK_BUDGET) -> None:
        self._loop = asyncio.get_running_loop()
        self._end = self._loop.time() + seconds

    def left(self) -> float:
        """Seconds left (never negative)."""
        return max(0.0, self._end - self._loop.time())

    async def finished[T](self, task: asyncio.Future[T]) -> bool:
        """Wait for `task` as long as the budget allows; True if it is done (either way)."""
        if not task.done():
            await asyncio.wait({task}, timeout=self.left())
        return task.done()


_keys: dict[str, tuple[asyncio.Lock, int]] = {}
_running: set[asyncio.Future[object]] = set()


@asynccontextmanager
async def _one_at_a_time(key: str) -> AsyncIterator[None]:
    lock, users = _keys.get(key) or (asyncio.Lock(), 0)
    _keys[key] = (lock, users + 1)
    try:
        async with lock:  # asyncio's lock is fair: waiters go in the order they came
            yield
    finally:
        lock, users = _keys[key]
        if users == 1:
            del _keys[key]
        else:
            _keys[key] = (lock, users - 1)


def write[T](key: str, make: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
    """Start a write that goes on even if the listener acks first; writes with the same key
    run one after the other, in the order they were started (in this process; across
    processes the database's unique keys keep them one record)."""

    async def run() -> T:
        async with _one_at_a_time(key):
            return await make()

    task: asyncio.Future[T] = asyncio.ensure_future(run())
    _running.add(task)  # type: ignore[arg-type]
    task.add_done_callback(_running.discard)  # type: ignore[arg-type]
    return task


async def locale_within(deps: Deps, user_id: str, budget: Budget) -> str | None:
    """The user's language if it can be known within the budget, else None."""
    task = asyncio.ensure_future(deps.locale_for(user_id))
    if not await budget.finished(task):
        task.add_done_callback(_quiet)
        return None
    try:
        return task.result()
    except Exception as exc:  # the database or Slack failed: answer without the language
        log.warning("locale look-up for %s failed (%s)", user_id, type(exc).__name__)
        return None


def _quiet(task: asyncio.Future[object]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("a late locale look-up failed (%s)", type(task.exception()).__name__)


async def late[T](task: asyncio.Future[T], what: str) -> T | None:
    """The outcome of a write the listener stopped waiting for: the record, or None when it
    was refused or invalid (the resubmission shows why) or failed (logged)."""
    try:
        return await task
    except (Invalid, NotAllowed):
        return None
    except SaveFailed as failed:
        log.warning("saving %s after the ack failed (%s)", what, type(failed.__cause__).__name__)
        return None


def words(key: str, locale: str | None, **params: str) -> str:
    """`key` in the user's language, or in every language while it is not known yet; a
    parameter naming another prompt key (`button="modal.save"`) is given in the same one."""
    locales = [locale] if locale else list(LOCALES)
    return " / ".join(
        t(key, loc, **{name: t(value, loc) for name, value in params.items()}) for loc in locales
    )


def not_saved_yet(locale: str | None, button: str) -> str:
    """The field error for a write still under way: press the form's button again."""
    return words("wait.not_saved_yet", locale, button=button)
