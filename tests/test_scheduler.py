"""Inside `serve`, APScheduler runs the planner and dispatcher: coalesced, one instance per
job, a real misfire grace, UTC; the first plan runs at start."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.engine.scheduler import build_scheduler
from storage.db import session_scope
from storage.models import Nudge
from tests.factories import seed_org


async def test_scheduler_jobs_are_coalesced_single_and_forgiving(nudge_engine):
    scheduler = build_scheduler(nudge_engine)
    scheduler.start(paused=True)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    scheduler.shutdown(wait=False)

    assert set(jobs) == {"plan", "dispatch", "retention"}
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert jobs["plan"].misfire_grace_time == jobs["dispatch"].misfire_grace_time == 300
    assert jobs["retention"].misfire_grace_time == 6 * 3600  # a restart near 03:00 still runs it
    retention = jobs["retention"].trigger
    assert str(retention.timezone) == "Asia/Shanghai"  # the policy's zone, at its hour
    assert str(retention.fields[retention.FIELD_NAMES.index("hour")]) == "3"
    assert jobs["plan"].trigger.interval.total_seconds() == 600
    assert jobs["dispatch"].trigger.interval.total_seconds() == 20
    assert str(scheduler.timezone) == "UTC"


async def test_the_first_plan_runs_as_soon_as_serve_starts(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    scheduler = build_scheduler(nudge_engine)
    scheduler.start()
    try:
        for _ in range(200):  # up to 10 s for the job to run in this event loop
            async with session_scope(engine) as session:
                count = (
                    await session.execute(select(func.count()).select_from(Nudge))
                ).scalar_one()
            if count:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    assert count > 0
