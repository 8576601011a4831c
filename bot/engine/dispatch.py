"""The dispatcher: claim due nudges, pick each recipient's chat platform, respect their
working time, send at that platform's pace, retry with back-off, and record every outcome in
the outbox.

Each platform the process serves is a `PlatformDelivery`: its sender (which renders and
posts in the platform's idiom and turns the platform's errors into `DeliveryError`,
`TokenRefused` or `NoLongerNeeded`), its own pace, its token check and profile refresher. A
recipient is reached on the first platform of `delivery.platform_order` on which they have
an account and the process has a sender; someone with no such account keeps their message
pending (counted as unreachable, no attempt spent) until they have one.

A pass keeps its claims short and alive: rows are claimed in small batches with a lease of
`delivery.lease_seconds`, renewed while the pass still holds them, and new batches are claimed
as the last ones drain, so a slow channel never holds up the rest. A platform refusing the
bot's token pauses delivery through it (stored, see `bot.engine.delivery_pause`): its rows go
back untouched at the end of the pass, the other platforms go on, and once every platform of
the pass is paused it claims nothing more. A pass keeps time by one monotonic clock and
sleeper (the first platform's pace's: `Pace.clock`, `Pace.sleep`): the lease renewals wait on
them too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from bot import metrics
from bot.engine import delivery_pause, outbox
from bot.engine.kinds import NOTICE_KINDS, NUDGE_KINDS, is_notice
from bot.engine.pace import ChannelBusy, Pace
from bot.org.policy import Policy
from bot.org.profiles import is_stale, reported_zone
from bot.org.worktime import Span, calendar_for
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, NudgeState, Person

log = logging.getLogger(__name__)

BATCH = 50
UNREACHABLE_RETRY = timedelta(hours=1)  # someone without a reachable account is asked for again
NOTICE_RETRIES = 3  # 429s a notice waits out within its pass before it is rescheduled
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=6)
CHANNEL_WAIT_MAX = 10.0  # seconds a row may wait in a pass for its channel's turn
PARKED_BATCHES = 4  # a pass holds at most this many batches of rows, most of them parked
KNOWN_KINDS = frozenset(NUDGE_KINDS) | NOTICE_KINDS  # the only kinds a metric's label names


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


class Unreachable(Exception):
    """The platform cannot reach the recipient yet (Teams: the app is not installed for
    them, or they removed it): the message stays pending, counted as unreachable, and is
    asked for again later; no attempt is spent."""


# send(nudge, now, turn): build the message, `await turn()` (the pace) right before each post;
# waiting for the turn only right before the request keeps database time out of the spacing.
Turn = Callable[[], Awaitable[None]]
Sender = Callable[[Nudge, datetime, Turn], Awaitable[Delivered]]
# Asks for these accounts' profiles (by the platform's user ids) to be looked up; never waits.
ProfileRefresher = Callable[[Iterable[str], datetime], None]
# Whether the platform accepts the bot's token (Slack: auth.test); ends a pause when it does.
TokenCheck = Callable[[], Awaitable[bool]]
# Whether the platform can reach this account now (Teams: only once a chat with it is known).
Reachable = Callable[[ChatIdentity], bool]
# Draws a sent notice again where the platform put it (the row's channel and ts), from the
# record as it is now; failures are the platform's to log.
Redraw = Callable[[Nudge], Awaitable[None]]
# Shows these people (by person key) what changed where the platform keeps a view of their
# records (Slack: App Home), whichever platform the change was made on.
Refresh = Callable[[list[str]], Awaitable[None]]


@dataclass(frozen=True)
class PlatformDelivery:
    """One chat platform as the dispatcher sees it: `platform` names it as identities do
    (`storage.models.Platform`)."""

    platform: str
    send: Sender
    pace: Pace
    verify: TokenCheck | None = None
    refresh: ProfileRefresher | None = None
    reachable: Reachable | None = None
    redraw: Redraw | None = None
    views: Refresh | None = None


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
    unreachable: int = 0  # kept pending: no account on a platform this process serves
    paused: bool = False  # delivery through a platform is paused: it refused the bot's token
    paused_platforms: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int, row: int = 0) -> timedelta:
    """Exponential back-off after the n-th failure: 30 s, 60 s, 2 min, … capped at 6 h, plus
    a jitter of up to a tenth, fixed per outbox row (`row`), so rows that failed together
    (a platform's outage) are not all retried in the same second."""
    wait = min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)
    share = (row * 2654435761) % 1000 / 10_000  # 0 to 0.0999: the same for a row every time
    return wait + timedelta(seconds=int(wait.total_seconds() * share))


@dataclass(frozen=True)
class Recipient:
    """A claimed row's recipient as stored, and where and when they may be reached."""

    person: Person | None
    leave: list[Span]
    account: ChatIdentity | None  # on the platform they are reached on; None: unreachable
    zone: str | None  # the time zone name that decides when to send


def reach(
    accounts: Sequence[ChatIdentity], order: Sequence[str], served: Mapping[str, PlatformDelivery]
) -> ChatIdentity | None:
    """The account a person is reached on: on the first platform of `order` that the
    process serves (`served`, by name) and they have an account on that it can reach (their
    oldest there)."""
    for platform in order:
        if platform in served:
            can_reach = served[platform].reachable
            for account in accounts:
                if account.platform == platform and (can_reach is None or can_reach(account)):
                    return account
    return None


async def _recipients(run: _Pass, batch: list[Nudge]) -> dict[str, Recipient]:
    """The batch's recipients as stored, with their leave, the account they are reached on
    and their zone; stale profiles are asked for, for later messages, without waiting."""
    ids = {n.recipient_id for n in batch}
    async with session_scope(run.engine) as session:
        people = await queries.people_by_ids(session, ids)
        accounts = await queries.accounts_of(session, ids)
        # Every leave of the recipient holds their messages back, whatever it pauses: `all`
        # (HR's, or their manager's) and `own_messages` (their own "on leave" choice).
        spans: dict[str, list[Span]] = await queries.leave_of(session, ids)
    order, found = run.policy.delivery.platform_order, {}
    stale: dict[str, list[str]] = {}
    for key in ids:
        person = people.get(key)
        account = reach(accounts.get(key, []), order, run.platforms)
        zone = reported_zone(person, account) if person is not None else None
        found[key] = Recipient(person, spans.get(key, []), account, zone)
        active = person is not None and person.active
        if active and account is not None and is_stale(account, run.now):
            # the platform's own user ids are asked about
            stale.setdefault(account.platform, []).append(account.user_id)
    for platform, user_ids in stale.items():
        refresh = run.platforms[platform].refresh
        if refresh is not None:
            refresh(user_ids, run.now)
    return found


@dataclass
class _Pass:
    """One dispatch pass: shared by the concurrent sends of its batches."""

    engine: AsyncEngine
    platforms: dict[str, PlatformDelivery]
    policy: Policy
    now: datetime
    worker: str
    report: DispatchReport
    lease: timedelta
    slots: asyncio.Semaphore
    started: float = field(init=False)  # on the pass's clock
    paused: set[str] = field(default_factory=set)  # platforms that refused the bot
    held: list[Nudge] = field(default_factory=list)  # for a paused platform: back at the end
    parked: int = 0  # rows waiting for their channel's turn

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def timekeeper(self) -> Pace:
        """The pace whose clock and sleeper the pass keeps time by (the first platform's)."""
        return next(iter(self.platforms.values())).pace

    def clock(self) -> float:
        return self.timekeeper.clock()

    @property
    def stopped(self) -> bool:
        """Every platform of the pass is paused: nothing more can be sent."""
        return self.paused >= self.platforms.keys()

    def moment(self) -> datetime:
        """`now` moved on by the time this pass has run on its clock (leases and spacing are
        monotonic time)."""
        return self.now + timedelta(seconds=self.clock() - self.started)

    async def close(
        self, nudge: Nudge, state: NudgeState, reason: str, platform: str | None = None
    ) -> None:
        if state is NudgeState.CANCELLED:
            self.report.cancelled += 1
            metrics.send(platform, "cancelled")
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

    async def stop(self, platform: str, reason: str) -> None:
        """A platform refused the bot's token: pause delivery through it (stored)."""
        if platform not in self.paused:
            self.paused.add(platform)
            self.report.paused = True
            self.report.paused_platforms.add(platform)
            await delivery_pause.pause(self.engine, reason=reason, now=self.now, platform=platform)

    def hold(self, nudge: Nudge, platform: str) -> None:
        """Keep a row of a paused platform claimed until the pass ends (so the pass does not
        claim it again), then put it back as it was: no attempt, nothing cancelled."""
        metrics.send(platform, "held")
        self.held.append(nudge)

    async def release(self) -> None:
        """Put back what `hold` kept."""
        for nudge in self.held:
            await self.later(nudge, nudge.due_at)
        self.held.clear()

    async def unreachable(self, nudge: Nudge, platform: str | None = None) -> None:
        """No account on a platform this process serves (or, `platform`, none it can reach
        yet): kept pending, asked for again."""
        self.report.unreachable += 1
        metrics.send(platform, "unreachable")
        log.info(
            "nudge %s (%s) waits: its recipient is on no platform served", nudge.id, nudge.kind
        )
        await self.later(
            nudge,
            self.now + UNREACHABLE_RETRY,
            error=outbox.UNREACHABLE,
        )

    async def deliver(self, nudge: Nudge, to: Recipient) -> None:
        person, account = to.person, to.account
        if person is None or not person.active:
            await self.close(nudge, NudgeState.CANCELLED, "recipient is no longer in the org chart")
            return
        if account is None:
            await self.unreachable(nudge)
            return
        platform = self.platforms[account.platform]
        if platform.platform in self.paused:
            self.hold(nudge, platform.platform)
            return
        # A notice is owed now, whatever the hour; only nudges wait for working time.
        if not is_notice(nudge.kind) and not await self._in_working_time(
            nudge, person, to.leave, to.zone, platform.platform
        ):
            return
        horizon = min(CHANNEL_WAIT_MAX, self.lease.total_seconds() / 2)
        pace = platform.pace
        for retry in range(NOTICE_RETRIES + 1):
            parked = True  # waiting for its channel: holds no slot, and no room in the pass
            self.parked += 1
            try:
                async with pace.channel(nudge.recipient_id, horizon=horizon) as turn:
                    parked = False
                    self.parked -= 1
                    async with self.slots:
                        if platform.platform in self.paused:
                            self.hold(nudge, platform.platform)
                            return
                        delivered = await platform.send(nudge, self.now, turn)
            except ChannelBusy as busy:
                self.report.spaced += 1
                metrics.send(platform.platform, "spaced")
                await self.later(nudge, self.moment() + timedelta(seconds=busy.wait))
                return
            except NoLongerNeeded as reason:
                await self.close(
                    nudge,
                    NudgeState.CANCELLED,
                    str(reason) or "no longer needed",
                    platform.platform,
                )
                return
            except Unreachable as unreachable:
                metrics.platform_error(platform.platform, unreachable)
                await self.unreachable(nudge, platform.platform)
                return
            except TokenRefused as refused:
                metrics.platform_error(platform.platform, refused)
                await self.stop(platform.platform, refused.reason)
                self.hold(nudge, platform.platform)
                return
            except DeliveryError as error:
                metrics.platform_error(platform.platform, error)
                nudge.uncertain = error.uncertain
                if error.retry_after is not None and error.posting_limited:
                    pace.limited(error.retry_after)  # the platform asked everyone to wait
                    if is_notice(nudge.kind) and retry < NOTICE_RETRIES:
                        metrics.send(platform.platform, "rate_limited")
                        continue  # a notice waits it out in this pass, then goes
                await self.failed(nudge, error, platform.platform)
                return
            finally:
                if parked:
                    self.parked -= 1
            break
        pace.accepted()
        self.report.sent += 1
        metrics.send(platform.platform, "sent")
        kind = nudge.kind if nudge.kind in KNOWN_KINDS else metrics.OTHER
        metrics.send_lag(kind, (self.now - nudge.due_at).total_seconds())
        await outbox.mark_sent(
            self.engine,
            nudge,
            self.worker,
            channel=delivered.channel,
            ts=delivered.ts,
            text=delivered.text,
            now=self.now,
            platform=platform.platform,
        )

    async def _in_working_time(
        self, nudge: Nudge, person: Person, leave: list[Span], zone: str | None, platform: str
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
            await self.close(
                nudge, NudgeState.CANCELLED, f"dropped: missed its moment by {late}", platform
            )
            return False
        calendar = calendar_for(
            self.policy, timezone=zone or person.timezone, country=person.country
        )
        if not calendar.is_working_moment(now, leave):
            self.report.deferred += 1
            metrics.send(platform, "deferred")
            await self.later(nudge, calendar.next_working_moment(now, leave=leave))
            return False
        return True

    async def failed(self, nudge: Nudge, error: DeliveryError, platform: str) -> None:
        self.report.errors.append(error.reason)
        attempt = nudge.attempts + 1
        if error.recipient_gone:
            await self.close(nudge, NudgeState.CANCELLED, error.reason, platform)
        elif error.retry_after is not None:
            self.report.retried += 1
            metrics.send(platform, "rate_limited")
            await self.later(
                nudge,
                self.now + timedelta(seconds=error.retry_after),
                error=error.reason,
                uncertain=error.uncertain,
            )
        elif attempt >= self.policy.delivery.max_attempts:
            self.report.failed += 1
            metrics.send(platform, "failed")
            log.error(
                "nudge %s failed for good after %d attempts: %s", nudge.id, attempt, error.reason
            )
            await self.close(nudge, NudgeState.FAILED, error.reason)
        else:
            self.report.retried += 1
            metrics.send(platform, "retried")
            await self.later(
                nudge,
                self.now + backoff(attempt, nudge.id or 0),
                error=error.reason,
                count_attempt=True,
                uncertain=error.uncertain,
            )


async def dispatch(
    engine: AsyncEngine,
    platforms: Sequence[PlatformDelivery],
    *,
    policy: Policy,
    now: datetime,
    worker: str,
    batch: int = BATCH,
    max_rows: int = 100_000,
    kinds: Collection[str] | None = None,
) -> DispatchReport:
    """Send every nudge due at `now` (of `kinds`, default all) until none is left (or
    `max_rows`), each through its recipient's platform; nothing through a platform while it
    is paused and still refuses the bot."""
    if not platforms:
        raise ValueError("dispatch needs at least one platform to send through")
    delivery = policy.delivery
    report = DispatchReport()
    run = _Pass(
        engine,
        {p.platform: p for p in platforms},
        policy,
        now,
        worker,
        report,
        timedelta(seconds=delivery.lease_seconds),
        asyncio.Semaphore(delivery.concurrency),
    )
    for platform in platforms:
        if not await _may_send(engine, platform, now):
            run.paused.add(platform.platform)
            report.paused_platforms.add(platform.platform)
    report.paused = bool(run.paused)
    if run.stopped:
        return report
    renewer = asyncio.create_task(_renew_leases(run))
    try:
        await _pump(run, batch=batch, max_rows=max_rows, kinds=kinds)
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        await run.release()
    return report


async def _may_send(engine: AsyncEngine, platform: PlatformDelivery, now: datetime) -> bool:
    """False while delivery through the platform is paused and it still refuses the bot; a
    token that works again ends the pause."""
    name = platform.platform
    if await delivery_pause.current(engine, name) is None:
        return True
    if platform.verify is not None and await platform.verify():
        await delivery_pause.resume(engine, name)
        return True
    await delivery_pause.checked(engine, now, name)
    return False


async def _pump(
    run: _Pass,
    *,
    batch: int,
    max_rows: int,
    kinds: Collection[str] | None,
) -> None:
    """Claim a batch, start its sends, and claim the next once half of them are done, until
    nothing due is left; a send that raised stops the claiming and is raised at the end."""
    sending: set[asyncio.Task[None]] = set()
    more, failure = True, None
    try:
        while True:
            # rows waiting for their channel take no room, up to a bound on what a pass holds
            room = min(batch - (len(sending) - run.parked), batch * PARKED_BATCHES - len(sending))
            wanted = more and not run.stopped and failure is None and room >= max(1, batch // 2)
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
                recipients = await _recipients(run, claimed) if claimed else {}
                for n in claimed:
                    sending.add(asyncio.create_task(run.deliver(n, recipients[n.recipient_id])))
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
        await run.timekeeper.sleep(every)
        try:
            await outbox.renew(run.engine, run.worker, until=run.moment() + run.lease)
        except Exception as exc:  # the next renewal tries again; the lease is the safety net
            log.warning("could not renew the outbox leases (%s)", type(exc).__name__)
