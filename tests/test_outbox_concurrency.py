"""Several dispatchers on one PostgreSQL never send a nudge twice, and a crashed one's rows
are taken over once its lease runs out."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot import outbox
from bot.dispatch import Delivered, dispatch
from bot.outbox import NudgeSpec, enqueue
from storage.db import make_engine, session_scope
from storage.models import Nudge, NudgeState
from tests.factories import add_people

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai (the policy's zone)


async def seed(engine, count: int) -> None:
    await add_people(engine, [dict(slack_id="UMGR", name="Manager")])
    await add_people(
        engine,
        [dict(slack_id=f"U{i:05d}", name=f"Report {i}", manager_id="UMGR") for i in range(count)],
    )
    async with session_scope(engine) as session:
        specs = [
            NudgeSpec(
                "checkin",
                "UMGR",
                f"U{i:05d}",
                "2026-11",
                NOW - timedelta(minutes=1),
                f"U{i:05d}",
                "manager",
                {},
            )
            for i in range(count)
        ]
        await enqueue(session, specs, NOW - timedelta(days=1))
        await session.commit()


@pytest.mark.postgres_only
async def test_four_dispatchers_at_once_send_every_nudge_exactly_once(database_url, policy):
    engines = [make_engine(database_url) for _ in range(4)]
    await seed(engines[0], 400)
    sent: Counter[int] = Counter()

    async def send(nudge: Nudge, now: datetime, turn) -> Delivered:
        await turn()
        sent[nudge.id] += 1
        await asyncio.sleep(0.001)  # a network round trip: lets the others interleave
        return Delivered(channel="DUMGR", ts=f"1.{nudge.id}", text="check-in")

    fast = policy.model_copy(
        update={
            "delivery": policy.delivery.model_copy(
                update={"sends_per_second": 100.0, "concurrency": 8}
            )
        }
    )
    reports = await asyncio.gather(
        *(
            dispatch(e, send, policy=fast, now=NOW, worker=f"worker-{n}", batch=20)
            for n, e in enumerate(engines)
        )
    )

    assert sum(r.sent for r in reports) == 400
    assert len(sent) == 400 and max(sent.values()) == 1
    assert all(r.sent > 0 for r in reports), [r.sent for r in reports]  # they really shared
    async with session_scope(engines[0]) as session:
        states = dict(
            (await session.execute(select(Nudge.state, func.count()).group_by(Nudge.state))).all()
        )
    assert states == {"sent": 400}
    for e in engines:
        await e.dispose()


async def test_a_crashed_workers_rows_are_claimed_again_after_the_lease(engine):
    await seed(engine, 3)
    crashed = await outbox.claim(engine, now=NOW, worker="crashed", limit=10)
    assert len(crashed) == 3

    too_early = await outbox.claim(engine, now=NOW + timedelta(minutes=4), worker="b", limit=10)
    after_lease = await outbox.claim(engine, now=NOW + timedelta(minutes=6), worker="b", limit=10)

    assert too_early == []
    assert sorted(n.id for n in after_lease) == sorted(n.id for n in crashed)
    assert not await outbox.mark_sent(
        engine, crashed[0], "crashed", channel="D", ts="1", text="late", now=NOW
    )  # the late worker cannot finish it
    async with session_scope(engine) as session:
        row = await session.get(Nudge, crashed[0].id)
    assert (row.state, row.claimed_by) == (NudgeState.SENDING, "b")


async def test_planning_the_same_period_twice_creates_nothing_new(engine, policy):
    from bot.cadence import plan
    from tests.factories import ORG

    await add_people(engine, ORG)
    first = await plan(engine, policy=policy, now=NOW)
    second = await plan(engine, policy=policy, now=NOW + timedelta(hours=3))

    assert first.created > 0 and second.created == 0
    async with session_scope(engine) as session:
        total = (await session.execute(select(func.count()).select_from(Nudge))).scalar_one()
    assert total == first.created
