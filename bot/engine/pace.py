"""The pace of posting to Slack: about one message a second per DM channel, and a workspace-wide
rate that adapts to what Slack accepts.

The workspace rate starts at `delivery.sends_per_second` and, while Slack accepts every post,
grows (by 10 a second, or by half itself a second once that is more) up to
`delivery.max_sends_per_second`. A 429 stops every send for its `Retry-After`, and sets the
rate just under what Slack accepted in the second before it (further down if it comes again
soon after); the rate then holds for a minute and only creeps up after that, so a workspace at
its limit sees a 429 now and then, not a storm. One `Pace` serves a whole
process (the Notifier's passes and the periodic dispatcher share it).

Per channel, a message waits until a second after the one before it to the same channel; a
message that would wait longer than the pass can hold it (`ChannelBusy`) is put back in the
outbox for later, so one manager's burst of check-ins never holds up everyone else's.

Every wait reads a monotonic `Clock` and waits through a `Sleeper`, the real ones by default;
the tests hand in a pair that skips the waits (`tests/fast_forward_time.py`), so what waits
seconds in production takes no real time there.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

CHANNEL_SPACING = 1.1  # seconds between two posts to one channel (Slack: about 1 a second)
MIN_RATE = 0.2  # posts per second: the floor a run of 429s can push the pace down to
WINDOW = 1.0  # seconds of accepted posts that estimate Slack's limit at a 429
UNDER_LIMIT = 0.95  # after a 429, pace at this share of what Slack accepted
HOLD = 60.0  # seconds after a 429 before the pace probes upwards again
AGAIN = 10.0  # a 429 this soon after the last pause ended: the last cut was not enough
AGAIN_CUT = 0.85  # ... so the rate drops by at least this much
PROBE = 0.01  # while probing, each accepted post adds this to the rate (about +1 %/s)
RAMP = 10.0  # before any 429 the rate grows by this much each second...
RAMP_SHARE = 0.5  # ... or by this share of itself each second, once that is more
CHANNELS_KEPT = 10_000  # idle channels forgotten beyond this many

Clock = Callable[[], float]  # monotonic seconds (production: time.monotonic)
Sleeper = Callable[[float], Awaitable[None]]  # waits that many seconds (asyncio.sleep)


class ChannelBusy(Exception):
    """The channel cannot take a message for `wait` seconds: send it later."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"channel busy for {wait:.1f}s")
        self.wait = wait


@dataclass
class _Channel:
    next_at: float = 0.0
    waiting: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Pace:
    """Spaces posts per channel and workspace-wide, adapting the workspace rate to Slack."""

    def __init__(
        self,
        *,
        start: float,
        ceiling: float,
        channel_spacing: float = CHANNEL_SPACING,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.ceiling = ceiling
        self.rate = min(start, ceiling)
        self.channel_spacing = channel_spacing
        # the pace's time, shared by the dispatch passes it paces (leases, spacing)
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._pauses = 0
        self._hold_until = 0.0
        self._limited = False  # a 429 was seen: past slow start
        self._accepted: deque[float] = deque()
        self._lock = asyncio.Lock()
        self._channels: dict[str, _Channel] = {}

    # ------------------------------------------------------------------ workspace-wide
    async def acquire(self) -> None:
        """Wait for the next workspace-wide turn (and out any 429 pause that starts meanwhile)."""
        while True:
            async with self._lock:
                now = self.clock()
                at = max(now, self._next, self._paused_until)
                self._next = at + 1.0 / self.rate
                pauses = self._pauses
            if at > now:
                await self.sleep(at - now)
            if self._pauses == pauses:
                return

    def accepted(self) -> None:
        """Slack took a post: remember it, and grow the rate unless holding after a 429."""
        now = self.clock()
        self._accepted.append(now)
        while self._accepted and self._accepted[0] < now - WINDOW:
            self._accepted.popleft()
        if now < self._hold_until:
            return
        # Slow start adds one per post (the rate doubles in about a second); after a 429 the
        # pace only probes.
        # before any 429: +RAMP a second, or +half the rate a second once that is more
        step = PROBE if self._limited else max(RAMP / self.rate, RAMP_SHARE)
        self.rate = min(self.ceiling, self.rate + step)

    def limited(self, retry_after: float) -> None:
        """Slack answered 429: everyone waits `retry_after`, and the rate drops under what
        Slack accepted in the last second (more, for a 429 soon after the last pause). 429s
        of posts already in flight during the pause change nothing more."""
        now = self.clock()
        if now < self._paused_until:
            self._paused_until = max(self._paused_until, now + max(retry_after, 0.0))
            self._next, self._pauses = self._paused_until, self._pauses + 1
            return
        again = now - self._paused_until < AGAIN
        self._paused_until = now + max(retry_after, 0.0)
        self._next, self._pauses = self._paused_until, self._pauses + 1
        while self._accepted and self._accepted[0] < now - WINDOW:
            self._accepted.popleft()
        seen = len(self._accepted) / WINDOW
        target = seen * UNDER_LIMIT if seen else self.rate / 2
        if again:  # the last cut was not enough (a burst Slack allowed inflated `seen`)
            target = min(target, self.rate * AGAIN_CUT)
        self.rate = max(MIN_RATE, min(self.ceiling, self.rate, target))
        self._limited = True
        self._hold_until = self._paused_until + HOLD

    # ------------------------------------------------------------------ per channel
    def channel_wait(self, key: str) -> float:
        """Seconds a new message to this channel would wait for its turn."""
        channel = self._channels.get(key)
        if channel is None:
            return 0.0
        ahead = channel.waiting + (1 if channel.lock.locked() else 0)
        return max(0.0, channel.next_at - self.clock()) + ahead * self.channel_spacing

    @asynccontextmanager
    async def channel(
        self, key: str, *, horizon: float
    ) -> AsyncIterator[Callable[[], Awaitable[None]]]:
        """Hold the channel `key` (a recipient's DM) for one message, once it may take one,
        and yield its `turn`: await it right before each post (a message may be several
        posts). Raises ChannelBusy when the channel's turn is more than `horizon` away."""
        wait = self.channel_wait(key)
        if wait > horizon:
            raise ChannelBusy(wait)
        if len(self._channels) > CHANNELS_KEPT:
            self._forget_idle()
        channel = self._channels.setdefault(key, _Channel())
        channel.waiting += 1
        try:
            await channel.lock.acquire()
        finally:
            channel.waiting -= 1
        try:
            await self._until(channel.next_at)  # the channel's turn, before any other wait
        except BaseException:
            channel.lock.release()
            raise

        async def turn() -> None:
            await self._until(channel.next_at)  # the next part of a message of several
            await self.acquire()
            channel.next_at = self.clock() + self.channel_spacing

        try:
            yield turn
        finally:
            channel.lock.release()

    async def _until(self, moment: float) -> None:
        gap = moment - self.clock()
        if gap > 0:
            await self.sleep(gap)

    def _forget_idle(self) -> None:
        now = self.clock()
        for key in [
            k
            for k, c in self._channels.items()
            if c.next_at <= now and not c.waiting and not c.lock.locked()
        ]:
            del self._channels[key]
