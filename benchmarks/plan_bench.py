"""How long and how much memory one planning pass takes for a large organisation.

    .venv/bin/python benchmarks/plan_bench.py [--sizes 1000,10000,100000] [--repeat 3]
        [--at 2026-11-26T03:00Z,2026-12-22T03:00Z] [--database-url postgresql://…/test]

For each moment and size a PostgreSQL database is created, migrated and bulk-loaded (COPY)
with an org: managers with 8 reports each, a dozen time zones and countries (holidays
included), people on leave, talks (this month, last month, long ago, never; dated from the
moment), open action items (due soon and overdue), unclarified goals and ended milestones.
Loading is not measured. Each measurement then runs in a fresh process on a fresh copy of
that database (CREATE DATABASE … TEMPLATE):

* the first pass: one `plan(engine, policy=app.yaml, now=AT)` on an empty outbox, as when
  an organisation installs the bot. It creates the nudges due first, at most
  `delivery.new_nudges_per_pass` (5,000 with app.yaml);
* the backlog passes, every 10 minutes (app.yaml's `plan_every_minutes`) of simulated time
  after AT, until nothing is left for later: the slowest is reported;
* the steady pass 10 minutes later, with everything stored and nothing new to create;
* the process's max-RSS growth over all of these (getrusage);
* in another fresh process with tracemalloc on, the peak of Python allocations during the
  first pass, the backlog and the steady pass (tracemalloc slows the passes, so its times
  are not the ones reported).

The two default moments: Thursday 26 November 2026, 11:00 in Shanghai (November's check-ins
due, Thanksgiving in the US), and Tuesday 22 December 2026, 11:00 in Shanghai (December's
check-ins due, and the Q4 review's self-assessments, reminders and prep packs within the
planner's horizon), so that every branch of the planner creates nudges.

The targets (the issue): at 100,000 people every pass under 2 s and under 300 MB, and the
cost linear in the organisation. Exits 1 if 100,000 misses them at any moment.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from _common import (
    DEFAULT_PG_URL,
    analyze,
    bulk_insert,
    create_database,
    drop_database,
    fresh_name,
    machine,
    max_rss_mb,
    migrated_engine,
    policy,
    rss_mb,
)
from sqlalchemy import func, select, text

from bot.engine.planner import plan
from bot.org.periods import period_of, previous_period
from storage.db import make_engine
from storage.models import (
    ActionItem,
    ChatIdentity,
    Goal,
    Leave,
    Milestone,
    MilestoneParticipant,
    Nudge,
    Person,
    Talk,
)

# Thursday 26 November 2026, 11:00 in Shanghai: November's check-ins are due (the policy's
# Monday-after-the-1st is past) and it is Thanksgiving in the US (a holiday to skip).
# Tuesday 22 December 2026, 11:00 in Shanghai: December's check-ins are due and the Q4
# review (from 1 January) has its self-assessments, reminders and prep packs due.
MOMENTS = "2026-11-26T03:00Z,2026-12-22T03:00Z"
PASS_EVERY = timedelta(minutes=10)  # app.yaml's delivery.plan_every_minutes
TARGET_SIZE, TARGET_SECONDS, TARGET_MB = 100_000, 2.0, 300.0
REPORTS_PER_MANAGER = 8

# (IANA zone, country, locale); None falls back to the policy's Asia/Shanghai and CN.
PLACES = [
    ("Asia/Shanghai", "CN", "zh"),
    ("Asia/Shanghai", "CN", "zh"),
    ("Asia/Shanghai", "CN", "en"),
    ("Asia/Tokyo", "JP", "en"),
    ("Asia/Singapore", "SG", "en"),
    ("Asia/Kolkata", "IN", "en"),
    ("Europe/Berlin", "DE", "en"),
    ("Europe/London", "GB", "en"),
    ("America/New_York", "US", "en"),
    ("America/Los_Angeles", "US", "en"),
    ("America/Sao_Paulo", "BR", "en"),
    ("Australia/Sydney", "AU", "en"),
    (None, None, None),
]


# ------------------------------------------------------------------------------ the org
def build_org(size: int, now: datetime, *, seed: int = 7) -> dict[Any, list[dict[str, Any]]]:
    """Rows per table for an org of `size` people at `now` (deterministic for a seed)."""
    rnd = random.Random(seed)
    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    today = now.astimezone(ZoneInfo(policy().timezone)).date()
    this = period_of(today, policy().cadence.checkin)
    last = previous_period(this, policy().cadence.checkin)
    ids = [f"p{i:016x}" for i in range(size)]  # person keys, as Cadence makes them
    people, identities, talks, actions, goals, leave = [], [], [], [], [], []
    milestones, participants = [], []
    for i, sid in enumerate(ids):
        zone, country, locale = PLACES[i % len(PLACES)]
        recent = rnd.random() < 0.05  # joined lately: not escalated
        joined = now - timedelta(days=rnd.randint(5, 50)) if recent else t0
        people.append(
            {
                "id": sid,
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "manager_id": ids[(i - 1) // REPORTS_PER_MANAGER] if i else None,
                "timezone": zone,
                "locale": locale,
                "country": country,
                "is_hr": i == 1,
                "active": i % 211 != 5,  # a few left; their reports have no manager here
                "employee_number": None,
                "created_at": joined,
                "updated_at": joined,
            }
        )
        identities.append(
            {
                "id": i + 1,
                "person_id": sid,
                "platform": "slack",
                "workspace": "",
                "user_id": f"U{i:07d}",
                "conversation": f"D{i:07d}",
                "locale": None,
                "timezone": "Asia/Tokyo" if i % 17 == 0 else None,
                "refreshed_at": None,
                "created_at": joined,
                "updated_at": joined,
            }
        )
    talk_id = action_id = goal_id = 0
    for i, sid in enumerate(ids[1:], start=1):
        manager = ids[(i - 1) // REPORTS_PER_MANAGER]
        roll = rnd.random()
        if roll < 0.10:  # talked this month
            held = [max(this.start, today - timedelta(days=rnd.randint(1, 24)))]
        elif roll < 0.45:  # last month
            held = [last.start + timedelta(days=rnd.randint(0, last.days - 1))]
        elif roll < 0.60:  # long ago
            held = [today - timedelta(days=rnd.randint(90, 250)), today - timedelta(days=350)]
        else:
            held = []  # never
        for day in held:
            talk_id += 1
            talks.append(
                {
                    "id": talk_id,
                    "kind": "checkin",
                    "family": "dialogue",
                    "manager_id": manager,
                    "employee_id": sid,
                    "logged_by": manager,
                    "held_on": day,
                    "duration_minutes": 15,
                    "facts": "progress on the roadmap",
                    "consensus": "keep going",
                    "employee_talk_share": "up_to_half",
                    "private_note": None,
                    "submission_key": f"k{talk_id}",
                    "created_at": datetime.combine(day, datetime.min.time(), UTC),
                    "acknowledged_at": None,
                }
            )
            if rnd.random() < 0.15:
                action_id += 1
                due = today + timedelta(days=rnd.randint(-12, 8))
                actions.append(
                    {
                        "id": action_id,
                        "talk_id": talk_id,
                        "employee_id": sid,
                        "owner_id": sid if rnd.random() < 0.6 else manager,
                        "text": "write the design doc",
                        "due_on": due,
                        "status": "open" if rnd.random() < 0.8 else "done",
                        "completed_at": None,
                        "completed_in_talk_id": None,
                        "created_at": datetime.combine(day, datetime.min.time(), UTC),
                    }
                )
        if i % 97 == 0:  # a formal review, which does not count as a dialogue
            talk_id += 1
            talks.append(
                {
                    "id": talk_id,
                    "kind": "review",
                    "family": "review",
                    "manager_id": manager,
                    "employee_id": sid,
                    "logged_by": manager,
                    "held_on": today - timedelta(days=45),
                    "duration_minutes": 60,
                    "facts": "the quarter",
                    "consensus": "meets",
                    "employee_talk_share": None,
                    "private_note": None,
                    "submission_key": f"k{talk_id}",
                    "created_at": now - timedelta(days=45),
                    "acknowledged_at": None,
                }
            )
        if rnd.random() < 0.03:
            goal_id += 1
            created = now - timedelta(days=rnd.randint(0, 40), hours=rnd.randint(0, 23))
            clarified = created + timedelta(days=1) if rnd.random() < 0.3 else None
            goals.append(
                {
                    "id": goal_id,
                    "employee_id": sid,
                    "set_by": manager,
                    "title": "ship the thing",
                    "measure": "it ships",
                    "due_on": date(2027, 3, 31),
                    "status": rnd.choice(("active", "active", "proposed", "done")),
                    "confirmed_at": None,
                    "clarified_at": clarified,
                    "clarified_in_talk_id": None,
                    "created_at": created,
                }
            )
        if rnd.random() < 0.015:
            start = today + timedelta(days=rnd.randint(-5, 10))
            leave.append(
                {
                    "person_id": sid,
                    "starts_on": start,
                    "ends_on": start + timedelta(days=rnd.randint(1, 12)),
                    "reason": "leave",
                    "created_at": t0,
                }
            )
    for m in range(max(2, size // 500)):
        roll = m % 3
        done_at = now - timedelta(days=rnd.randint(1, 25)) if roll == 0 else None
        due_on = today - timedelta(days=rnd.randint(1, 25)) if roll == 1 else today + timedelta(50)
        milestones.append(
            {
                "id": m + 1,
                "name": f"milestone {m}",
                "due_on": due_on,
                "created_by": ids[0],
                "done_at": done_at,
                "created_at": t0,
            }
        )
        for sid in rnd.sample(ids[1:], min(12, size - 1)):
            participants.append({"milestone_id": m + 1, "person_id": sid})
    return {
        Person: people,
        ChatIdentity: identities,
        Talk: talks,
        ActionItem: actions,
        Goal: goals,
        Leave: leave,
        Milestone: milestones,
        MilestoneParticipant: participants,
    }


async def seed_template(admin_url: str, size: int, now: datetime) -> tuple[str, dict[str, int]]:
    """A migrated, loaded and analysed database for `size` people at `now`; returns its name
    and row counts."""
    name = fresh_name(f"cadence_bench_{size}")
    engine = await migrated_engine(await create_database(admin_url, name))
    try:
        tables = build_org(size, now)
        for model, rows in tables.items():
            await bulk_insert(engine, model.__table__, rows)  # type: ignore[attr-defined]
        async with engine.begin() as conn:
            for table in ("chat_identity", "talk", "action_item", "goal", "milestone", "leave"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                        f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                    )
                )
        await analyze(engine)
    finally:
        await engine.dispose()
    return name, {m.__tablename__: len(r) for m, r in tables.items()}  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ one measurement
async def measure(url: str, mode: str, now: datetime) -> dict[str, Any]:
    """Runs in a fresh child process on a fresh copy of the loaded database: the first pass,
    the passes that create what it left for later (every PASS_EVERY), and a steady pass."""
    rules = policy()
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:  # connect and warm up outside the measurement
            await conn.execute(select(func.count()).select_from(Person))
        gc.collect()
        out: dict[str, Any] = {"rss_before_mb": max_rss_mb(), "rss_now_mb": rss_mb()}
        if mode == "trace":
            tracemalloc.start()
        started = time.perf_counter()
        first = await plan(engine, policy=rules, now=now)
        out["first_s"] = time.perf_counter() - started
        if mode == "trace":
            out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
        moment, left, backlog = now, first.deferred, []
        while left:
            moment += PASS_EVERY
            gc.collect()
            started = time.perf_counter()
            report = await plan(engine, policy=rules, now=moment)
            backlog.append(time.perf_counter() - started)
            left = report.deferred
        if mode == "trace":
            out["traced_backlog_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.reset_peak()
        gc.collect()
        started = time.perf_counter()
        steady = await plan(engine, policy=rules, now=moment + PASS_EVERY)
        out["steady_s"] = time.perf_counter() - started
        if mode == "trace":
            out["traced_steady_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            return out
        out["rss_after_mb"] = max_rss_mb()
        out.update(
            backlog=backlog,
            created=first.created,
            steady_created=steady.created,
            cancelled=first.cancelled,
        )
        async with engine.connect() as conn:
            kinds = await conn.execute(select(Nudge.kind, func.count()).group_by(Nudge.kind))
            out["kinds"] = dict(sorted(kinds.tuples()))
        out["nudges"] = sum(out["kinds"].values())
        return out
    finally:
        await engine.dispose()


def child(*args: str) -> dict[str, Any]:
    """Run this script with `args` in a fresh process; its last line of output is JSON.

    Loading the org happens in a child too: a process inherits its parent's peak RSS as its
    own starting ru_maxrss, so the parent stays small to keep the children's figures true."""
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"{args[0]} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_child(admin_url: str, template: str, mode: str, now: datetime) -> dict[str, Any]:
    name = fresh_name("cadence_bench_run")
    url = asyncio.run(create_database(admin_url, name, template=template))
    try:
        return child("--child", url, "--mode", mode, "--at", now.isoformat())
    finally:
        asyncio.run(drop_database(admin_url, name))


# ------------------------------------------------------------------------------ report
@dataclass
class Row:
    size: int
    first: list[float]
    backlog: list[float]  # every backlog pass of every run
    steady: list[float]
    traced_mb: float
    traced_backlog_mb: float
    traced_steady_mb: float
    rss_mb: float
    rss_base_mb: float
    rss_now_mb: float
    created: int
    nudges: int
    steady_created: int

    @property
    def first_s(self) -> float:
        return statistics.median(self.first)

    @property
    def steady_s(self) -> float:
        return statistics.median(self.steady)

    @property
    def backlog_max_s(self) -> float:
        return max(self.backlog, default=0.0)

    @property
    def backlog_median_s(self) -> float:
        return statistics.median(self.backlog) if self.backlog else 0.0


def bench_size(admin_url: str, size: int, now: datetime, repeat: int) -> Row:
    started = time.perf_counter()
    loaded = child("--seed", str(size), "--database-url", admin_url, "--at", now.isoformat())
    template, counts = loaded["template"], loaded["counts"]
    print(
        f"  {size:>7,} people loaded in {time.perf_counter() - started:.1f}s: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        flush=True,
    )
    try:
        runs = [run_child(admin_url, template, "time", now) for _ in range(repeat)]
        traced = run_child(admin_url, template, "trace", now)
    finally:
        asyncio.run(drop_database(admin_url, template))
    last = runs[-1]
    for run in runs:
        backlog = run["backlog"]
        print(
            f"    first {run['first_s']:.3f}s  backlog {len(backlog)} passes,"
            f" max {max(backlog, default=0):.3f}s  steady {run['steady_s']:.3f}s"
            f"  rss +{run['rss_after_mb'] - run['rss_before_mb']:.0f} MB",
            flush=True,
        )
    print("    nudges by kind: " + ", ".join(f"{k} {n:,}" for k, n in last["kinds"].items()))
    return Row(
        size=size,
        first=[r["first_s"] for r in runs],
        backlog=[t for r in runs for t in r["backlog"]],
        steady=[r["steady_s"] for r in runs],
        traced_mb=traced["traced_peak_mb"],
        traced_backlog_mb=traced["traced_backlog_mb"],
        traced_steady_mb=traced["traced_steady_mb"],
        rss_mb=max(r["rss_after_mb"] - r["rss_before_mb"] for r in runs),
        rss_base_mb=max(r["rss_before_mb"] for r in runs),
        rss_now_mb=max(r["rss_now_mb"] for r in runs),
        created=last["created"],
        nudges=last["nudges"],
        steady_created=last["steady_created"],
    )


def report(now: datetime, sizes: list[int], rows: list[Row]) -> bool:
    """Print one moment's table, ratios and PASS/FAIL lines; True if all passed."""
    print(
        f"\nat {now.isoformat()}\n"
        "   people | 1st pass s | backlog passes: n, median / max s | steady s"
        " | tracemalloc peak MB 1st / backlog / steady | max-RSS Δ MB | nudges stored"
        " | µs/person 1st / steady"
    )
    for r in rows:
        print(
            f" {r.size:>8,} | {r.first_s:>10.3f} | {len(r.backlog) // max(len(r.first), 1):>5},"
            f" {r.backlog_median_s:>6.3f} / {r.backlog_max_s:.3f}       | {r.steady_s:>8.3f} |"
            f" {r.traced_mb:>6.1f} / {r.traced_backlog_mb:>5.1f} / {r.traced_steady_mb:>5.1f}"
            f"              | {r.rss_mb:>12.1f} | {r.nudges:>13,} |"
            f" {r.first_s / r.size * 1e6:>5.1f} / {r.steady_s / r.size * 1e6:.1f}"
        )
    print(
        f"(a measuring process before planning: max RSS {rows[-1].rss_base_mb:.0f} MB,"
        f" RSS {rows[-1].rss_now_mb:.0f} MB)"
    )
    passed = True
    for r in rows:
        if r.steady_created:
            print(
                f"FAIL {r.size:,}: the backlog passes left {r.steady_created:,} nudges"
                " for the steady pass to create"
            )
            passed = False
    by_size = {r.size: r for r in rows}
    for small, big in itertools.pairwise(sizes):
        a, b = by_size[small], by_size[big]
        print(
            f"ratio {big:,}/{small:,} (linear: {big / small:g}): 1st pass"
            f" {b.first_s / a.first_s:.1f}, steady pass {b.steady_s / a.steady_s:.1f},"
            f" nudges {b.nudges / max(a.nudges, 1):.1f}, tracemalloc peak"
            f" {b.traced_mb / max(a.traced_mb, 1e-9):.1f} /"
            f" {b.traced_steady_mb / max(a.traced_steady_mb, 1e-9):.1f}"
        )
    target = by_size.get(TARGET_SIZE)
    if target is None:
        print(f"(no {TARGET_SIZE:,} run: targets not checked)")
        return passed
    checks = [
        ("1st pass time", target.first_s, TARGET_SECONDS, "s"),
        ("slowest backlog pass time", target.backlog_max_s, TARGET_SECONDS, "s"),
        ("steady pass time", target.steady_s, TARGET_SECONDS, "s"),
        ("1st pass tracemalloc peak", target.traced_mb, TARGET_MB, " MB"),
        ("backlog tracemalloc peak", target.traced_backlog_mb, TARGET_MB, " MB"),
        ("steady pass tracemalloc peak", target.traced_steady_mb, TARGET_MB, " MB"),
        ("max-RSS growth", target.rss_mb, TARGET_MB, " MB"),
    ]
    for label, value, limit, unit in checks:
        ok = value < limit
        passed &= ok
        print(
            f"{'PASS' if ok else 'FAIL'} {TARGET_SIZE:,} people at {now:%Y-%m-%d} {label}:"
            f" {value:.2f}{unit} (target < {limit:g}{unit})"
        )
    return passed


def moment(text: str) -> datetime:
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if at.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a zone, e.g. 2026-11-26T03:00Z")
    return at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--at", default=MOMENTS, help="moments to plan at, comma-separated")
    parser.add_argument("--database-url", default=DEFAULT_PG_URL, help="any database on the server")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size (median)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--mode", default="time", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    moments = [moment(m) for m in args.at.split(",")]
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child, args.mode, moments[0]))))
        return 0
    if args.seed:
        template, counts = asyncio.run(seed_template(args.database_url, args.seed, moments[0]))
        print(json.dumps({"template": template, "counts": counts}))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {machine()}")
    print(f"median of {args.repeat} timed runs per size")
    results = []
    for now in moments:
        print(f"\nplanning at {now.isoformat()}")
        results.append((now, [bench_size(args.database_url, n, now, args.repeat) for n in sizes]))
    passed = [report(now, sizes, rows) for now, rows in results]
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
