"""The engine's commands for HR and operators: cycle, leave, coverage, nudges, tick."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.process.cli import main
from storage import queries
from storage.db import make_engine, session_scope
from storage.models import Cycle, Leave, Talk
from tests.factories import ORG, T0, add_people, key
from tests.test_dispatcher import add_checkin_nudge

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(database_url, slack, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CADENCE_CONFIG", str(ROOT / "app.yaml"))
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack.bot_token)
    return database_url


def run(database_url, work):
    async def go():
        engine = make_engine(database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_hr_adds_changes_and_lists_cycles(env, capsys):
    assert (
        main(
            ["cycle", "add", "--name", "FY2027-H1", "--start", "2027-01-01", "--end", "2027-06-30"]
        )
        == 0
    )
    assert (
        "added cycle FY2027-H1: 2027-01-01 to 2027-06-30, reviews 2027-07-01 to 2027-07-14"
        in capsys.readouterr().out
    )
    assert (
        main(
            [
                "cycle",
                "add",
                "--name",
                "FY2027-H1",
                "--start",
                "2027-01-01",
                "--end",
                "2027-06-30",
                "--review-from",
                "2027-07-05",
                "--review-to",
                "2027-07-20",
            ]
        )
        == 0
    )
    assert "changed cycle FY2027-H1" in capsys.readouterr().out
    assert main(["cycle", "list"]) == 0
    header, row = capsys.readouterr().out.splitlines()
    assert header.split() == ["cycle", "starts", "ends", "reviews", "from", "reviews", "to"]
    assert row.split() == ["FY2027-H1", "2027-01-01", "2027-06-30", "2027-07-05", "2027-07-20"]
    cycles = run(env, lambda e: _all(e, Cycle))
    assert [c.name for c in cycles] == ["FY2027-H1"]


def test_a_cycle_with_impossible_dates_is_refused_and_nothing_changes(env, capsys):
    assert (
        main(["cycle", "add", "--name", "Bad", "--start", "2027-06-30", "--end", "2027-01-01"]) == 1
    )
    assert "--end must be after --start" in capsys.readouterr().err
    assert run(env, lambda e: _all(e, Cycle)) == []


def test_leave_is_recorded_for_known_people_only(env, capsys):
    run(env, lambda e: add_people(e, ORG))
    leave = ["leave", "add", "--from", "2026-12-01", "--to", "2026-12-14", "--person"]
    assert main([*leave, "U0EMP"]) == 0
    assert main([*leave, "UNOBODY"]) == 1
    assert "error: nobody in the org chart is 'UNOBODY'" in capsys.readouterr().err
    [leave] = run(env, lambda e: _all(e, Leave))
    assert (leave.person_id, str(leave.ends_on)) == (key("U0EMP"), "2026-12-14")


def test_coverage_lists_neglected_pairs_first(env, capsys):
    run(env, lambda e: add_people(e, ORG))

    async def talk(engine):
        async with session_scope(engine) as session:
            session.add(
                Talk(
                    kind="checkin",
                    family="dialogue",
                    manager_id=key("U0MGR"),
                    employee_id=key("U0ANN"),
                    logged_by=key("U0MGR"),
                    held_on=datetime.now(UTC).date(),
                    duration_minutes=15,
                    facts="f",
                    consensus="c",
                    submission_key="k",
                    created_at=T0,
                )
            )
            await session.commit()

    run(env, talk)
    assert main(["coverage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(": 2 pairs: 1 ok, 0 due, 1 escalated, 0 skipped")  # summary first
    header = lines.index("") + 1
    assert lines[header].split()[:3] == ["status", "manager", "report"]
    escalated, ok = lines[header + 1], lines[header + 2]
    assert escalated.startswith("escalated") and "Eli Wang" in escalated and "never" in escalated
    assert ok.startswith("ok") and "Ann Lee" in ok


def test_failed_nudges_are_listed_for_operators(env, capsys):
    run(env, lambda e: add_people(e, ORG))
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)

    async def failed_row(engine):
        await add_checkin_nudge(engine, due_at=now)
        from bot.engine import outbox

        [row] = await outbox.claim(engine, now=now, worker="w", limit=1)
        await outbox.close(engine, row, "w", state="failed", reason="channel_not_found", now=now)

    run(env, failed_row)
    assert main(["nudges", "--failed"]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()
    assert header.split()[:4] == ["#", "due", "(UTC)", "recipient's"]
    assert "failed" in row and "checkin" in row and "error: channel_not_found" in row
    # people by name and chat id; the due moment in UTC, then on Mia's clock in Shanghai
    assert "Mia Chen (U0MGR)" in row and "Eli Wang (U0EMP)" in row
    assert "2026-11-27 02:00  2026-11-27 10:00 +0800" in row


def test_tick_needs_a_moment_with_its_zone(env, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["tick", "--now", "2026-11-27T10:00"])
    assert exit_.value.code == 2
    assert "needs a time zone" in capsys.readouterr().err


def test_tick_accepts_an_offset_and_plans_at_that_moment(env, capsys):
    run(env, lambda e: add_people(e, ORG))
    assert main(["tick", "--now", "2026-11-27T10:00+08:00"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("tick at 2026-11-27T02:00:00+00:00: planned")


async def _all(engine, model):
    async with session_scope(engine) as session:
        return list((await session.execute(select(model))).scalars())


def test_nudges_waiting_for_a_reachable_recipient_are_listed_and_counted(env, capsys):
    """Someone only on Teams while this deployment sends through Slack alone: `tick` keeps
    their check-in pending, and `nudges` and `coverage` say so instead of hiding it."""
    run(env, lambda e: add_people(e, ORG))
    now = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai

    async def only_on_teams(engine):
        async with session_scope(engine) as session:
            mia = await queries.slack_identity(session, key("U0MGR"))
            assert mia is not None
            mia.platform, mia.user_id = "teams", "0a0b0c0d-1111-2222-3333-444455556666"
            await session.commit()
        await add_checkin_nudge(engine, due_at=now)

    run(env, only_on_teams)
    assert main(["tick", "--now", "2026-11-27T02:00Z"]) == 0
    capsys.readouterr()

    assert main(["nudges", "--pending"]) == 0

    out = capsys.readouterr().out
    to_mia = [line for line in out.splitlines() if "Mia Chen (0a0b0c0d" in line]
    others = [line for line in out.splitlines() if "(U0" in line and "Mia Chen" not in line]
    assert to_mia and all("pending" in line and "waiting: unreachable" in line for line in to_mia)
    assert not any("unreachable" in line for line in others)
    assert f"{len(to_mia)} pending nudge(s) wait for their recipient to be reachable" in out

    assert main(["coverage"]) == 0

    report = capsys.readouterr().out.splitlines()
    # both of Mia's reports: the check-in about Ann was planned by the tick, and waits too
    assert report[2].startswith("2 pair(s) whose nudges wait: the manager has no account")
    assert report[2].endswith(": Mia Chen → Ann Lee, Mia Chen → Eli Wang")
