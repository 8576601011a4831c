"""How close the dispatcher comes to the rate Slack allows, and whether it loses or doubles a
message.

    .venv/bin/python benchmarks/dispatch_bench.py [--rate 20] [--managers 100] [--reports 3]
        [--burst RATE] [--start 4] [--ceiling 50] [--database-url URL]

Seeds MANAGERS managers with REPORTS reports each (400 people by default) and, through
`bot.engine.outbox.enqueue`, a due check-in to each manager about each report (a burst of REPORTS
messages to each manager's DM) and a heads-up to each report: 600 messages to 400 people by
default. Every recipient has a DM channel and a Slack language and zone checked a day ago, so
no look-ups are made. The Slack stand-in limits chat.postMessage workspace-wide to RATE per
second (a token bucket of BURST, by default a second's worth; over it: 429 with Retry-After:
1) and to 1 per second per
channel (bucket of 1). The real sender and dispatcher (`create_app` +
`create_nudge_engine(sends_per_second=START, max_sends_per_second=CEILING)`) run passes with a
clock that advances with real time until no row is pending; rows put back (a 429, a busy
channel) go out in a later pass.

Checks: every row `sent`, exactly one message in Slack per outbox row (counted from the
stand-in's stored messages and their metadata), and a throughput of at least 0.9 × RATE.
`--ceiling 4 --start 4` is the old fixed pace of `sends_per_second: 4`, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    bulk_insert,
    create_database,
    drop_database,
    fresh_name,
    machine,
    migrated_engine,
    policy,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dev.slack_standin import SlackStandIn
from bot.engine.kinds import CHECKIN, HEADS_UP
from bot.engine.outbox import NudgeSpec, enqueue
from bot.org.periods import period_of
from bot.process.config import Settings
from bot.slack.app import create_app, create_nudge_engine
from storage.db import is_sqlite, session_scope
from storage.models import ChatIdentity, Nudge, Person

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # Thursday, 11:00 in Shanghai
TARGET = 0.9  # of the workspace rate
PLACES = [
    ("Asia/Shanghai", "CN", "zh"),
    ("Asia/Shanghai", "CN", "en"),
    ("Asia/Singapore", "SG", "en"),
    ("Asia/Tokyo", "JP", "en"),
    ("Asia/Hong_Kong", "HK", "zh"),
]


class RealTimeClock:
    """T0, then advancing with the wall clock, as the bot's clock would."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        return T0 + timedelta(seconds=time.monotonic() - self.started)


def _person(sid: str, name: str, manager: str | None, i: int) -> dict[str, object]:
    zone, country, locale = PLACES[i % len(PLACES)]
    joined = datetime(2025, 1, 6, tzinfo=UTC)
    return {
        "id": f"p{sid.lower()}",  # the person key; `sid` is their Slack user id
        "email": f"{sid.lower()}@example.com",
        "name": name,
        "manager_id": f"p{manager.lower()}" if manager else None,
        "timezone": zone,
        "locale": locale,
        "country": country,
        "is_hr": False,
        "active": True,
        "employee_number": None,
        "created_at": joined,
        "updated_at": joined,
    }


def _slack_identity(person: dict[str, object]) -> dict[str, object]:
    """The person's Slack account, looked up a day ago: DM open, language and zone known."""
    sid = str(person["id"])[1:].upper()
    return {
        "person_id": person["id"],
        "platform": "slack",
        "workspace": "",
        "user_id": sid,
        "conversation": f"D{sid}",
        "locale": person["locale"],
        "timezone": person["timezone"],
        "refreshed_at": T0 - timedelta(days=1),
        "created_at": person["created_at"],
        "updated_at": person["updated_at"],
    }


async def seed(engine: AsyncEngine, managers: int, reports: int) -> int:
    """The org and its due check-ins and heads-ups; returns how many messages are owed."""
    bosses = [_person(f"UM{m:05d}", f"Manager {m}", None, m) for m in range(managers)]
    staff = [
        _person(f"UE{m:05d}{r:02d}", f"Employee {m}.{r}", f"UM{m:05d}", m)
        for m in range(managers)
        for r in range(reports)
    ]
    await bulk_insert(engine, Person.__table__, bosses)  # type: ignore[attr-defined]
    await bulk_insert(engine, Person.__table__, staff)  # type: ignore[attr-defined]
    identities = [_slack_identity(p) for p in bosses + staff]
    await bulk_insert(engine, ChatIdentity.__table__, identities)  # type: ignore[attr-defined]
    period = period_of(T0.date(), policy().cadence.checkin)
    specs = []
    for n, employee in enumerate(staff):
        eid, mid = str(employee["id"]), str(employee["manager_id"])
        due = T0 - timedelta(minutes=30) + timedelta(milliseconds=n // reports)  # a burst each
        checkin = {"firm": False, "last": None, "since": period.start, "round": period.index}
        heads_up = {"manager": mid, "since": period.start, "round": period.index}
        specs.append(NudgeSpec(CHECKIN, mid, eid, period.key, due, eid, "manager", checkin))
        specs.append(NudgeSpec(HEADS_UP, eid, eid, period.key, due, eid, "employee", heads_up))
    async with session_scope(engine) as session:
        created = await enqueue(session, specs, T0 - timedelta(hours=1))
        await session.commit()
    assert created == len(specs), f"seeded {created} nudges, wanted {len(specs)}"
    return created


async def states(engine: AsyncEngine) -> Counter[str]:
    async with session_scope(engine) as session:
        rows = await session.execute(select(Nudge.state, func.count()).group_by(Nudge.state))
        return Counter({state: n for state, n in rows})


async def run(url: str, args: argparse.Namespace) -> bool:
    engine = await migrated_engine(url)
    try:
        count = await seed(engine, args.managers, args.reports)
        with SlackStandIn() as slack:
            slack.set_rate_limit("chat.postMessage", per_second=args.rate, burst=args.burst)
            slack.set_channel_rate_limit(per_second=1, burst=1)
            settings = Settings.from_env(
                {
                    "SLACK_BOT_TOKEN": slack.bot_token,
                    "SLACK_SIGNING_SECRET": "benchmark",
                    "SLACK_API_URL": slack.base_url,
                    "DATABASE_URL": url,
                }
            )
            clock = RealTimeClock()
            _app, deps = create_app(settings, policy(), engine=engine, clock=clock)
            nudges = create_nudge_engine(
                deps, settings, sends_per_second=args.start, max_sends_per_second=args.ceiling
            )
            passes, claimed, retried, spaced = 0, 0, 0, 0
            started = time.monotonic()
            while True:
                report = await nudges.dispatch(clock())
                passes += 1
                claimed, retried = claimed + report.claimed, retried + report.retried
                spaced += report.spaced
                left = await states(engine)
                if not (left["pending"] or left["sending"]):
                    break
                if not report.claimed:  # only rows put back for later: wait for them
                    await asyncio.sleep(0.02)
            elapsed = time.monotonic() - started
            calls = slack.calls_to("chat.postMessage")
            rows = await _sent_rows(engine)
            held = Counter(
                m["metadata"]["event_payload"]["outbox_id"]
                for channel in {r.channel for r in rows}
                for m in slack.messages_in(str(channel))
            )
            final_rate = nudges.platform("slack").pace.rate
        final = await states(engine)
    finally:
        await engine.dispose()
    return report_figures(args, count, elapsed, calls, held, rows, final, final_rate, passes)


async def _sent_rows(engine: AsyncEngine) -> list[Nudge]:
    async with session_scope(engine) as session:
        return list((await session.execute(select(Nudge).where(Nudge.state == "sent"))).scalars())


def report_figures(
    args: argparse.Namespace,
    count: int,
    elapsed: float,
    calls: list,  # type: ignore[type-arg]
    held: Counter[int],
    rows: list[Nudge],
    final: Counter[str],
    final_rate: float,
    passes: int,
) -> bool:
    ok = [c for c in calls if c.status == 200]
    limited = [c for c in calls if c.status == 429]
    per_channel = Counter(c.params.get("channel") for c in ok)
    gaps = [b.at - a.at for a, b in itertools.pairwise(ok)]
    throughput = count / elapsed
    doubled = [i for i, n in held.items() if n > 1]
    lost = [r.id for r in rows if held[r.id or 0] == 0]
    print(f"  passes {passes}; final pace {final_rate:.1f}/s; final states {dict(final)}")
    print(
        f"  chat.postMessage: {len(ok)} accepted, {len(limited)} answered 429,"
        f" {len(per_channel)} channels, most to one channel {max(per_channel.values())}"
    )
    if gaps:
        print(f"  gap between accepted posts: median {statistics.median(gaps) * 1000:.1f} ms")
    last_at: dict[str, float] = {}
    channel_limited = 0
    for call in calls:
        channel = str(call.params.get("channel"))
        if call.status == 429 and call.at - last_at.get(channel, -9.0) < 1.0:
            channel_limited += 1
        if call.status == 200:
            last_at[channel] = call.at
    print(f"  429s within a second of the channel's previous post: {channel_limited}")
    first = calls[0].at if calls else 0.0
    per_second = Counter(int(c.at - first) for c in ok)
    print(
        "  accepted per second: " + " ".join(str(per_second[s]) for s in range(max(per_second) + 1))
    )
    print(
        f"  wall time {elapsed:.2f}s (minimum {count / args.rate:.2f}s):"
        f" {throughput:.2f} messages/s = {throughput / args.rate:.3f} of the rate"
    )
    checks = [
        (f"every row sent ({final['sent']} == {count})", final["sent"] == count),
        (f"one message in Slack per row ({len(held)} rows held)", len(held) == count),
        (f"none doubled ({len(doubled)})", not doubled),
        (f"none lost ({len(lost)})", not lost),
        (
            f"throughput {throughput / args.rate:.3f} >= {TARGET} of the rate",
            throughput / args.rate >= TARGET,
        ),
    ]
    for label, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'} {label}")
    return all(passed for _, passed in checks)


async def main_async(args: argparse.Namespace) -> bool:
    if args.database_url and not is_sqlite(args.database_url):
        name = fresh_name("cadence_dispatch_bench")
        url = await create_database(args.database_url, name)
        try:
            return await run(url, args)
        finally:
            await drop_database(args.database_url, name)
    if args.database_url:
        return await run(args.database_url, args)
    with tempfile.TemporaryDirectory() as tmp:
        return await run(f"sqlite:///{Path(tmp) / 'dispatch_bench.db'}", args)


def main() -> int:
    delivery = policy().delivery
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="posts a second Slack allows")
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--reports", type=int, default=3, help="reports per manager")
    parser.add_argument(
        "--burst", type=int, help="the workspace bucket's size (default: RATE, a second's worth)"
    )
    parser.add_argument(
        "--start", type=float, default=delivery.sends_per_second, help="sends_per_second"
    )
    parser.add_argument(
        "--ceiling",
        type=float,
        default=delivery.max_sends_per_second,
        help="max_sends_per_second",
    )
    parser.add_argument(
        "--database-url",
        help="postgresql://… (a server: a fresh database is made) or sqlite:///file;"
        " default: a temporary SQLite file",
    )
    args = parser.parse_args()
    args.burst = args.burst or max(1, round(args.rate))
    logging.basicConfig(level=logging.WARNING)
    kind = "SQLite (temp file)" if not args.database_url or is_sqlite(args.database_url) else "PG"
    messages = args.managers * args.reports * 2
    people = args.managers * (args.reports + 1)
    print(f"machine: {machine()}")
    print(
        f"{messages} messages to {people} people, Slack allows {args.rate:g}/s (burst"
        f" {args.burst}) and 1/s per channel; pace from {args.start:g}/s, ceiling"
        f" {args.ceiling:g}/s; database {kind}"
    )
    return 0 if asyncio.run(main_async(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
