"""Slack profile look-ups for the dispatcher, within `users.info`'s Tier 4 (~100 a minute).

Sending never waits for them: a message goes with the profile stored (language, zone) and the
stale profiles are looked up in the background, at most `per_minute` a minute, for the next
message. Someone never looked up is looked up before their first message only when the
minute's budget has room right now. The budget reads a monotonic `Clock` and the queue waits
through a `Sleeper` (`bot.engine.pace`'s, real by default).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.pace import Clock, Sleeper
from bot.org.profiles import remember_profile

log = logging.getLogger(__name__)
PER_MINUTE = 60  # of Tier 4's ~100: the rest is left to the listeners' look-ups
QUEUED_MAX = 10_000  # people waiting for a look-up; more are asked for again by later passes


class SlackProfile(Protocol):
    """What a look-up tells (the gateway's Profile)."""

    @property
    def locale(self) -> str | None: ...
    @property
    def tz(self) -> str | None: ...
    @property
    def deleted(self) -> bool: ...


Lookup = Callable[[str], Awaitable[SlackProfile | None]]


class MinuteBudget:
    """At most `per_minute` calls in any sliding minute."""

    def __init__(self, per_minute: int, clock: Clock = time.monotonic) -> None:
        self.per_minute, self._clock = per_minute, clock
        self._calls: deque[float] = deque()

    def wait(self) -> float:
        """Seconds until a call is allowed (0: now)."""
        now = self._clock()
        while self._calls and self._calls[0] <= now - 60.0:
            self._calls.popleft()
        if len(self._calls) < self.per_minute:
            return 0.0
        return self._calls[0] + 60.0 - now

    def take(self) -> bool:
        """Use one call if the budget allows it now."""
        if self.wait() > 0:
            return False
        self._calls.append(self._clock())
        return True


class ProfileRefresher:
    """Looks up stale Slack profiles in the background, within a per-minute budget."""

    def __init__(
        self,
        engine: AsyncEngine,
        lookup: Lookup,
        *,
        per_minute: int = PER_MINUTE,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.engine, self.lookup = engine, lookup
        self.budget = MinuteBudget(per_minute, clock)
        self._sleep = sleep
        self._queue: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def want(self, user_ids: Iterable[str], now: datetime) -> None:
        """Look these people up when the budget allows; never waits."""
        for user_id in user_ids:
            if len(self._queue) >= QUEUED_MAX:
                break
            self._queue.setdefault(user_id, now)
        if self._queue and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def if_budget_allows(self, user_id: str, now: datetime) -> bool:
        """Look one person up now if this minute's budget has room; else queue them."""
        if not self.budget.take():
            self.want([user_id], now)
            return False
        await self._refresh(user_id, now)
        return True

    async def idle(self) -> None:
        """Wait until the queue is empty (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    async def _drain(self) -> None:
        while self._queue:
            wait = self.budget.wait()
            if wait > 0:
                await self._sleep(wait)
                continue
            user_id = next(iter(self._queue))
            now = self._queue.pop(user_id)
            self.budget.take()
            try:
                await self._refresh(user_id, now)
            except Exception as exc:  # one failed look-up must not stop the others
                log.warning("profile refresh failed for %s (%s)", user_id, type(exc).__name__)

    async def _refresh(self, user_id: str, now: datetime) -> None:
        profile = await self.lookup(user_id)
        if profile is None:
            return
        await remember_profile(
            self.engine,
            user_id=user_id,
            locale=profile.locale,
            tz=profile.tz,
            deleted=profile.deleted,
            now=now,
        )
