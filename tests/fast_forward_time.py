"""Monotonic time for the waits of the code under test (`bot.engine.pace`'s `Clock` and
`Sleeper`) that runs as real time but skips the idle stretches: once nothing can run, it jumps
to the next sleeper's deadline instead of sitting it out.

"Nothing can run" means: no task is waiting on Slack or the database (an HTTP request in
flight, a query), and the loop has turned a few times with none of that starting. So a wait
of seconds takes no real time and sleepers wake in the order of their deadlines, while what
really takes time (a post in flight, a client's time-out, the stand-in's `delay`) takes it
here too: a sleeper whose deadline passes meanwhile wakes, as it would. The stand-in keeps its
`Call.at` on this clock, so the gaps and the order Slack sees are the ones the bot made.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from types import FrameType
from typing import Any

# Tasks suspended in these are waiting on Slack or the database, not on the clock.
IO_MODULES = ("aiohttp.", "aiosqlite", "asyncpg", "sqlalchemy.")
CALM_TURNS = 10  # loop turns with nothing starting before time may jump
IO_POLL = 0.002  # real seconds between looks while a request or query is in flight


class FastForwardTime:
    """A `Clock` (`clock`) and a `Sleeper` (`sleep`): real monotonic time, skipping ahead
    over waits while nothing else can run."""

    def __init__(self) -> None:
        self.skipped = 0.0  # seconds jumped over so far
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._advancer: asyncio.Task[None] | None = None

    def clock(self) -> float:
        """Monotonic seconds: the real ones plus those skipped."""
        return time.monotonic() + self.skipped

    async def sleep(self, seconds: float) -> None:
        """Return once the clock has moved on by `seconds` (at once for none)."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self.clock() + seconds, next(self._order), wake))
        if self._advancer is None or self._advancer.done():
            self._advancer = loop.create_task(self._advance(), name="fast-forward")
        await wake

    async def close(self) -> None:
        """Stop waking sleepers (the end of a test)."""
        if self._advancer is not None:
            self._advancer.cancel()
            await asyncio.gather(self._advancer, return_exceptions=True)

    async def _advance(self) -> None:
        """Wake each sleeper at its deadline, skipping ahead to it once nothing else can run."""
        calm = 0
        while True:
            while self._sleepers and self._sleepers[0][2].done():  # cancelled
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                return
            due = self.clock()
            if calm >= CALM_TURNS:  # nothing can run: skip the wait
                deadline = self._sleepers[0][0]
                self.skipped += max(0.0, deadline - due)
                due, calm = max(due, deadline), 0
            while self._sleepers and self._sleepers[0][0] <= due:
                wake = heapq.heappop(self._sleepers)[2]
                if not wake.done():
                    wake.set_result(None)
            await asyncio.sleep(0)
            if any(
                _waits_on_io(task) for task in asyncio.all_tasks() if task is not self._advancer
            ):
                calm = 0  # real time passes while the network or the database works
                ahead = self._sleepers[0][0] - self.clock() if self._sleepers else 0.0
                await asyncio.sleep(min(IO_POLL, max(0.0, ahead)))
            else:
                calm += 1


def _waits_on_io(task: asyncio.Task[Any]) -> bool:
    """Whether `task` is suspended inside an HTTP client or a database driver."""
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame: FrameType | None = (
            getattr(awaited, "cr_frame", None)
            or getattr(awaited, "gi_frame", None)
            or getattr(awaited, "ag_frame", None)
        )
        module = frame.f_globals.get("__name__", "") if frame else type(awaited).__module__
        if module.startswith(IO_MODULES):
            return True
        awaited = (
            getattr(awaited, "cr_await", None)
            or getattr(awaited, "gi_yieldfrom", None)
            or getattr(awaited, "ag_await", None)
        )
    return False
