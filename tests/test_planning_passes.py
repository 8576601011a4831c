"""A planning pass creates what is due first, up to its limit, and knows what is stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from bot.engine.kinds import CHECKIN, GOAL, HEADS_UP
from bot.engine.known_keys import load_known_keys
from bot.engine.outbox import NudgeSpec, enqueue
from bot.engine.planner import earliest, plan
from bot.org.policy import Delivery
from storage.db import is_sqlite, refresh_statistics, session_scope
from storage.models import Nudge
from tests.factories import add_people, key

THU_11 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai, 04:00 in Berlin
FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # the next 10:00 in Shanghai
PASS_EVERY = timedelta(minutes=10)
PEOPLE = [
    {"slack_id": "U1MGR", "name": "Mia", "timezone": "Asia/Shanghai"},
    {"slack_id": "U1SHA", "name": "Eli", "manager_id": "U1MGR", "timezone": "Asia/Shanghai"},
    {"slack_id": "U1BER", "name": "Ben", "manager_id": "U1MGR", "timezone": "Europe/Berlin"},
    {"slack_id": "U1LON", "name": "Lou", "manager_id": "U1MGR", "timezone": "Europe/London"},
]


def spec(subject: str, due_at: datetime, kind: str = CHECKIN) -> NudgeSpec:
    return NudgeSpec(kind, "U1MGR", subject, "2026-11", due_at, subject, "manager", {})


async def stored(engine) -> list[Nudge]:
    async with session_scope(engine) as session:
        return list((await session.execute(select(Nudge).order_by(Nudge.id))).scalars())


async def test_a_pass_creates_the_nudges_due_first_and_the_next_passes_the_rest(engine, policy):
    await add_people(engine, PEOPLE)

    passes = [await plan(engine, policy=policy, now=THU_11, limit=2)]
    first = await stored(engine)
    moment = THU_11
    while passes[-1].deferred:
        moment += PASS_EVERY
        passes.append(await plan(engine, policy=policy, now=moment, limit=2))
    steady = await plan(engine, policy=policy, now=moment + PASS_EVERY, limit=2)

    # three check-ins to Mia and Eli's heads-up, at 10:00 in Shanghai; Ben's and Lou's
    # heads-ups at 10:00 in Berlin and London, hours later
    assert [(p.planned, p.created, p.deferred) for p in passes] == [(6, 2, 4), (4, 2, 2), (2, 2, 0)]
    assert {n.due_at for n in first} == {FRI_10}
    rows = await stored(engine)
    assert len({(n.kind, n.recipient_id, n.subject, n.period) for n in rows}) == len(rows) == 6
    assert sorted(n.kind for n in rows) == [CHECKIN] * 3 + [HEADS_UP] * 3
    later = [n for n in rows if n.recipient_id in (key("U1BER"), key("U1LON"))]
    assert len(later) == 2 and min(n.due_at for n in later) > FRI_10
    assert {n.id for n in first}.isdisjoint(n.id for n in later)
    assert (steady.planned, steady.created, steady.deferred) == (0, 0, 0)


def test_earliest_keeps_the_given_order_and_takes_the_first_of_equal_moments():
    t1, t2, t3 = (THU_11 + timedelta(hours=h) for h in (1, 2, 3))
    specs = [spec("a", t2), spec("b", t1), spec("c", t2), spec("d", t1), spec("e", t3)]

    assert [s.subject for s in earliest(specs, 3)] == ["a", "b", "d"]
    assert [s.subject for s in earliest(specs, 2)] == ["b", "d"]
    assert earliest(specs, 5) is specs


def test_a_pass_creates_at_least_twice_what_the_dispatcher_sends_before_the_next():
    assert Delivery().new_nudges_per_pass == 5_000  # 4/s for 10 min: 2,400 sends
    fast = Delivery(sends_per_second=50, plan_every_minutes=10)
    assert fast.new_nudges_per_pass == 60_000


async def test_the_planner_reads_stored_keys_by_period_and_by_subject(engine):
    await add_people(engine, PEOPLE)
    async with session_scope(engine) as session:
        specs = [
            spec("U1SHA", THU_11),
            spec("U1BER", THU_11),
            spec("goal:7", THU_11, kind=GOAL)._replace(period="r2"),
            spec("goal:8", THU_11, kind=GOAL)._replace(period="r0"),
        ]
        assert await enqueue(session, specs + specs[:1], THU_11) == 4  # the repeat is skipped
        await session.commit()
    async with session_scope(engine) as session:
        known = await load_known_keys(
            session,
            slots=[(CHECKIN, "2026-11"), (HEADS_UP, "2026-11"), (CHECKIN, "2026-10")],
            kinds=[GOAL],
            subjects=["goal:7"],
        )
    assert known.has(CHECKIN, "U1MGR", "U1SHA", "2026-11")
    assert known.has(CHECKIN, "U1MGR", "U1BER", "2026-11")
    assert not known.has(CHECKIN, "U1MGR", "U1LON", "2026-11")
    assert known.has(GOAL, "U1MGR", "goal:7", "r2")
    assert not known.has(GOAL, "U1MGR", "goal:8", "r0")  # not asked for
    assert len(known) == 3


async def test_a_pass_that_grows_the_outbox_by_a_tenth_refreshes_its_statistics(engine):
    specs = [spec(f"U{i:04d}", THU_11) for i in range(100)]
    async with session_scope(engine) as session:
        if not is_sqlite(engine):
            # PostgreSQL's counts of changed rows outlive the truncation between tests: start
            # from an analysed, empty table, or what earlier tests wrote would count too
            await session.execute(text("ANALYZE nudge"))
        small = await refresh_statistics(session, "nudge", 10)  # 10 new rows: not worth it
        await enqueue(session, specs, THU_11)
        await session.commit()
        grown = await refresh_statistics(session, "nudge", len(specs))
        await session.commit()
        if is_sqlite(engine):  # SQLite plans without statistics
            assert (small, grown) == (False, False)
            return
        rows = await session.execute(text("SELECT reltuples FROM pg_class WHERE relname = 'nudge'"))
    assert (small, grown) == (False, True)
    assert rows.scalar_one() == 100  # the planner now knows the table's size
