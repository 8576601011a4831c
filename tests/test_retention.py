"""Retention deletes exactly what is past its time (app.yaml `retention`), in batches, counts
what it would delete first, never touches a message still owed, and erases people who left
once the grace period is over."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, select

from bot.org.policy import Policy
from bot.privacy.retention import retention
from bot.process.cli import main
from storage.db import make_engine, session_scope
from storage.models import (
    AccessLog,
    ActionItem,
    Cycle,
    Interview,
    Nudge,
    Person,
    Review,
    SelfAssessment,
    Talk,
)
from tests.conftest import ROOT
from tests.factories import add_people, key

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
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


@pytest.fixture
def short(policy: Policy) -> Policy:
    """The shipped policy with short periods, so each edge is a day apart."""
    return policy.model_copy(update={"retention": policy.retention.model_copy(update=DAYS)})


def _talk(n: int, held_on: date, *, family: str = "dialogue", note: str | None = None) -> Talk:
    return Talk(
        kind="checkin" if family == "dialogue" else "review",
        family=family,
        manager_id=key("U0MGR"),
        employee_id=key("U0EMP"),
        logged_by=key("U0MGR"),
        held_on=held_on,
        duration_minutes=15,
        facts=f"facts {n}",
        consensus=f"consensus {n}",
        private_note=note,
        submission_key=f"s{n}",
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


async def seed(engine) -> None:
    """On each side of every limit, one record: the first of each pair is past its time."""
    await add_people(
        engine,
        [
            dict(slack_id="U0MGR", name="Mia Chen"),
            dict(slack_id="U0EMP", name="Eli Wang", manager_id="U0MGR"),
            dict(
                slack_id="U0OLD", name="Olga Left", active=False, left_at=NOW - timedelta(days=11)
            ),
            dict(slack_id="U0NEW", name="Nico Left", active=False, left_at=NOW - timedelta(days=9)),
        ],
    )
    async with session_scope(engine) as session:
        old, kept = _talk(1, TODAY - timedelta(days=101)), _talk(2, TODAY - timedelta(days=99))
        noted = _talk(3, TODAY - timedelta(days=51), note="old note")
        fresh_note = _talk(4, TODAY - timedelta(days=49), note="recent note")
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
                ("kept", TODAY - timedelta(days=199)),
            )
        ]
        reviews = [
            _talk(5, TODAY - timedelta(days=190), family="review"),
            _talk(6, TODAY, family="review"),
        ]
        session.add_all([old, kept, noted, fresh_note, *ended, *reviews])
        await session.flush()
        for talk in (old, kept, reviews[0]):
            session.add(
                ActionItem(
                    talk_id=talk.id,
                    employee_id=key("U0EMP"),
                    owner_id=key("U0EMP"),
                    text=f"action of {talk.id}",
                    due_on=TODAY,
                    created_at=NOW,
                )
            )
        for cycle, talk in zip(ended, reviews, strict=True):
            common = dict(
                cycle_id=cycle.id, employee_id=key("U0EMP"), created_at=NOW, updated_at=NOW
            )
            session.add(
                Review(talk_id=talk.id, manager_id=key("U0MGR"), rating=3, evidence="e", **common)
            )
            session.add(SelfAssessment(rating=3, **common))
            session.add(Interview(scheduled_on=cycle.review_from, set_by=key("U0MGR"), **common))
        session.add_all(
            [
                _nudge(1, "sent", NOW - timedelta(days=31)),
                _nudge(2, "sent", NOW - timedelta(days=29)),
                _nudge(3, "failed", NOW - timedelta(days=45)),
                _nudge(4, "pending", NOW - timedelta(days=300)),  # still owed: never deleted
            ]
        )
        session.add_all(
            AccessLog(
                at=NOW - timedelta(days=days),
                reader=key("U0MGR"),
                subject_id=key("U0EMP"),
                what="home",
                platform="slack",
            )
            for days in (61, 59)
        )
        await session.commit()


async def counts(engine) -> dict[str, int]:
    async with session_scope(engine) as session:

        async def n(model, *where) -> int:
            query = select(func.count()).select_from(model).where(*where)
            return (await session.execute(query)).scalar_one()

        return {
            "talks": await n(Talk),
            "notes": await n(Talk, Talk.private_note.is_not(None)),  # type: ignore[union-attr]
            "actions": await n(ActionItem),
            "reviews": await n(Review),
            "selves": await n(SelfAssessment),
            "interviews": await n(Interview),
            "nudges": await n(Nudge),
            "reads": await n(AccessLog, AccessLog.what == "home"),
            "people": await n(Person),
        }


EXPECTED = {
    "private notes": 1,
    "dialogues": 1,
    "their actions": 1,
    "reviews": 1,
    "review actions": 1,
    "self-assessments": 1,
    "interview dates": 1,
    "delivered messages": 2,
    "access log rows": 1,
    "people who left, erased": 1,
}


async def test_retention_deletes_exactly_what_is_past_its_time(engine, short):
    await seed(engine)
    before = await counts(engine)

    dry = await retention(engine, policy=short, now=NOW, apply=False, reader="t", platform="cli")
    assert await counts(engine) == before  # a dry run changes nothing
    applied = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")

    assert dry.counts == applied.counts == EXPECTED
    after = await counts(engine)
    assert after == {
        "talks": before["talks"] - 2,  # the old dialogue, the old cycle's review talk
        "notes": 1,  # the recent note; the old one cleared, its talk kept
        "actions": before["actions"] - 2,
        "reviews": 1,
        "selves": 1,
        "interviews": 1,
        "nudges": 2,  # the recent sent one, and the pending one
        "reads": 1,
        "people": before["people"] - 1,
    }
    async with session_scope(engine) as session:
        assert await session.get(Person, key("U0OLD")) is None
        assert await session.get(Person, key("U0NEW")) is not None  # inside the grace period
        held = sorted(t.held_on for t in (await session.execute(select(Talk))).scalars())
        states = sorted(n.state for n in (await session.execute(select(Nudge))).scalars())
    assert TODAY - timedelta(days=101) not in held and TODAY - timedelta(days=99) in held
    assert states == ["pending", "sent"]
    again = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")
    assert set(again.counts.values()) == {0}  # nothing left past its time


async def test_retention_goes_in_batches_until_nothing_old_is_left(engine, short):
    await seed(engine)
    async with session_scope(engine) as session:
        session.add_all(_talk(10 + n, TODAY - timedelta(days=150 + n)) for n in range(5))
        await session.commit()

    report = await retention(engine, policy=short, now=NOW, apply=True, reader="t", platform="cli")

    assert report.counts["dialogues"] == 6  # batches of 2
    async with session_scope(engine) as session:
        oldest = (await session.execute(select(func.min(Talk.held_on)))).scalar_one()
    assert oldest >= TODAY - timedelta(days=100) or oldest is None


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

    assert main(["retention", "--dry-run", *now]) == 0
    dry = capsys.readouterr().out
    assert main(["retention", "--apply", *now]) == 0
    applied = capsys.readouterr().out

    lines = [f"{n:>8}  {kind}" for kind, n in EXPECTED.items()]
    assert dry.splitlines() == [*lines, "(would delete)"]
    assert applied.splitlines() == [*lines, "(deleted)"]
    assert main(["retention", "--apply", *now]) == 0
    assert "nothing is past its time" in capsys.readouterr().out


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
