"""Several dispatchers on one PostgreSQL never send a nudge twice, and a crashed one's rows
are taken over once its lease runs out."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.engine import outbox
from bot.engine.dispatch import Delivered, PlatformDelivery, dispatch
from bot.engine.outbox import NudgeSpec, enqueue
from bot.engine.pace import Pace
from storage.db import make_engine, session_scope
from storage.models import Nudge, NudgeState
from tests.factories import add_people, key

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai (the policy's zone)


async def seed(engine, count: int) -> None:
    """`count` managers, each with one report and a check-in about them due."""
    await add_people(
        engine, [dict(slack_id=f"UM{i:05d}", name=f"Manager {i}") for i in range(count)]
    )
    await add_people(
        engine,
        [
            dict(slack_id=f"U{i:05d}", name=f"Report {i}", manager_id=f"UM{i:05d}")
            for i in range(count)
        ],
    )
    async with session_scope(engine) as session:
        specs = [
            NudgeSpec(
                "checkin",
                key(f"UM{i:05d}"),
                key(f"U{i:05d}"),
                "2026-11",
                NOW - timedelta(minutes=1),
                key(f"U{i:05d}"),
                "manager",
                {},
            )
            for i in range(count)
        ]
        await enqueue(session, specs, NOW - timedelta(days=1))
        await session.commit()


@pytest.mark.postgres_only
async def test_four_dispatchers_at_once_send_every_nudge_exactly_once(
    database_url, policy, fast_forward_time
):
    engines = [make_engine(database_url) for _ in range(4)]
    await seed(engines[0], 400)
    sent: Counter[int] = Counter()

    async def send(nudge: Nudge, now: datetime, turn) -> Delivered:
        await turn()
        sent[nudge.id] += 1
        await asyncio.sleep(0.001)  # a network round trip: lets the others interleave
        return Delivered(channel=f"D{nudge.recipient_id}", ts=f"1.{nudge.id}", text="check-in")

    fast = policy.model_copy(
        update={
            "delivery": policy.delivery.model_copy(
                update={"sends_per_second": 100.0, "max_sends_per_second": 100.0, "concurrency": 8}
            )
        }
    )

    def own_pace() -> Pace:  # each process its own, keeping fast-forward time
        return Pace(
            start=fast.delivery.sends_per_second,
            ceiling=fast.delivery.max_sends_per_second,
            clock=fast_forward_time.clock,
            sleep=fast_forward_time.sleep,
        )

    reports = await asyncio.gather(
        *(
            dispatch(
                e,
                [PlatformDelivery("slack", send, own_pace())],
                policy=fast,
                now=NOW,
                worker=f"worker-{n}",
                batch=20,
            )
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


async def test_a_crashed_workers_rows_are_claimed_again_after_the_lease_as_uncertain(engine):
    await seed(engine, 3)
    lease = timedelta(seconds=30)
    crashed = await outbox.claim(engine, now=NOW, worker="crashed", limit=10, lease=lease)
    assert len(crashed) == 3 and not any(n.uncertain for n in crashed)

    second = NOW + timedelta(seconds=29)
    too_early = await outbox.claim(engine, now=second, worker="b", limit=10, lease=lease)
    after_lease = await outbox.claim(
        engine, now=NOW + timedelta(seconds=31), worker="b", limit=10, lease=lease
    )

    assert too_early == []
    assert sorted(n.id for n in after_lease) == sorted(n.id for n in crashed)
    # the dead worker may have posted them: look before posting again, since the first claim
    assert all(n.uncertain and n.first_claimed_at == NOW for n in after_lease)
    assert not await outbox.mark_sent(
        engine, crashed[0], "crashed", channel="D", ts="1", text="late", now=NOW
    )  # the late worker cannot finish it
    async with session_scope(engine) as session:
        row = await session.get(Nudge, crashed[0].id)
    assert (row.state, row.claimed_by) == (NudgeState.SENDING, "b")


async def test_a_lease_renewed_while_sending_is_not_taken_over(engine):
    await seed(engine, 2)
    lease = timedelta(seconds=30)
    held = await outbox.claim(engine, now=NOW, worker="slow", limit=10, lease=lease)

    renewed = await outbox.renew(engine, "slow", until=NOW + timedelta(seconds=50))
    taken = await outbox.claim(
        engine, now=NOW + timedelta(seconds=40), worker="b", limit=10, lease=lease
    )

    assert renewed == len(held) == 2
    assert taken == []


async def test_planning_the_same_period_twice_creates_nothing_new(engine, policy):
    from bot.engine.planner import plan
    from tests.factories import ORG

    await add_people(engine, ORG)
    first = await plan(engine, policy=policy, now=NOW)
    second = await plan(engine, policy=policy, now=NOW + timedelta(hours=3))

    assert first.created > 0 and second.created == 0
    async with session_scope(engine) as session:
        total = (await session.execute(select(func.count()).select_from(Nudge))).scalar_one()
    assert total == first.created
