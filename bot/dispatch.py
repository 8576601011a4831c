"""The dispatcher: claim due nudges, respect each recipient's working time, send at Slack's
pace, retry with back-off, and record every outcome in the outbox."""

from __future__ import annotations

import asyncio
import logging
import time as monotonic
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import outbox
from bot.notices import is_notice
from bot.policy import Policy
from bot.profiles import FRESH
from bot.worktime import Span, calendar_for
from storage.db import session_scope
from storage.models import Leave, Nudge, NudgeState, Person

log = logging.getLogger(__name__)

BATCH = 50
NOTICE_RETRIES = 3  # 429s a notice waits out within its pass before it is rescheduled
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)


@dataclass(frozen=True)
class Delivered:
    """Where a nudge landed and what its first line said."""

    channel: str
    ts: str
    text: str


class DeliveryError(Exception):
    """Sending failed: retry later (after `retry_after` seconds for a 429), or give up."""

    def __init__(
        self, reason: str, *, retry_after: float | None = None, recipient_gone: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason, self.retry_after, self.recipient_gone = reason, retry_after, recipient_gone


class NoLongerNeeded(Exception):
    """The nudge's reason went away (the talk happened, the action was done)."""


# send(nudge, now, turn): build the message, `await turn()` (the pace), then post; waiting
# for the turn only right before the request keeps database time out of Slack's spacing.
Sender = Callable[[Nudge, datetime, Callable[[], Awaitable[None]]], Awaitable[Delivered]]
ProfileRefresher = Callable[[list[str], datetime], Awaitable[None]]


class RateLimiter:
    """Spaces sends to `per_second`, and holds everyone back after a 429."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = monotonic.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + self.interval
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, monotonic.monotonic() + seconds)


@dataclass
class DispatchReport:
    """What one dispatch pass did."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Exponential back-off after the n-th failure: 30 s, 60 s, 2 min, … capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


async def _recipients(
    engine: AsyncEngine, batch: list[Nudge], refresh: ProfileRefresher | None, now: datetime
) -> tuple[dict[str, Person], dict[str, list[Span]]]:
    """The batch's recipients with fresh Slack profiles (their zone decides when to send)."""
    ids = {n.recipient_id for n in batch}
    async with session_scope(engine) as session:
        found = await session.execute(select(Person).where(Person.slack_id.in_(ids)))  # type: ignore[attr-defined]
        people = {p.slack_id: p for p in found.scalars()}
    stale = [
        p.slack_id
        for p in people.values()
        if p.active and (p.slack_checked_at is None or now - p.slack_checked_at > FRESH)
    ]
    if refresh is not None and stale:
        await refresh(stale, now)
        async with session_scope(engine) as session:
            found = await session.execute(select(Person).where(Person.slack_id.in_(ids)))  # type: ignore[attr-defined]
            people = {p.slack_id: p for p in found.scalars()}
    async with session_scope(engine) as session:
        # Every leave of the recipient holds their messages back, whatever it pauses: `all`
        # (HR's, or their manager's) and `own_messages` (their own "on leave" choice).
        leave = await session.execute(
            select(Leave.person_id, Leave.starts_on, Leave.ends_on).where(Leave.person_id.in_(ids))  # type: ignore[attr-defined]
        )
        spans: dict[str, list[Span]] = {}
        for person_id, starts, ends in leave:
            spans.setdefault(person_id, []).append((starts, ends))
    return people, spans


@dataclass
class _Pass:
    """One dispatch pass: shared by the concurrent sends of its batches."""

    engine: AsyncEngine
    send: Sender
    policy: Policy
    now: datetime
    worker: str
    limiter: RateLimiter
    report: DispatchReport

    async def close(self, nudge: Nudge, state: NudgeState, reason: str) -> None:
        if state is NudgeState.CANCELLED:
            self.report.cancelled += 1
        await outbox.close(
            self.engine, nudge, self.worker, state=state, reason=reason, now=self.now
        )

    async def later(
        self,
        nudge: Nudge,
        due_at: datetime,
        *,
        error: str | None = None,
        count_attempt: bool = False,
    ) -> None:
        await outbox.reschedule(
            self.engine,
            nudge,
            self.worker,
            now=self.now,
            due_at=due_at,
            error=error,
            count_attempt=count_attempt,
        )

    async def deliver(self, nudge: Nudge, person: Person | None, leave: list[Span]) -> None:
        if person is None or not person.active:
            await self.close(nudge, NudgeState.CANCELLED, "recipient is no longer in the org chart")
            return
        # A notice is owed now, whatever the hour; only nudges wait for working time.
        if not is_notice(nudge.kind) and not await self._in_working_time(nudge, person, leave):
            return
        for retry in range(NOTICE_RETRIES + 1):
            try:
                delivered = await self.send(nudge, self.now, self.limiter.acquire)
            except NoLongerNeeded as reason:
                await self.close(nudge, NudgeState.CANCELLED, str(reason) or "no longer needed")
                return
            except DeliveryError as error:
                if (
                    is_notice(nudge.kind)
                    and error.retry_after is not None
                    and retry < NOTICE_RETRIES
                ):
                    # Slack asked us to wait: the whole pace waits, then the notice goes.
                    self.limiter.pause(error.retry_after or 1.0)
                    continue
                await self.failed(nudge, error)
                return
            break
        self.report.sent += 1
        await outbox.mark_sent(
            self.engine,
            nudge,
            self.worker,
            channel=delivered.channel,
            ts=delivered.ts,
            text=delivered.text,
            now=self.now,
        )

    async def _in_working_time(self, nudge: Nudge, person: Person, leave: list[Span]) -> bool:
        """Whether a nudge may go now; else it is dropped (moment long missed) or deferred."""
        delivery, now = self.policy.delivery, self.now
        late = now - nudge.due_at
        if late > timedelta(hours=delivery.drop_after_hours) and nudge.attempts == 0:
            log.warning(
                "dropped nudge %s (%s to %s): its moment passed %s ago",
                nudge.id,
                nudge.kind,
                nudge.recipient_id,
                late,
            )
            await self.close(nudge, NudgeState.CANCELLED, f"dropped: missed its moment by {late}")
            return False
        calendar = calendar_for(
            self.policy, timezone=person.slack_tz or person.timezone, country=person.country
        )
        if not calendar.is_working_moment(now, leave):
            self.report.deferred += 1
            await self.later(nudge, calendar.next_working_moment(now, leave=leave))
            return False
        return True

    async def failed(self, nudge: Nudge, error: DeliveryError) -> None:
        self.report.errors.append(error.reason)
        attempt = nudge.attempts + 1
        if error.recipient_gone:
            await self.close(nudge, NudgeState.CANCELLED, error.reason)
        elif error.retry_after is not None:
            self.limiter.pause(error.retry_after)
            self.report.retried += 1
            await self.later(
                nudge, self.now + timedelta(seconds=error.retry_after), error=error.reason
            )
        elif attempt >= self.policy.delivery.max_attempts:
            self.report.failed += 1
            log.error(
                "nudge %s failed for good after %d attempts: %s", nudge.id, attempt, error.reason
            )
            await self.close(nudge, NudgeState.FAILED, error.reason)
        else:
            self.report.retried += 1
            await self.later(
                nudge, self.now + backoff(attempt), error=error.reason, count_attempt=True
            )


async def dispatch(
    engine: AsyncEngine,
    send: Sender,
    *,
    policy: Policy,
    now: datetime,
    worker: str,
    limiter: RateLimiter | None = None,
    refresh: ProfileRefresher | None = None,
    batch: int = BATCH,
    max_rows: int = 100_000,
    kinds: Collection[str] | None = None,
) -> DispatchReport:
    """Send every nudge due at `now` (of `kinds`, default all), batch by batch, until none is
    left (or `max_rows`)."""
    run = _Pass(
        engine,
        send,
        policy,
        now,
        worker,
        limiter or RateLimiter(policy.delivery.sends_per_second),
        DispatchReport(),
    )
    slots = asyncio.Semaphore(policy.delivery.concurrency)

    async def one(nudge: Nudge, person: Person | None, leave: list[Span]) -> None:
        async with slots:
            await run.deliver(nudge, person, leave)

    while run.report.claimed < max_rows:
        claimed = await outbox.claim(engine, now=now, worker=worker, limit=batch, kinds=kinds)
        if not claimed:
            break
        run.report.claimed += len(claimed)
        people, leave = await _recipients(engine, claimed, refresh, now)
        await asyncio.gather(
            *(one(n, people.get(n.recipient_id), leave.get(n.recipient_id, [])) for n in claimed)
        )
    return run.report
