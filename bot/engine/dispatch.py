"""The dispatcher: claim due nudges, respect each recipient's working time, send at Slack's
pace, retry with back-off, and record every outcome in the outbox.

A pass keeps its claims short and alive: rows are claimed in small batches with a lease of
`delivery.lease_seconds`, renewed while the pass still holds them, and new batches are claimed
as the last ones drain, so a slow channel never holds up the rest. Slack refusing the bot's
token pauses delivery (stored, see `bot.engine.delivery_pause`): the row goes back untouched and the
pass stops at once. A pass keeps time by its pace's monotonic clock and sleeper (`Pace.clock`,
`Pace.sleep`): the lease renewals wait on them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine import delivery_pause, outbox
from bot.engine.kinds import is_notice
from bot.engine.pace import ChannelBusy, Pace
from bot.org.policy import Policy
from bot.org.profiles import is_stale, reported_zone
from bot.org.worktime import Span, calendar_for
from storage import queries
from storage.db import session_scope
from storage.models import Nudge, NudgeState, Person

log = logging.getLogger(__name__)

BATCH = 50
NOTICE_RETRIES = 3  # 429s a notice waits out within its pass before it is rescheduled
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
CHANNEL_WAIT_MAX = 10.0  # seconds a row may wait in a pass for its channel's turn
PARKED_BATCHES = 4  # a pass holds at most this many batches of rows, most of them parked


@dataclass(frozen=True)
class Delivered:
    """Where a nudge landed and what its first line said."""

    channel: str
    ts: str
    text: str


class DeliveryError(Exception):
    """Sending failed: retry later (after `retry_after` seconds for a 429), or give up.
    `uncertain`: the message may have reached Slack all the same (a time-out, a 5xx, a
    message sent in part), so it is looked for before it is posted again."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        recipient_gone: bool = False,
        uncertain: bool = False,
        posting_limited: bool = True,
    ) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after
        self.recipient_gone, self.uncertain = recipient_gone, uncertain
        # a 429 of chat.postMessage slows every post; one of another method (a history
        # look-up) only puts this row back
        self.posting_limited = posting_limited


class TokenRefused(Exception):
    """Slack refused the bot's token itself (revoked, uninstalled, expired): nothing about the
    recipient. Delivery pauses; nothing is cancelled and no attempt is counted."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoLongerNeeded(Exception):
    """The nudge's reason went away (the talk happened, the action was done)."""


# send(nudge, now, turn): build the message, `await turn()` (the pace) right before each post;
# waiting for the turn only right before the request keeps database time out of the spacing.
Turn = Callable[[], Awaitable[None]]
Sender = Callable[[Nudge, datetime, Turn], Awaitable[Delivered]]
# Asks for these accounts' profiles (by the platform's user ids) to be looked up; never waits.
ProfileRefresher = Callable[[Iterable[str], datetime], None]
# Whether Slack accepts the bot's token (auth.test); ends a pause when it does.
TokenCheck = Callable[[], Awaitable[bool]]


@dataclass
class DispatchReport:
    """What one dispatch pass did."""

    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    spaced: int = 0  # put back because their channel was busy (Slack: ~1 post a second)
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    paused: bool = False  # delivery is paused: Slack refused the bot's token
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Exponential back-off after the n-th failure: 30 s, 60 s, 2 min, … capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


async def _recipients(
    engine: AsyncEngine, batch: list[Nudge], refresh: ProfileRefresher | None, now: datetime
) -> tuple[dict[str, Person], dict[str, list[Span]], dict[str, str | None]]:
    """The batch's recipients as stored, their leave and their zone names (the zone decides
    when to send); stale Slack profiles are asked for, for later messages, without waiting."""
    ids = {n.recipient_id for n in batch}
    async with session_scope(engine) as session:
        people = await queries.people_by_ids(session, ids)
        identities = await queries.slack_identities(session, ids)
        # Every leave of the recipient holds their messages back, whatever it pauses: `all`
        # (HR's, or their manager's) and `own_messages` (their own "on leave" choice).
        spans: dict[str, list[Span]] = await queries.leave_of(session, ids)
    zones = {sid: reported_zone(p, identities.get(sid)) for sid, p in people.items()}
    # the platform's own user ids: a refresh asks the platform about its accounts
    stale = [
        identity.user_id
        for key, identity in identities.items()
        if people[key].active and is_stale(identity, now)
    ]
    if refresh is not None and stale:
        refresh(stale, now)
    return people, spans, zones


@dataclass
class _Pass:
    """One dispatch pass: shared by the concurrent sends of its batches."""

    engine: AsyncEngine
    send: Sender
    policy: Policy
    now: datetime
    worker: str
    pace: Pace
    report: DispatchReport
    lease: timedelta
    slots: asyncio.Semaphore
    started: float = field(init=False)  # on the pace's clock
    paused: bool = False
    parked: int = 0  # rows waiting for their channel's turn

    def __post_init__(self) -> None:
        self.started = self.pace.clock()

    def moment(self) -> datetime:
        """`now` moved on by the time this pass has run on its pace's clock (leases and
        spacing are monotonic time)."""
        return self.now + timedelta(seconds=self.pace.clock() - self.started)

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
        uncertain: bool | None = None,
    ) -> None:
        await outbox.reschedule(
            self.engine,
            nudge,
            self.worker,
            now=self.now,
            due_at=due_at,
            error=error,
            count_attempt=count_attempt,
            uncertain=uncertain,
        )

    async def stop(self, reason: str) -> None:
        """Slack refused the token: pause delivery (stored) and take nothing more."""
        if not self.paused:
            self.paused = self.report.paused = True
            await delivery_pause.pause(self.engine, reason=reason, now=self.now)

    async def deliver(
        self, nudge: Nudge, person: Person | None, leave: list[Span], zone: str | None = None
    ) -> None:
        if self.paused:  # back as it was: no attempt, nothing cancelled
            await self.later(nudge, nudge.due_at)
            return
        if person is None or not person.active:
            await self.close(nudge, NudgeState.CANCELLED, "recipient is no longer in the org chart")
            return
        # A notice is owed now, whatever the hour; only nudges wait for working time.
        if not is_notice(nudge.kind) and not await self._in_working_time(
            nudge, person, leave, zone
        ):
            return
        horizon = min(CHANNEL_WAIT_MAX, self.lease.total_seconds() / 2)
        for retry in range(NOTICE_RETRIES + 1):
            parked = True  # waiting for its channel: holds no slot, and no room in the pass
            self.parked += 1
            try:
                async with self.pace.channel(nudge.recipient_id, horizon=horizon) as turn:
                    parked = False
                    self.parked -= 1
                    async with self.slots:
                        if self.paused:
                            await self.later(nudge, nudge.due_at)
                            return
                        delivered = await self.send(nudge, self.now, turn)
            except ChannelBusy as busy:
                self.report.spaced += 1
                await self.later(nudge, self.moment() + timedelta(seconds=busy.wait))
                return
            except NoLongerNeeded as reason:
                await self.close(nudge, NudgeState.CANCELLED, str(reason) or "no longer needed")
                return
            except TokenRefused as refused:
                await self.stop(refused.reason)
                await self.later(nudge, nudge.due_at)
                return
            except DeliveryError as error:
                nudge.uncertain = error.uncertain
                if error.retry_after is not None and error.posting_limited:
                    self.pace.limited(error.retry_after)  # Slack asked everyone to wait
                    if is_notice(nudge.kind) and retry < NOTICE_RETRIES:
                        continue  # a notice waits it out in this pass, then goes
                await self.failed(nudge, error)
                return
            finally:
                if parked:
                    self.parked -= 1
            break
        self.pace.accepted()
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

    async def _in_working_time(
        self, nudge: Nudge, person: Person, leave: list[Span], zone: str | None
    ) -> bool:
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
            self.policy, timezone=zone or person.timezone, country=person.country
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
            self.report.retried += 1
            await self.later(
                nudge,
                self.now + timedelta(seconds=error.retry_after),
                error=error.reason,
                uncertain=error.uncertain,
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
                nudge,
                self.now + backoff(attempt),
                error=error.reason,
                count_attempt=True,
                uncertain=error.uncertain,
            )


async def dispatch(
    engine: AsyncEngine,
    send: Sender,
    *,
    policy: Policy,
    now: datetime,
    worker: str,
    pace: Pace | None = None,
    refresh: ProfileRefresher | None = None,
    verify: TokenCheck | None = None,
    batch: int = BATCH,
    max_rows: int = 100_000,
    kinds: Collection[str] | None = None,
) -> DispatchReport:
    """Send every nudge due at `now` (of `kinds`, default all) until none is left (or
    `max_rows`); nothing while delivery is paused and Slack still refuses the token."""
    delivery = policy.delivery
    report = DispatchReport()
    if not await _may_send(engine, verify, now, report):
        return report
    run = _Pass(
        engine,
        send,
        policy,
        now,
        worker,
        pace or Pace(start=delivery.sends_per_second, ceiling=delivery.max_sends_per_second),
        report,
        timedelta(seconds=delivery.lease_seconds),
        asyncio.Semaphore(delivery.concurrency),
    )
    renewer = asyncio.create_task(_renew_leases(run))
    try:
        await _pump(run, batch=batch, max_rows=max_rows, kinds=kinds, refresh=refresh)
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
    return report


async def _may_send(
    engine: AsyncEngine, verify: TokenCheck | None, now: datetime, report: DispatchReport
) -> bool:
    """False while delivery is paused and Slack still refuses the token; a token that works
    again ends the pause."""
    if await delivery_pause.current(engine) is None:
        return True
    if verify is not None and await verify():
        await delivery_pause.resume(engine)
        return True
    await delivery_pause.checked(engine, now)
    report.paused = True
    return False


async def _pump(
    run: _Pass,
    *,
    batch: int,
    max_rows: int,
    kinds: Collection[str] | None,
    refresh: ProfileRefresher | None,
) -> None:
    """Claim a batch, start its sends, and claim the next once half of them are done, until
    nothing due is left; a send that raised stops the claiming and is raised at the end."""
    sending: set[asyncio.Task[None]] = set()
    more, failure = True, None
    try:
        while True:
            # rows waiting for their channel take no room, up to a bound on what a pass holds
            room = min(batch - (len(sending) - run.parked), batch * PARKED_BATCHES - len(sending))
            wanted = more and not run.paused and failure is None and room >= max(1, batch // 2)
            if wanted and run.report.claimed < max_rows:
                claimed = await outbox.claim(
                    run.engine,
                    now=run.now,
                    worker=run.worker,
                    limit=min(room, max_rows - run.report.claimed),
                    lease=run.lease,
                    kinds=kinds,
                )
                more = bool(claimed)
                run.report.claimed += len(claimed)
                people, leave, zones = (
                    await _recipients(run.engine, claimed, refresh, run.now)
                    if claimed
                    else ({}, {}, {})
                )
                for n in claimed:
                    person, spans = people.get(n.recipient_id), leave.get(n.recipient_id, [])
                    zone = zones.get(n.recipient_id)
                    sending.add(asyncio.create_task(run.deliver(n, person, spans, zone)))
            if not sending:
                break
            done, sending = await asyncio.wait(sending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None and failure is None:
                    failure = task.exception()
    except BaseException:
        for task in sending:
            task.cancel()
        raise
    if failure is not None:
        raise failure


async def _renew_leases(run: _Pass) -> None:
    """Keep this worker's claims alive while the pass runs: a third of the lease apart."""
    every = max(run.lease.total_seconds() / 3, 0.1)
    while True:
        await run.pace.sleep(every)
        try:
            await outbox.renew(run.engine, run.worker, until=run.moment() + run.lease)
        except Exception as exc:  # the next renewal tries again; the lease is the safety net
            log.warning("could not renew the outbox leases (%s)", type(exc).__name__)
