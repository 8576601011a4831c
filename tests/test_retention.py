"""Retention deletes exactly what is past its time (app.yaml `retention`), in batches of short
transactions, counts what it would delete first, never touches a message still owed, erases
people who left once the grace period is over, and runs daily inside `serve`."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from apscheduler.job import Job
from sqlalchemy import event, func, select
from sqlmodel import col

from bot.context import Context
from bot.engine.scheduler import Engine, build_scheduler
from bot.org.policy import Policy
from bot.privacy import access
from bot.privacy.retention import retention
from bot.process.cli import main
from storage.db import make_engine, session_scope
from storage.models import (
    AccessLog,
    ActionItem,
    ChatIdentity,
    Cycle,
    Goal,
    Interview,
    Nudge,
    NudgeState,
    Person,
    Review,
    SelfAssessment,
    Talk,
)
from storage.privacy import FORMER_KEY
from tests.conftest import ROOT
from tests.factories import add_people, key

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai, the policy's zone
TODAY = date(2026, 12, 4)
DAYS = dict(
    dialogue_records_days=100,
    review_records_days=200,
    private_notes_days=50,
    delivered_nudges_days=30,
    access_log_days=60,
    leavers_grace_days=10,
    batch_size=2,
)
MINUTE = timedelta(minutes=1)
# What the seed holds past its time, by kind: one of each (the messages: one per final state).
EXPECTED = {
    "private notes": 1,
    "dialogues": 1,
    "their actions": 1,
    "reviews": 1,
    "review actions": 1,
    "self-assessments": 1,
    "interview dates": 1,
    "delivered messages": 4,
    "access log rows": 1,
    "people who left, erased": 1,
}


def shorter(policy: Policy, **days: int) -> Policy:
    """The policy with other retention periods."""
    return policy.model_copy(update={"retention": policy.retention.model_copy(update=days)})


@pytest.fixture
def short(policy: Policy) -> Policy:
    """The shipped policy with short periods, so each edge is a day (or a minute) wide."""
    return shorter(policy, **DAYS)


def _talk(
    n: int,
    held_on: date,
    *,
    family: str = "dialogue",
    note: str | None = None,
    employee: str = "U0EMP",
) -> Talk:
    return Talk(
        kind="checkin" if family == "dialogue" else "review",
        family=family,
        manager_id=key("U0MGR"),
        employee_id=key(employee),
        logged_by=key("U0MGR"),
        held_on=held_on,
        duration_minutes=15,
        facts=f"facts {n}",
        consensus=f"consensus {n}",
        private_note=note,
        submission_key=f"s{n}",
        created_at=NOW,
    )


def _action(talk: Talk, *, completed_in: Talk | None = None) -> ActionItem:
    return ActionItem(
        talk_id=talk.id,
        employee_id=talk.employee_id,
        owner_id=talk.employee_id,
        text=f"action of talk {talk.id}",
        due_on=TODAY,
        completed_in_talk_id=completed_in.id if completed_in else None,
        created_at=NOW,
    )


def _nudge(n: int, state: str, updated: datetime) -> Nudge:
    return Nudge(
        kind="checkin",
        recipient_id=key("U0MGR"),
        subject=key("U0EMP"),
        period=f"p{n}",
        about_id=key("U0EMP"),
        due_at=updated,
        state=state,
        created_at=updated,
        updated_at=updated,
    )


def _read(at: datetime) -> AccessLog:
    return AccessLog(
        at=at, reader=key("U0MGR"), subject_id=key("U0EMP"), what=access.HOME, platform="slack"
    )


async def seed(engine) -> None:
    """On each side of every limit, one record: the first of each pair is past its time."""
    await add_people(
        engine,
        [
            dict(slack_id="U0MGR", name="Mia Chen"),
            dict(slack_id="U0EMP", name="Eli Wang", manager_id="U0MGR"),
            dict(
                slack_id="U0OLD",
                name="Olga Left",
                manager_id="U0MGR",
                active=False,
                left_at=NOW - timedelta(days=10) - MINUTE,
            ),
            dict(
                slack_id="U0NEW",
                name="Nico Left",
                manager_id="U0MGR",
                active=False,
                left_at=NOW - timedelta(days=10) + MINUTE,
            ),
        ],
    )
    async with session_scope(engine) as session:
        # the stand-in erasure leaves behind: never a leaver to erase, however long inactive
        session.add(
            Person(
                id=FORMER_KEY,
                name="Former employee",
                active=False,
                left_at=NOW - timedelta(days=999),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        old, kept = _talk(1, TODAY - timedelta(days=101)), _talk(2, TODAY - timedelta(days=100))
        noted = _talk(3, TODAY - timedelta(days=51), note="old note")
        fresh_note = _talk(4, TODAY - timedelta(days=50), note="recent note")
        about_leaver = _talk(7, TODAY - timedelta(days=5), employee="U0OLD")
        about_newer_leaver = _talk(8, TODAY - timedelta(days=5), employee="U0NEW")
        ended = [
            Cycle(
                name=name,
                starts_on=end - timedelta(days=90),
                ends_on=end,
                review_from=end + timedelta(days=1),
                review_to=end + timedelta(days=14),
                created_at=NOW,
            )
            for name, end in (
                ("old", TODAY - timedelta(days=201)),
                ("kept", TODAY - timedelta(days=200)),
            )
        ]
        reviews = [
            _talk(5, TODAY - timedelta(days=190), family="review"),
            _talk(6, TODAY, family="review"),
        ]
        talks = [old, kept, noted, fresh_note, about_leaver, about_newer_leaver, *reviews]
        session.add_all([*talks, *ended])
        await session.flush()
        session.add_all(
            [
                _action(old),
                _action(kept, completed_in=old),  # done in a talk that goes: the action stays
                _action(reviews[0]),
                _action(about_leaver),
                Goal(
                    employee_id=key("U0EMP"),
                    set_by=key("U0MGR"),
                    title="Ship the thing",
                    measure="it ships",
                    due_on=TODAY,
                    clarified_in_talk_id=old.id,  # the goal stays, unlinked
                    created_at=NOW,
                ),
            ]
        )
        for cycle, talk in zip(ended, reviews, strict=True):
            common = dict(
                cycle_id=cycle.id, employee_id=key("U0EMP"), created_at=NOW, updated_at=NOW
            )
            session.add(
                Review(talk_id=talk.id, manager_id=key("U0MGR"), rating=3, evidence="e", **common)
            )
            session.add(SelfAssessment(rating=3, proudest="the launch", **common))
            session.add(Interview(scheduled_on=cycle.review_from, set_by=key("U0MGR"), **common))
        limit = NOW - timedelta(days=30)
        session.add_all(
            [
                _nudge(1, NudgeState.SENT, limit - MINUTE),
                _nudge(2, NudgeState.FAILED, limit - MINUTE),
                _nudge(3, NudgeState.CANCELLED, limit - MINUTE),
                _nudge(4, NudgeState.SKIPPED, limit - MINUTE),
                _nudge(5, NudgeState.SENT, limit + MINUTE),
                _nudge(6, NudgeState.PENDING, NOW - timedelta(days=300)),  # still owed
                _nudge(7, NudgeState.SENDING, NOW - timedelta(days=300)),  # being sent
            ]
        )
        limit = NOW - timedelta(days=60)
        session.add_all([_read(limit - MINUTE), _read(limit + MINUTE)])
        await session.commit()


async def state(engine) -> dict[str, Any]:
    """What the database holds, by kind, as counts (and the links that point at talks)."""
    async with session_scope(engine) as session:

        async def n(model, *where) -> int:
            query = select(func.count()).select_from(model).where(*where)
            return (await session.execute(query)).scalar_one()

        return {
            "talks": await n(Talk),
            "notes": await n(Talk, col(Talk.private_note).is_not(None)),
            "actions": await n(ActionItem),
            "completed in a talk": await n(
                ActionItem, col(ActionItem.completed_in_talk_id).is_not(None)
            ),
            "goals": await n(Goal),
            "clarified in a talk": await n(Goal, col(Goal.clarified_in_talk_id).is_not(None)),
            "reviews": await n(Review),
            "selves": await n(SelfAssessment),
            "interviews": await n(Interview),
            "nudges": await n(Nudge),
            "reads": await n(AccessLog, AccessLog.what == access.HOME),
            "people": await n(Person),
        }


async def test_retention_deletes_exactly_what_is_past_its_time(engine, short):
    await seed(engine)
    before = await state(engine)

    report = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")

    assert report.counts == EXPECTED
    assert await state(engine) == {
        "talks": before["talks"] - 3,  # the old dialogue, the old cycle's review, the leaver's
        "notes": 1,  # the recent note; the old one cleared, its talk kept
        "actions": before["actions"] - 3,  # the old dialogue's, the old review's, the leaver's
        "completed in a talk": 0,  # the kept action done in the old dialogue: unlinked
        "goals": before["goals"],
        "clarified in a talk": 0,  # the goal clarified in the old dialogue: unlinked
        "reviews": 1,
        "selves": 1,
        "interviews": 1,
        "nudges": 3,  # the recent sent one, the pending one, the one being sent
        "reads": 1,
        "people": before["people"] - 1,
    }
    async with session_scope(engine) as session:
        held = {t.held_on for t in (await session.execute(select(Talk))).scalars()}
        notes = [t.private_note for t in (await session.execute(select(Talk))).scalars()]
        ended = {r.cycle_id for r in (await session.execute(select(Review))).scalars()}
        kept_cycle = (await session.execute(select(Cycle).where(Cycle.name == "kept"))).scalar_one()
        states = sorted(n.state for n in (await session.execute(select(Nudge))).scalars())
        reads = [r.at for r in (await session.execute(select(AccessLog))).scalars()]
    assert TODAY - timedelta(days=101) not in held and TODAY - timedelta(days=100) in held
    assert TODAY - timedelta(days=51) in held  # the talk whose note went
    assert [note for note in notes if note] == ["recent note"]
    assert ended == {kept_cycle.id}
    assert states == ["pending", "sending", "sent"]
    assert NOW - timedelta(days=60) + MINUTE in reads
    again = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")
    assert set(again.counts.values()) == {0}  # nothing left past its time


async def test_a_dry_run_changes_nothing_and_counts_what_applying_deletes(engine, short):
    await seed(engine)
    before = await state(engine)

    dry = await retention(engine, policy=short, now=NOW, apply=False, reader="t", platform="cli")
    assert await state(engine) == before
    async with session_scope(engine) as session:
        erasures = await session.execute(select(AccessLog).where(AccessLog.what == access.ERASE))
        assert erasures.first() is None  # nobody was erased, nor logged as erased
    applied = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")

    assert dry.counts == applied.counts == EXPECTED
    assert dry.lines()[0].endswith("would delete") and applied.lines()[0].endswith("deleted")


async def test_messages_still_owed_are_never_deleted_however_old(engine, policy):
    await add_people(engine, [dict(slack_id="U0MGR", name="Mia"), dict(slack_id="U0EMP", name="E")])
    long_ago = NOW - timedelta(days=3650)
    async with session_scope(engine) as session:
        session.add_all(
            [
                _nudge(1, NudgeState.PENDING, long_ago),
                _nudge(2, NudgeState.SENDING, long_ago),
                _nudge(3, NudgeState.SENT, long_ago),
            ]
        )
        await session.commit()

    report = await retention(
        engine,
        policy=shorter(policy, delivered_nudges_days=1),
        now=NOW,
        apply=True,
        reader="t",
        platform="cli",
    )

    assert report.counts["delivered messages"] == 1
    async with session_scope(engine) as session:
        left = sorted(n.state for n in (await session.execute(select(Nudge))).scalars())
    assert left == ["pending", "sending"]


async def test_retention_deletes_in_short_transactions_of_one_batch_until_nothing_is_left(
    engine, short
):
    await add_people(engine, [dict(slack_id="U0MGR", name="Mia"), dict(slack_id="U0EMP", name="E")])
    async with session_scope(engine) as session:
        session.add_all(_talk(10 + n, TODAY - timedelta(days=150 + n)) for n in range(5))
        session.add(_talk(20, TODAY - timedelta(days=100)))  # inside: stays
        await session.commit()
    talks_per_transaction: list[int] = []
    deleting = [0]

    def began(conn) -> None:
        deleting[0] = 0

    def deleted(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM TALK"):
            deleting[0] += cursor.rowcount

    def committed(conn) -> None:
        if deleting[0]:
            talks_per_transaction.append(deleting[0])

    sync = engine.sync_engine
    listeners = [("begin", began), ("after_cursor_execute", deleted), ("commit", committed)]
    for name, listener in listeners:
        event.listen(sync, name, listener)
    try:
        report = await retention(
            engine, policy=short, now=NOW, apply=True, reader="t", platform="cli"
        )
    finally:
        for name, listener in listeners:
            event.remove(sync, name, listener)

    assert report.counts["dialogues"] == 5
    assert talks_per_transaction == [2, 2, 1]  # batch_size=2: three commits, none holds more
    async with session_scope(engine) as session:
        held = [t.held_on for t in (await session.execute(select(Talk))).scalars()]
    assert held == [TODAY - timedelta(days=100)]


async def test_a_leaver_is_erased_after_the_grace_period_and_not_before(engine, short):
    await seed(engine)

    await retention(engine, policy=short, now=NOW, apply=True, reader="r", platform="bot")

    async with session_scope(engine) as session:
        assert await session.get(Person, key("U0OLD")) is None
        about_them = select(Talk).where(Talk.employee_id == key("U0OLD"))
        assert (await session.execute(about_them)).first() is None
        accounts = select(ChatIdentity).where(ChatIdentity.person_id == key("U0OLD"))
        assert (await session.execute(accounts)).first() is None
        # inside the grace period: still there, with the talk about them
        assert await session.get(Person, key("U0NEW")) is not None
        about_newer = select(Talk).where(Talk.employee_id == key("U0NEW"))
        assert (await session.execute(about_newer)).first() is not None
        assert await session.get(Person, FORMER_KEY) is not None
        [erasure] = (
            await session.execute(select(AccessLog).where(AccessLog.what == access.ERASE))
        ).scalars()
    assert (erasure.reader, erasure.platform, erasure.subject_id) == ("r", "bot", None)


async def test_retention_logs_counts_by_kind_never_names_or_content(engine, short, caplog):
    await seed(engine)
    caplog.set_level(logging.INFO, logger="bot.privacy.retention")

    report = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")

    lines = [r.getMessage() for r in caplog.records if r.name == "bot.privacy.retention"]
    assert len(lines) == len(report.counts)  # one line per kind
    for line, (kind, n) in zip(lines, report.counts.items(), strict=True):
        assert kind in line and str(n) in line
    said = "\n".join(lines)
    for secret in ("Olga", "Eli", key("U0OLD"), "old note", "facts", "the launch"):
        assert secret not in said


def test_the_command_counts_then_deletes(database_url, monkeypatch, tmp_path, capsys):
    async def seeded() -> None:
        engine = make_engine(database_url)
        try:
            await seed(engine)
        finally:
            await engine.dispose()

    asyncio.run(seeded())
    policy = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    policy["retention"].update(DAYS)
    (tmp_path / "app.yaml").write_text(yaml.safe_dump(policy, allow_unicode=True), "utf-8")
    monkeypatch.setenv("CADENCE_CONFIG", str(tmp_path / "app.yaml"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = ["--now", "2026-12-04T02:00Z"]

    def table(out: str) -> tuple[str, dict[str, int]]:
        head, *rows = out.splitlines()
        counted = {}
        for row in rows:
            kind, n = row.rsplit(maxsplit=1)
            counted[kind.strip()] = int(n)
        return head.split(maxsplit=1)[1].strip(), counted

    assert main(["retention", "--dry-run", *now]) == 0
    dry = capsys.readouterr().out
    assert main(["retention", "--apply", *now]) == 0
    applied = capsys.readouterr().out

    assert table(dry) == ("would delete", EXPECTED)
    assert table(applied) == ("deleted", EXPECTED)
    assert main(["retention", "--apply", *now]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "nothing is past its time"


async def test_two_replicas_running_it_at_once_delete_each_row_once(engine, short):
    await seed(engine)
    async with session_scope(engine) as session:
        session.add_all(_talk(20 + n, TODAY - timedelta(days=150 + n)) for n in range(9))
        await session.commit()

    first, second = await asyncio.gather(
        *(
            retention(engine, policy=short, now=NOW, apply=True, reader="r", platform="bot")
            for _ in range(2)
        )
    )

    assert first.counts["dialogues"] + second.counts["dialogues"] == 10
    assert first.counts["private notes"] + second.counts["private notes"] == 1
    erased = first.counts["people who left, erased"] + second.counts["people who left, erased"]
    assert erased == 1


def _retention_job(context: Context) -> Job:
    """The daily job `serve` schedules, as APScheduler holds it."""
    scheduler = build_scheduler(Engine(context=context, platforms=[], worker="test"))
    scheduler.start(paused=True)
    try:
        return scheduler.get_job("retention")
    finally:
        scheduler.shutdown(wait=False)


async def test_the_daily_job_runs_at_the_policys_hour_in_its_zone_and_applies(engine, short):
    await seed(engine)
    at_five = short.model_copy(update={"retention": short.retention.model_copy(update={"hour": 5})})
    job = _retention_job(Context(policy=at_five, engine=engine, clock=lambda: NOW))

    trigger = job.trigger
    assert str(trigger.timezone) == at_five.timezone == "Asia/Shanghai"
    # 10:00 in Shanghai now: the next run is tomorrow at 05:00 there (21:00 UTC today)
    next_run = trigger.get_next_fire_time(None, NOW)
    assert next_run.astimezone(UTC) == datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time >= 3600

    await job.func(*job.args)

    assert (await state(engine))["nudges"] == 3  # it applied, not only counted
    async with session_scope(engine) as session:
        assert await session.get(Person, key("U0OLD")) is None
        [erasure] = (
            await session.execute(select(AccessLog).where(AccessLog.what == access.ERASE))
        ).scalars()
    assert (erasure.reader, erasure.platform) == ("retention", "bot")


async def test_a_failing_daily_run_is_logged_by_class_and_never_raises(policy, tmp_path, caplog):
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables: every query fails
    caplog.set_level(logging.ERROR, logger="bot.engine.scheduler")
    try:
        job = _retention_job(Context(policy=policy, engine=unmigrated, clock=lambda: NOW))
        await job.func(*job.args)  # returns: the scheduler's loop goes on
    finally:
        await unmigrated.dispose()

    [record] = [r for r in caplog.records if r.name == "bot.engine.scheduler"]
    assert record.levelno == logging.ERROR and record.exc_info is None  # no traceback's text
    assert "OperationalError" in record.getMessage()
    assert "SELECT" not in record.getMessage()  # the class, never the statement
