"""The prep pack: built only from what is stored, with the silent months flagged, the
employee's own view first, and a fixed number of queries however long the history."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import event

from bot.process.cli import main
from bot.review.prep_pack import build_packs, pack_json
from bot.review.prep_pack_text import to_markdown
from storage.db import make_engine, session_scope
from storage.models import AccessLog, ActionItem, Cycle, Goal, Review, SelfAssessment, Talk
from tests.factories import ORG, T0, add_people, key

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


async def seed_history(engine, *, weekly_talks: int = 0) -> None:
    """Eli's Q3: talks in July and September (none in August), a clarified goal, actions."""
    await add_people(engine, ORG)
    async with session_scope(engine) as session:
        earlier = Cycle(
            name="2026-Q2",
            starts_on=date(2026, 4, 1),
            ends_on=date(2026, 6, 30),
            review_from=date(2026, 7, 1),
            review_to=date(2026, 7, 14),
            created_at=T0,
        )
        cycle = Cycle(
            name="2026-Q3",
            starts_on=date(2026, 7, 1),
            ends_on=date(2026, 9, 30),
            review_from=date(2026, 12, 1),
            review_to=date(2026, 12, 14),
            created_at=T0,
        )
        session.add_all([earlier, cycle])
        await session.flush()

        def talk(held: date, kind: str, facts: str, share: str | None, n: int) -> Talk:
            return Talk(
                kind=kind,
                family="dialogue",
                manager_id=key("U0MGR"),
                employee_id=key("U0EMP"),
                logged_by=key("U0MGR"),
                held_on=held,
                duration_minutes=20,
                facts=facts,
                consensus=f"Agreed on {held}",
                employee_talk_share=share,
                submission_key=f"k{n}",
                created_at=T0,
            )

        clarify = talk(
            date(2026, 7, 3), "goal_clarification", "Target: p95 under 300 ms.", "half_or_more", 1
        )
        checkin = talk(
            date(2026, 9, 10), "checkin", "Shipped the cache; p95 is 280 ms.", "up_to_half", 2
        )
        history = [
            talk(date(2023, 7, 3) + timedelta(weeks=w), "checkin", f"Week {w}.", None, 100 + w)
            for w in range(weekly_talks)
        ]
        session.add_all([clarify, checkin, *history])
        await session.flush()
        session.add(
            Goal(
                employee_id=key("U0EMP"),
                set_by=key("U0MGR"),
                title="Checkout p95 < 300 ms",
                measure="p95 latency",
                due_on=date(2026, 9, 30),
                status="active",
                clarified_at=datetime(2026, 7, 3, tzinfo=UTC),
                clarified_in_talk_id=clarify.id,
                created_at=T0,
            )
        )
        session.add_all(
            [
                ActionItem(
                    talk_id=clarify.id,
                    employee_id=key("U0EMP"),
                    owner_id=key("U0EMP"),
                    text="Profile checkout",
                    due_on=date(2026, 7, 20),
                    status="done",
                    created_at=T0,
                ),
                ActionItem(
                    talk_id=checkin.id,
                    employee_id=key("U0EMP"),
                    owner_id=key("U0MGR"),
                    text="Get a load-test budget",
                    due_on=date(2026, 10, 1),
                    created_at=T0,
                ),
                ActionItem(
                    talk_id=checkin.id,
                    employee_id=key("U0EMP"),
                    owner_id=key("U0EMP"),
                    text="Write the runbook",
                    due_on=date(2026, 12, 20),
                    created_at=T0,
                ),
            ]
        )
        session.add(
            SelfAssessment(
                cycle_id=cycle.id,
                employee_id=key("U0EMP"),
                rating=5,
                proudest="The cache.",
                redo="Start load tests earlier.",
                submitted_at=T0,
                created_at=T0,
                updated_at=T0,
            )
        )
        session.add(
            Talk(
                id=9000,
                kind="review",
                family="review",
                manager_id=key("U0MGR"),
                employee_id=key("U0EMP"),
                logged_by=key("U0MGR"),
                held_on=date(2026, 6, 30),
                duration_minutes=60,
                facts="Q2 review",
                consensus="-",
                submission_key="q2review",
                created_at=T0,
            )
        )
        await session.flush()
        session.add(
            Review(
                cycle_id=earlier.id,
                talk_id=9000,
                employee_id=key("U0EMP"),
                manager_id=key("U0MGR"),
                rating=3,
                evidence="Q2",
                created_at=T0,
                updated_at=T0,
            )
        )
        await session.commit()


async def test_the_pack_is_built_from_the_cycles_records(engine, policy):
    await seed_history(engine)

    [pack] = await build_packs(
        engine, manager_id=key("U0MGR"), employee_id=key("U0EMP"), policy=policy, now=NOW
    )
    data = pack_json(pack)

    assert data["cycle"] == "2026-Q3" and data["interview_on"] == "2026-12-01"
    assert [t["kind"] for t in data["timeline"]] == ["goal_clarification", "checkin"]
    assert data["months_without_dialogue"] == ["2026-08"]
    assert data["facts"][0]["text"].startswith("Shipped the cache")  # newest first
    assert data["facts"][1]["goal"] == "Checkout p95 < 300 ms"
    assert {a["text"]: a["status"] for a in data["actions"]} == {
        "Profile checkout": "done",
        "Get a load-test budget": "overdue",
        "Write the runbook": "open",
    }
    assert data["actions"][1]["owner_id"] == key("U0MGR")  # the manager's own commitments too
    assert data["goals"][0]["clarified_on"] == "2026-07-03"
    assert data["self_assessment"]["rating"] == 5
    assert data["talk_share"] == {
        "rated_talks": 2,
        "half_or_more": 1,
        "average": 0.5,
        "meets_rule": True,
    }
    assert data["previous_rating"] == 3
    assert data["suggested_minutes"] == 90 and data["longer_because"] == ["extreme_self_rating"]


async def test_the_markdown_speaks_the_managers_language_and_starts_with_the_employee(
    engine, policy
):
    await seed_history(engine)
    [pack] = await build_packs(
        engine, manager_id=key("U0MGR"), policy=policy, now=NOW, employee_id=key("U0EMP")
    )

    english = to_markdown(pack, policy=policy, locale="en")
    chinese = to_markdown(pack, policy=policy, locale="zh")

    assert english.startswith("# Prep pack: Eli Wang, 2026-Q3 review")
    agenda = english.split("## Agenda")[1].split("##")[0]
    assert agenda.strip().startswith("1. Eli Wang's own look back first")
    assert "Decisions (pay, promotion, role)" in agenda  # the policy links reviews to decisions
    assert "Months with no dialogue: 2026-08" in english
    assert "### Goal: Checkout p95 < 300 ms" in english
    assert "Self rating: 5 (Far exceeds expectations)" in english
    assert "- [ ] Eli Wang talks at least half of the time" in english
    assert "# 准备包：Eli Wang 的 2026-Q3 绩效面谈" in chinese and "没有绩效对话的月份" in chinese


async def test_a_missing_self_assessment_is_said_plainly(engine, policy):
    await add_people(engine, ORG)
    async with session_scope(engine) as session:
        session.add(
            Cycle(
                name="2026-Q3",
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 9, 30),
                review_from=date(2026, 12, 1),
                review_to=date(2026, 12, 14),
                created_at=T0,
            )
        )
        await session.commit()

    packs = await build_packs(engine, manager_id=key("U0MGR"), policy=policy, now=NOW)

    assert [p.employee.id for p in packs] == [key("U0ANN"), key("U0EMP")]
    text = to_markdown(packs[0], policy=policy, locale="en")
    assert "## Self-assessment\n\nNot submitted yet." in text
    assert packs[0].silent_months == ["2026-07", "2026-08", "2026-09"]


async def test_the_number_of_queries_does_not_grow_with_the_history(engine, policy, database_url):
    await seed_history(engine, weekly_talks=156)  # three years of weekly talks
    counted = make_engine(database_url)
    statements: list[str] = []
    event.listen(
        counted.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, sql, *a: statements.append(sql),
    )

    [eli] = await build_packs(
        counted, manager_id=key("U0MGR"), employee_id=key("U0EMP"), policy=policy, now=NOW
    )
    long_history = len(statements)
    statements.clear()
    [ann] = await build_packs(
        counted, manager_id=key("U0MGR"), employee_id=key("U0ANN"), policy=policy, now=NOW
    )  # no history at all

    await counted.dispose()
    assert len(eli.timeline) == 2 and ann.timeline == []
    assert long_history == len(statements) <= 10


def test_the_cli_prints_the_pack_as_json_or_markdown(database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)

    async def seed() -> None:
        engine = make_engine(database_url)
        await seed_history(engine)
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("CADENCE_CONFIG", str(Path(__file__).resolve().parent.parent / "app.yaml"))

    assert main(["prep-pack", "--manager", "U0MGR", "--employee", "U0EMP", "--format", "json"]) == 0
    [pack] = json.loads(capsys.readouterr().out)["packs"]
    assert pack["employee_id"] == key("U0EMP") and pack["months_without_dialogue"] == ["2026-08"]
    assert main(["prep-pack", "--manager", "U0MGR", "--employee", "U0EMP"]) == 0
    assert capsys.readouterr().out.startswith("# Prep pack: Eli Wang")
    assert main(["prep-pack", "--manager", "U0MGR", "--employee", "U0OTH"]) == 1
    assert "can log or read talks about Otto Kern" in capsys.readouterr().err


async def test_the_prep_pack_nudge_brings_a_summary_and_the_full_pack_as_a_file(
    running_app, engine, nudge_engine
):
    from bot.engine.outbox import NudgeSpec, enqueue
    from tests.blockkit import texts, valid_message

    await seed_history(engine)
    for person in ORG:
        running_app.slack.add_user(person["slack_id"], name=person["name"], tz="Asia/Shanghai")
    due = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
    async with session_scope(engine) as session:
        [cycle_id] = [
            c.id
            for c in (
                await session.execute(Cycle.__table__.select().where(Cycle.name == "2026-Q3"))
            ).all()
        ]
        await enqueue(
            session,
            [
                NudgeSpec(
                    "prep_pack",
                    key("U0MGR"),
                    f"cycle:{cycle_id}:{key('U0EMP')}",
                    "2026-Q3",
                    due,
                    key("U0EMP"),
                    "manager",
                    {"cycle_id": cycle_id},
                )
            ],
            NOW,
        )
        await session.commit()

    report = await nudge_engine.dispatch(due)

    assert report.sent == 1
    [post] = running_app.slack.calls_to("chat.postMessage")
    valid_message(post.params)
    shown = texts(post.params["blocks"])
    assert "Prep pack: Eli Wang, 2026-Q3 review" in shown and "2026-08" in shown
    [upload] = running_app.slack.calls_to("file_upload")
    assert str(upload.params["content"]).startswith("# Prep pack: Eli Wang, 2026-Q3 review")
    [complete] = running_app.slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == post.params["channel"] == "DU0MGR"
    async with session_scope(engine) as session:  # Mia read Eli's records: in the access log
        [read] = (await session.execute(AccessLog.__table__.select())).all()
    assert (read.reader, read.subject_id, read.what, read.platform, read.detail) == (
        key("U0MGR"),
        key("U0EMP"),
        "prep_pack",
        "slack",
        None,
    )
