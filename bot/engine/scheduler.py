"""The engine's heartbeat: one plan-and-dispatch pass (`tick`), and APScheduler running the
passes inside `serve`. The database, not APScheduler's job store, knows what is due."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import metrics
from bot.clock import system_clock
from bot.context import Context
from bot.engine import notices
from bot.engine.dispatch import DispatchReport, PlatformDelivery, dispatch
from bot.engine.kinds import NOTICE_KINDS
from bot.engine.planner import PlanReport, plan
from bot.logs import failure
from bot.privacy.retention import retention
from storage.db import session_scope
from storage.models import Nudge, Platform

log = logging.getLogger(__name__)


def worker_name() -> str:
    """This process's name in the outbox's `claimed_by`."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Engine:
    """The planner and dispatcher bound to one process's dependencies and the chat platforms
    it sends through; one per process, so the Notifier's passes and the periodic dispatcher
    share each platform's pace."""

    context: Context
    platforms: list[PlatformDelivery]
    worker: str

    def platform(self, name: str) -> PlatformDelivery:
        """The delivery of one platform this engine sends through."""
        return next(p for p in self.platforms if p.platform == name)

    async def plan(self, now: datetime | None = None) -> PlanReport:
        """Plan at `now` (default: the clock)."""
        with metrics.timed_pass("plan"):
            return await plan(
                self.context.engine, policy=self.context.policy, now=now or self.context.clock()
            )

    async def dispatch(self, now: datetime | None = None) -> DispatchReport:
        """Send what is due at `now` (default: the clock)."""
        with metrics.timed_pass("dispatch"):
            return await dispatch(
                self.context.engine,
                self.platforms,
                policy=self.context.policy,
                now=now or self.context.clock(),
                worker=self.worker,
            )

    async def send_notices(self, now: datetime | None = None) -> DispatchReport:
        """Send the notices owed at `now` (default: the clock), and nothing else."""
        with metrics.timed_pass("notices"):
            return await dispatch(
                self.context.engine,
                self.platforms,
                policy=self.context.policy,
                now=now or self.context.clock(),
                worker=self.worker,
                kinds=NOTICE_KINDS,
            )

    async def tick(self, now: datetime | None = None) -> tuple[PlanReport, DispatchReport]:
        """Exactly one plan and one dispatch pass at the same moment."""
        moment = now or self.context.clock()
        return await self.plan(moment), await self.dispatch(moment)


def build_scheduler(engine: Engine) -> AsyncIOScheduler:
    """APScheduler in UTC: plan and dispatch on intervals, one instance each, coalesced, with a
    grace long enough that a pause or restart does not silently skip a run."""
    delivery = engine.context.policy.delivery
    scheduler = AsyncIOScheduler(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    scheduler.add_job(
        _run_plan,
        "interval",
        minutes=delivery.plan_every_minutes,
        id="plan",
        replace_existing=True,
        args=[engine],
        next_run_time=system_clock(),
    )
    scheduler.add_job(
        _run_dispatch,
        "interval",
        seconds=delivery.dispatch_every_seconds,
        id="dispatch",
        replace_existing=True,
        args=[engine],
        next_run_time=system_clock(),  # at start: what a stopped process owed goes out now
    )
    scheduler.add_job(
        _run_retention,
        "cron",
        hour=engine.context.policy.retention.hour,
        timezone=engine.context.policy.timezone,
        id="retention",
        replace_existing=True,
        args=[engine],
        misfire_grace_time=6 * 3600,  # a restart around that hour still runs it that day
    )
    return scheduler


class Notifier:
    """Sends owed notices as soon as a record is saved: `kick()` after the commit starts one
    pass over the notices (a kick during a pass asks for one more), so people hear at once
    instead of at the next dispatch run. The periodic dispatcher still sends anything this
    misses, for instance after a crash."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        """Send what is owed now, in the background."""
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def idle(self) -> None:
        """Wait until no pass is running (shutdown, tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    async def _run(self) -> None:
        while True:
            self._again = False
            try:
                await self.engine.send_notices()
            except Exception as exc:
                log.error("sending notices failed (%s); the dispatcher retries", type(exc).__name__)
            if not self._again:
                return

    async def redraw_posted(
        self, *, subject: str, kinds: tuple[str, ...], version: str | None = None
    ) -> None:
        """Draw again, on the platform each went out on, the notices about `subject` that were
        sent already, from the record as it is now (one not sent yet reads the record when it
        goes)."""
        self.kick()
        await self.idle()  # a notice being sent right now is sent before it is redrawn
        async with session_scope(self.engine.context.engine) as session:
            rows = await notices.posted(session, kinds=kinds, subject=subject, version=version)
        await self.redraw(rows)

    async def records_changed(self, person_keys: list[str]) -> None:
        """Refresh the views every platform keeps of these people's records (Slack's App
        Home), after a change made on any platform."""
        for delivery in self.engine.platforms:
            if delivery.views is not None:
                await delivery.views(person_keys)

    async def redraw(self, rows: list[Nudge]) -> None:
        """Draw these sent notices again, each on the platform it went out on."""
        served = {p.platform: p for p in self.engine.platforms}
        for row in rows:
            delivery = served.get(row.platform or Platform.SLACK)
            if delivery is not None and delivery.redraw is not None:
                await delivery.redraw(row)


async def _run_plan(engine: Engine) -> None:
    try:
        report = await engine.plan()
        log.info("plan: %s", report)
    except Exception:
        failure(log, "planning failed; the next run tries again")


async def _run_retention(engine: Engine) -> None:
    """Delete what the policy no longer keeps (every replica may run it: each batch finds
    what is still there, and an erasure already done is skipped)."""
    context = engine.context
    try:
        await retention(
            context.engine,
            policy=context.policy,
            now=context.clock(),
            apply=True,
            reader=RETENTION_READER,
            platform="bot",
        )
    except Exception:
        failure(log, "retention failed; tomorrow's run tries again")


RETENTION_READER = "retention"  # who the access log says erased a leaver


async def _run_dispatch(engine: Engine) -> None:
    try:
        report = await engine.dispatch()
        if report.claimed:
            log.info("dispatch: %s", report)
    except Exception:
        failure(log, "dispatch failed; the next run tries again")
