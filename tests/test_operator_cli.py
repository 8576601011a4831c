"""The operator's command line: its version, errors in an operator's words, the nudges table,
coverage's filters and formats, leave list and cancel, progress on a terminal only, and the
process's logs (LOG_LEVEL, LOG_FORMAT, no library chatter)."""

from __future__ import annotations

import csv
import io
import json
import logging
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.logs import configure
from bot.process.cli import main, version
from bot.process.operator import Progress
from bot.process.table import table
from storage.db import session_scope
from storage.models import Leave, Nudge, Talk
from tests.factories import ORG, T0, add_people, key
from tests.test_dispatcher import add_checkin_nudge
from tests.test_engine_commands import run
from tests.test_serve import _run_cli

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday, 10:00 in Shanghai


@pytest.fixture
def env(database_url, monkeypatch, tmp_path):
    """The command line's environment: a database and the shipped policy, no chat platform."""
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CADENCE_CONFIG", str(ROOT / "app.yaml"))
    return database_url


@pytest.fixture
def org(env):
    run(env, lambda engine: add_people(engine, ORG))
    return env


def _talk(employee: str, held_on: date) -> Talk:
    return Talk(
        kind="checkin",
        family="dialogue",
        manager_id=key("U0MGR"),
        employee_id=key(employee),
        logged_by=key("U0MGR"),
        held_on=held_on,
        duration_minutes=15,
        facts="f",
        consensus="c",
        submission_key=f"k-{employee}-{held_on}",
        created_at=T0,
    )


async def _add(engine, *rows) -> None:
    async with session_scope(engine) as session:
        session.add_all(rows)
        await session.commit()


# --- version and errors in an operator's words -------------------------------------------


def test_version_names_the_installed_release(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])

    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"cadence {version()}"
    assert version()[0].isdigit()  # the installed distribution's, not "unknown"


def test_prep_pack_for_someone_unknown_says_so_in_operator_words(org, capsys):
    assert main(["prep-pack", "--manager", "U0NOPE"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: nobody in the org chart is 'U0NOPE' (a Slack or Teams user id")
    assert "Cadence's org chart yet" not in err  # the chat user's words, not an operator's


def test_prep_pack_for_an_unknown_employee_names_the_employee(org, capsys):
    assert main(["prep-pack", "--manager", "U0MGR", "--employee", "U1NOPE"]) == 1

    assert "nobody in the org chart is 'U1NOPE'" in capsys.readouterr().err


def test_tick_without_a_platform_asks_only_for_what_it_needs(env, capsys):
    assert main(["tick", "--now", "2026-11-27T02:00Z"]) == 2

    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID" in err
    assert "needs neither Slack's signing secret nor its app token" in err
    assert "(SLACK_SIGNING_SECRET)" not in err and "(SLACK_APP_TOKEN)" not in err


@pytest.mark.parametrize(
    "command",
    [
        ["leave", "add", "--person", "U0EMP", "--from", "yesterday", "--to", "2026-12-01"],
        ["export", "--since", "yesterday"],
        ["cycle", "add", "--name", "X", "--start", "yesterday", "--end", "2027-01-01"],
        ["audit", "--person", "U0EMP", "--since", "yesterday"],
    ],
    ids=["leave", "export", "cycle", "audit"],
)
def test_a_bad_date_says_the_format_expected(env, capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main(command)

    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "'yesterday' is not a date: write it as YYYY-MM-DD, e.g. 2026-12-31" in err
    assert "fromisoformat" not in err


def test_a_bad_moment_says_the_format_expected(env, capsys):
    with pytest.raises(SystemExit):
        main(["coverage", "--now", "tomorrow"])

    err = capsys.readouterr().err
    assert "'tomorrow' is not a moment: write it as ISO-8601 with Z or an offset" in err


def test_cycle_list_on_a_new_database_says_there_are_none_and_how_to_add_one(env, capsys):
    assert main(["cycle", "list"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("no cycles yet: add one, e.g. cadence cycle add --name FY2027")


# --- nudges --------------------------------------------------------------------------------


def test_nudges_says_how_many_more_there_are_beyond_the_limit(org, capsys):
    async def three(engine):
        for due in (NOW, NOW + timedelta(days=1), NOW + timedelta(days=2)):
            await add_checkin_nudge(engine, due_at=due)
            async with session_scope(engine) as session:  # a new period each: three rows
                for row in (await session.execute(select(Nudge))).scalars():
                    row.period = f"p{row.id}"
                await session.commit()

    run(org, three)

    assert main(["nudges", "--limit", "2"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 2 + 1  # header, two rows, the count
    assert lines[-1] == "2 of 3 shown (--limit)"
    assert "2026-11-29 02:00" in lines[1]  # the latest due first


def test_nudges_for_one_person_lists_those_to_or_about_them(org, capsys):
    run(org, lambda engine: add_checkin_nudge(engine, due_at=NOW))

    assert main(["nudges", "--person", "U0ANN"]) == 0
    assert capsys.readouterr().out.strip() == "no nudges"
    assert main(["nudges", "--person", "eli@example.com"]) == 0
    assert "Eli Wang (U0EMP)" in capsys.readouterr().out


def test_nudges_refuses_a_limit_below_one(env, capsys):
    with pytest.raises(SystemExit):
        main(["nudges", "--limit", "0"])
    assert "'0' is not a whole number of at least 1" in capsys.readouterr().err


# --- coverage ------------------------------------------------------------------------------


def test_coverage_at_a_given_moment_puts_the_summary_first_and_filters(org, capsys):
    run(org, lambda engine: _add(engine, _talk("U0ANN", date(2026, 11, 20))))

    assert main(["coverage", "--now", "2026-11-27T02:00Z"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "coverage on 2026-11-27 (Asia/Shanghai): 2 pairs: 1 ok, 0 due, 1 escalated, 0 skipped"
    )
    assert lines[1] == "open actions 0, overdue 0"

    # a month later, Ann's talk is last period's: the pair is due, not ok
    assert main(["coverage", "--now", "2026-12-27T02:00Z", "--status", "due"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(": 1 pairs: 0 ok, 1 due, 0 escalated, 0 skipped")
    assert lines[-1].startswith("due") and "Ann Lee" in lines[-1]

    assert main(["coverage", "--manager", "U0OTH"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no pairs match"
    assert main(["coverage", "--manager", "U9NOPE"]) == 1
    assert "nobody in the org chart is 'U9NOPE'" in capsys.readouterr().err


def test_coverage_as_csv_and_json_gives_every_pair_with_its_keys(org, capsys):
    run(org, lambda engine: _add(engine, _talk("U0ANN", date(2026, 11, 20))))

    assert main(["coverage", "--format", "json", "--now", "2026-11-27T02:00Z"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["as_of"] == "2026-11-27"
    assert data["summary"] == {
        "pairs": 2,
        "ok": 1,
        "due": 0,
        "escalated": 1,
        "skipped": 0,
        "overdue_actions": 0,
    }
    ann = next(p for p in data["pairs"] if p["report"] == "Ann Lee")
    assert ann["report_key"] == key("U0ANN") and ann["last_dialogue"] == "2026-11-20"

    assert main(["coverage", "--format", "csv", "--now", "2026-11-27T02:00Z"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["status"], r["report"], r["waiting"]) for r in rows] == [
        ("escalated", "Eli Wang", "false"),
        ("ok", "Ann Lee", "false"),
    ]


def test_coverage_csv_keeps_a_name_that_looks_like_a_formula_inert(env, capsys):
    people = [
        dict(slack_id="U0MGR", name="=HYPERLINK(1)", email="m@example.com"),
        dict(slack_id="U0EMP", name="Eli", email="e@example.com", manager_id="U0MGR"),
    ]
    run(env, lambda engine: add_people(engine, people))

    assert main(["coverage", "--format", "csv"]) == 0

    [row] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert row["manager"] == "'=HYPERLINK(1)"


def test_coverage_writes_to_a_file_when_asked(org, capsys, tmp_path):
    out = tmp_path / "coverage.json"

    assert main(["coverage", "--format", "json", "--output", str(out)]) == 0

    assert capsys.readouterr().out == ""
    assert json.loads(out.read_text(encoding="utf-8"))["summary"]["pairs"] == 2


# --- leave ---------------------------------------------------------------------------------


def test_leave_is_listed_and_cancelled_as_an_operator_expects(org, capsys):
    at = ["--now", "2026-11-27T02:00Z"]  # 2026-11-27 in Shanghai
    run(
        org,
        lambda engine: _add(
            engine,
            Leave(
                person_id=key("U0EMP"),
                starts_on=date(2026, 11, 1),
                ends_on=date(2026, 11, 10),
                created_at=T0,
            ),  # over
            Leave(
                person_id=key("U0EMP"),
                starts_on=date(2026, 11, 25),
                ends_on=date(2026, 12, 5),
                created_at=T0,
            ),  # under way
            Leave(
                person_id=key("U0ANN"),
                starts_on=date(2026, 12, 20),
                ends_on=date(2026, 12, 31),
                created_at=T0,
            ),  # to come
        ),
    )

    assert main(["leave", "list", *at]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split()[:4] == ["number", "person", "from", "to"]
    assert [r.split()[0] for r in rows] == ["2", "3"]  # the one that is over is not listed
    assert "Eli Wang" in rows[0] and "2026-12-05" in rows[0]

    assert main(["leave", "list", "--all", "--person", "U0EMP"]) == 0
    assert [r.split()[0] for r in capsys.readouterr().out.splitlines()[1:]] == ["1", "2"]

    assert main(["leave", "cancel", "3", *at]) == 0  # to come: deleted
    assert "cancelled leave 3 of Ann Lee (2026-12-20 to 2026-12-31): deleted" in (
        capsys.readouterr().out
    )
    assert main(["leave", "cancel", "2", *at]) == 0  # under way: ends yesterday
    assert "it now ends on 2026-11-26" in capsys.readouterr().out
    assert main(["leave", "cancel", "1", *at]) == 1  # over: nothing to cancel
    assert "ended on 2026-11-10: there is nothing to cancel; nothing was changed" in (
        capsys.readouterr().err
    )
    assert main(["leave", "cancel", "99", *at]) == 1
    assert "there is no leave number 99" in capsys.readouterr().err

    async def left(engine):
        async with session_scope(engine) as session:
            found = (await session.execute(select(Leave))).scalars()
            return sorted((leave.id, leave.ends_on) for leave in found)

    assert run(org, left) == [(1, date(2026, 11, 10)), (2, date(2026, 11, 26))]


def test_leave_list_with_none_says_so(org, capsys):
    assert main(["leave", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no leave under way or to come (--all: past too)"


# --- progress ------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_and_cleared_at_the_end():
    screen = _Terminal()
    progress = Progress("importing org.csv", stream=screen, every=0)

    for done in range(1, 5):
        progress(done, 4)
    progress.close()

    drawn = screen.getvalue()
    assert "\rimporting org.csv: 1 of 4 (25%)" in drawn
    assert "\rimporting org.csv: 4 of 4 (100%)" in drawn
    assert drawn.endswith("\r\x1b[K")  # the line is cleared: what follows starts clean


def test_progress_is_silent_when_piped():
    piped = io.StringIO()
    progress = Progress("exporting talks", stream=piped, every=0)

    progress(1, 2)
    progress.close()

    assert piped.getvalue() == ""


def test_a_long_command_piped_prints_only_its_result(org, capsys, tmp_path):
    org_file = tmp_path / "org.csv"
    org_file.write_text(
        "slack_id,email,name,manager,timezone,locale,hr\n"
        "U0HR,hana@example.com,Hana Berg,,,en,true\n"
        "U0MGR,mia@example.com,Mia Chen,,,en,false\n"
        "U0EMP,eli@example.com,Eli Wang,U0MGR,Asia/Shanghai,zh,false\n"
        "U0ANN,ann@example.com,Ann Lee,U0MGR,,en,false\n"
        "U0OTH,otto@example.com,Otto Kern,,,en,false\n",
        encoding="utf-8",
    )

    assert main(["import-org", str(org_file)]) == 0
    assert main(["export", "--format", "csv"]) == 0
    assert main(["retention", "--dry-run"]) == 0

    assert "\r" not in capsys.readouterr().err  # no progress line when not on a terminal


# --- tables --------------------------------------------------------------------------------


def test_tables_align_wide_characters_and_cut_long_cells():
    lines = table(["name", "n"], [["周敏", 3], ["A" * 50, 12]], width=10)

    assert lines[0] == "name         n"
    assert lines[1] == "周敏         3"  # two wide characters take four columns
    assert lines[2] == "AAAAAAAAA…  12"


# --- logs ----------------------------------------------------------------------------------


def test_commands_log_no_migration_chatter_at_info_and_json_lines_when_asked(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    at_info = _run_cli("cycle", "list", cwd=tmp_path, DATABASE_URL=url, LOG_LEVEL="INFO")
    at_debug = _run_cli(
        "cycle",
        "list",
        cwd=tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'other.db'}",
        LOG_LEVEL="DEBUG",
        LOG_FORMAT="json",
    )

    assert at_info.returncode == 0 and at_info.stderr == ""  # alembic's lines are chatter
    assert at_debug.returncode == 0
    lines = [json.loads(line) for line in at_debug.stderr.splitlines()]
    assert lines and all(set(line) >= {"time", "level", "logger", "message"} for line in lines)
    assert any(line["logger"].startswith("alembic") for line in lines)  # there, at DEBUG
    assert all(line["time"].endswith("Z") for line in lines)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be text or json, not 'xml'"),
    ],
)
def test_a_log_setting_that_is_neither_stops_with_exit_2(tmp_path, name, value, said):
    done = _run_cli("cycle", "list", cwd=tmp_path, **{name: value})

    assert done.returncode == 2
    assert said in done.stderr


def test_the_scheduler_and_alembic_speak_only_at_debug():
    try:
        configure("INFO", "text")
        assert not logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.INFO)
        assert not logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
        assert logging.getLogger("bot.engine.dispatch").isEnabledFor(logging.INFO)
        configure("DEBUG", "text")
        assert logging.getLogger("apscheduler.executors.default").isEnabledFor(logging.DEBUG)
    finally:
        configure("INFO", "text")


def test_json_lines_carry_an_errors_class_never_its_message():
    from bot.logs import JsonLines

    try:
        raise ValueError("MARKER typed text")
    except ValueError:
        record = logging.LogRecord("bot.x", logging.ERROR, "f", 1, "failed", (), sys.exc_info())

    line = json.loads(JsonLines().format(record))

    assert line["message"] == "failed" and line["error"].startswith("ValueError at ")
    assert "MARKER" not in json.dumps(line)
