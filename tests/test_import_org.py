"""The org chart import: all or nothing, every bad line listed, idempotent, via the real CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dev.slack_standin import SlackStandIn
from bot.org.importer import (
    ImportRejected,
    ImportResult,
    LookupEmail,
    import_org_file,
    parse_org_csv,
)
from bot.process.cli import main
from storage import queries
from storage.db import make_engine, session_scope
from storage.models import Person, Platform

HEADER = "slack_id,email,name,manager,timezone,locale,hr,country\n"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)
FIELDS = ("email", "name", "manager_id", "timezone", "locale", "country", "is_hr", "active")


def write_csv(tmp_path: Path, body: str, name: str = "org.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


async def by_slack_id(session: AsyncSession) -> dict[str, Person]:
    """Everyone, keyed by their Slack id and with their manager named by Slack id, as the
    org file names people (the table holds person keys)."""
    slack_of = {
        i.person_id: i.user_id
        for i in await queries.all_identities(session)
        if i.platform == Platform.SLACK
    }
    return {
        slack_of[p.id]: p.model_copy(update={"manager_id": slack_of.get(p.manager_id or "")})
        for p in await queries.all_people(session)
    }


async def _people(url: str) -> dict[str, Person]:
    engine = make_engine(url)
    try:
        async with session_scope(engine) as session:
            return await by_slack_id(session)
    finally:
        await engine.dispose()


def people_in(url: str) -> dict[str, Person]:
    """The person table read through a fresh engine, keyed by Slack id (`by_slack_id`)."""
    return asyncio.run(_people(url))


def snapshot(people: dict[str, Person]) -> dict[str, tuple[object, ...]]:
    return {sid: tuple(getattr(p, f) for f in (*FIELDS, "updated_at")) for sid, p in people.items()}


async def run_import(
    engine: AsyncEngine,
    path: Path,
    now: datetime = T0,
    lookup: LookupEmail | None = None,
    **options: bool,
) -> ImportResult:
    return await import_org_file(engine, path, lookup_email=lookup, now=now, **options)


async def rejection(engine: AsyncEngine, tmp_path: Path, body: str) -> str:
    with pytest.raises(ImportRejected) as caught:
        await run_import(engine, write_csv(tmp_path, body))
    return str(caught.value)


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, slack: SlackStandIn
) -> SlackStandIn:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_API_URL", slack.base_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    return slack


def test_hr_imports_org_chart_and_reimport_changes_nothing(
    cli_env: SlackStandIn, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env.add_user("U0BOB", name="Bob", email="bob@example.com")
    cli_env.add_user("U0CAROL", name="Carol", email="carol@example.com")
    # Bob is listed before his manager Ann; Carol's manager is given by email.
    path = write_csv(
        tmp_path,
        ",bob@example.com,Bob Li,U0ANN,Asia/Shanghai,zh,no,CN\n"
        "U0ANN,ann@example.com,Ann Smith,,Europe/Berlin,en,yes,DE\n"
        ",carol@example.com,Carol Diaz,bob@example.com,,,,\n",
    )

    assert main(["import-org", str(path)]) == 0
    assert "3 created, 0 updated, 0 unchanged, 0 deactivated" in capsys.readouterr().out
    looked_up = sorted(c.params["email"] for c in cli_env.calls_to("users.lookupByEmail"))
    assert looked_up == ["bob@example.com", "carol@example.com"]
    people = people_in(database_url)
    assert people["U0BOB"].manager_id == "U0ANN"
    assert people["U0CAROL"].manager_id == "U0BOB"
    ann = people["U0ANN"]
    assert (ann.is_hr, ann.timezone, ann.locale, ann.country) == (True, "Europe/Berlin", "en", "DE")
    carol = people["U0CAROL"]
    assert (carol.is_hr, carol.timezone, carol.locale, carol.country) == (False, None, None, None)
    before = snapshot(people)

    assert main(["import-org", str(path)]) == 0
    assert "0 created, 0 updated, 3 unchanged, 0 deactivated" in capsys.readouterr().out
    assert snapshot(people_in(database_url)) == before


def test_bad_rows_reject_whole_file_with_every_line_listed(
    cli_env: SlackStandIn, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write_csv(tmp_path, "U0ANN,ann@example.com,Ann,,,,,\n", name="good.csv")
    assert main(["import-org", str(good)]) == 0
    before = snapshot(people_in(database_url))
    capsys.readouterr()
    bad = write_csv(
        tmp_path,
        "U0ANN,ann@example.com,Ann,,,,,\n"
        "U0NEW,new@example.com,New Person,U0ANN,Europe/Berlin,en,no,DE\n"
        "U0BAD,bad@example.com,Bad Zone,U0ANN,Mars/Olympus,en,no,\n"
        "U0GHO,gho@example.com,Ghost Boss,U0NOBODY,,fr,maybe,\n",
        name="bad.csv",
    )

    assert main(["import-org", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{bad}: rejected, nothing was changed (4 problem(s))"
    assert err[1].startswith("  line 4: timezone 'Mars/Olympus'")
    assert [line.split(":")[0] for line in err[2:]] == ["  line 5"] * 3
    assert any("'U0NOBODY'" in line for line in err) and any("'fr'" in line for line in err)
    assert snapshot(people_in(database_url)) == before  # U0NEW was not added, Ann not deactivated


@pytest.mark.parametrize(
    ("body", "line", "reason"),
    [
        ("U0A,a@example.com,,,,,,\n", 2, "name is empty"),
        ("U0A,not-an-email,Ann,,,,,\n", 2, "email 'not-an-email' is not a valid email address"),
        (",,Ann,,,,,\n", 2, "needs a slack_id, a teams_id or an email"),
        ("U0A,,Ann,,Moon/Base,,,\n", 2, "timezone 'Moon/Base' is not an IANA time zone"),
        ("U0A,,Ann,,,de,,\n", 2, "locale 'de' is not one of en, zh"),
        ("U0A,,Ann,,,,perhaps,\n", 2, "hr 'perhaps' is not one of true, false, yes, no, 1, 0"),
        ("U0A,,Ann,,,,,XX\n", 2, "country 'XX' is not a supported ISO 3166 alpha-2 code"),
        ("u a,,Ann,,,,,\n", 2, "slack_id 'u a' is not a Slack user id"),
        (
            "U0A,,Ann,U0ZED,,,,\n",
            2,
            "manager 'U0ZED' is not the slack_id, teams_id or email of another row",
        ),
        ("U0A,,Ann,U0A,,,,\n", 2, "U0A is their own manager"),
        ("U0A,,Ann,,,,,\nU0A,,Ann Again,,,,,\n", 3, "slack_id U0A is already on line 2"),
        ("U0A,a@x.org,Ann,,,,,\nU0B,A@X.org,Bo,,,,,\n", 3, "email A@X.org is already on line 2"),
        ("U0A,,Ann,,,,,,surplus\n", 2, "has 9 fields but the header has 8"),
    ],
)
async def test_each_bad_value_is_named_on_its_line(
    engine: AsyncEngine, tmp_path: Path, body: str, line: int, reason: str
) -> None:
    message = await rejection(engine, tmp_path, body)
    assert f"  line {line}: {reason}" in message
    assert "(1 problem(s))" in message


@pytest.mark.parametrize(
    ("body", "loop_lines"),
    [
        ("U0A,,A,U0B,,,,\nU0B,,B,U0A,,,,\n", [2, 3]),
        ("U0A,a@x.org,A,U0B,,,,\nU0B,,B,U0C,,,,\nU0C,,C,a@x.org,,,,\nU0D,,D,U0A,,,,\n", [2, 3, 4]),
    ],
)
async def test_reporting_cycle_of_any_length_is_rejected(
    engine: AsyncEngine, tmp_path: Path, body: str, loop_lines: list[int]
) -> None:
    with pytest.raises(ImportRejected) as caught:
        await run_import(engine, write_csv(tmp_path, body))
    problems = caught.value.problems
    assert [line for line, _ in problems] == loop_lines
    assert all(why.startswith("reporting cycle: ") for _, why in problems)
    assert problems[0][1].endswith("U0A -> U0B -> U0A" if len(loop_lines) == 2 else "U0C -> U0A")
    async with session_scope(engine) as session:
        assert await queries.all_people(session) == []


async def test_missing_column_is_named_and_nothing_is_read(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "org.csv"
    path.write_text("slack_id,email,name,timezone,locale,hr\nU0A,,Ann,,,\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as caught:
        await run_import(engine, path)
    assert caught.value.problems == [(1, "missing required column 'manager'")]


async def test_unknown_email_in_slack_is_a_problem_on_its_line(
    engine: AsyncEngine, tmp_path: Path, slack: SlackStandIn
) -> None:
    from bot.slack.gateway import SlackGateway, make_client

    slack.add_user("U0ANN", name="Ann", email="ann@example.com")
    gateway = SlackGateway(make_client("xoxb-test", slack.base_url))
    path = write_csv(tmp_path, ",ann@example.com,Ann,,,,,\n,who@example.com,Who,,,,,\n")
    with pytest.raises(ImportRejected) as caught:
        await run_import(engine, path, lookup=gateway.lookup_email)
    assert caught.value.problems == [(3, "no Slack user has the email who@example.com")]
    assert len(slack.calls_to("users.lookupByEmail")) == 2


async def test_slack_error_during_lookup_is_reported_not_raised(
    engine: AsyncEngine, tmp_path: Path, slack: SlackStandIn
) -> None:
    from bot.slack.gateway import SlackGateway, make_client

    slack.fail_next("users.lookupByEmail", error="account_inactive")
    gateway = SlackGateway(make_client("xoxb-test", slack.base_url))
    path = write_csv(tmp_path, ",ann@example.com,Ann,,,,,\n")
    with pytest.raises(ImportRejected) as caught:
        await run_import(engine, path, lookup=gateway.lookup_email)
    assert caught.value.problems == [
        (2, "Slack could not look up ann@example.com: account_inactive")
    ]


async def test_row_without_slack_id_needs_a_bot_token(engine: AsyncEngine, tmp_path: Path) -> None:
    message = await rejection(engine, tmp_path, "U0A,,Ann,,,,,\n,bo@example.com,Bo,U0A,,,,\n")
    assert message.splitlines()[1:] == [
        "  line 3: has no slack_id and SLACK_BOT_TOKEN is not set to look up the email"
    ]


async def test_email_lookups_run_at_most_four_at_a_time(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    running, peak = 0, 0

    async def lookup(email: str) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return "U0" + email.split("@")[0].upper()

    body = "".join(f",p{i}@example.com,Person {i},,,,,\n" for i in range(10))
    result = await run_import(engine, write_csv(tmp_path, body), lookup=lookup)
    assert result.created == 10
    assert peak == 4


async def test_people_missing_from_file_are_deactivated_and_return_when_listed_again(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    both = write_csv(tmp_path, "U0A,,Ann,,,,,\nU0B,,Bo,U0A,,,,\n", name="both.csv")
    only_ann = write_csv(tmp_path, "U0A,,Ann,,,,,\n", name="ann.csv")
    await run_import(engine, both)

    gone = await run_import(engine, only_ann, now=T1, allow_deactivate=True)
    async with session_scope(engine) as session:
        bo = await queries.person_named_by(session, "U0B")
    assert (gone.deactivated, gone.unchanged) == (1, 1)
    assert bo is not None and (bo.active, bo.updated_at) == (False, T1)
    assert (
        (await run_import(engine, only_ann, now=T1))
        .summary()
        .endswith("0 created, 0 updated, 1 unchanged, 0 deactivated")
    )

    back = await run_import(engine, both, now=T1)
    async with session_scope(engine) as session:
        bo = await queries.person_named_by(session, "U0B")
    assert (back.created, back.updated, back.unchanged) == (0, 1, 1)
    assert bo is not None and bo.active and bo.created_at == T0


async def test_manager_change_updates_only_that_person(engine: AsyncEngine, tmp_path: Path) -> None:
    rows = "U0A,,Ann,,,,,\nU0B,,Bo,U0A,,,,\nU0C,,Cy,U0A,,,,\n"
    await run_import(engine, write_csv(tmp_path, rows, name="v1.csv"))
    moved = write_csv(tmp_path, rows.replace("U0C,,Cy,U0A", "U0C,,Cy,U0B"), name="v2.csv")

    result = await run_import(engine, moved, now=T1)
    assert (
        result.summary() == "imported org chart: 0 created, 1 updated, 2 unchanged, 0 deactivated"
    )
    async with session_scope(engine) as session:
        people = await by_slack_id(session)
    assert people["U0C"].manager_id == "U0B"
    assert (people["U0C"].created_at, people["U0C"].updated_at) == (T0, T1)
    assert people["U0B"].updated_at == T0


async def test_manager_must_be_a_row_of_the_file_since_it_is_the_whole_org_chart(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run_import(engine, write_csv(tmp_path, "U0CEO,ceo@example.com,Chief,,,,,\n", "a.csv"))
    path = write_csv(tmp_path, "U0A,,Ann,CEO@example.com,,,,\n", "b.csv")
    with pytest.raises(ImportRejected) as rejected:
        await run_import(engine, path, now=T1)
    assert (
        "line 2: manager 'CEO@example.com' is not the slack_id, teams_id or email of another row"
        in str(rejected.value)
    )
    async with session_scope(engine) as session:
        assert await queries.person_named_by(session, "U0A") is None
        ceo = await queries.person_named_by(session, "U0CEO")
    assert ceo is not None and ceo.active


async def test_excel_bom_whitespace_and_header_case_are_accepted(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    text = (
        " Slack_ID , EMAIL ,Name,Manager, TimeZone ,LOCALE,HR\r\n"
        " U0A , ann@example.com , Ann Smith ,, Europe/Berlin , ZH , Yes \r\n\r\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert (await run_import(engine, path)).created == 1
    async with session_scope(engine) as session:
        ann = await queries.person_named_by(session, "U0A")
    assert ann is not None
    assert (ann.email, ann.name, ann.timezone, ann.locale, ann.is_hr) == (
        "ann@example.com",
        "Ann Smith",
        "Europe/Berlin",
        "zh",
        True,
    )


def test_line_numbers_count_physical_lines_after_a_quoted_multiline_name() -> None:
    rows, problems = parse_org_csv(HEADER + 'U0A,,"Ann\nSmith",,,,,\nU0B,,Bo,,,xx,,\n')
    assert [r.line for r in rows] == [2, 4]
    assert problems == [(4, "locale 'xx' is not one of en, zh")]


def test_unreadable_file_is_rejected_by_the_cli(
    cli_env: SlackStandIn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "U0A,,Jos\xe9,,,,,\n").encode("latin-1"))
    assert main(["import-org", str(latin1)]) == 1
    assert "is not UTF-8 text" in capsys.readouterr().err
    assert main(["import-org", str(tmp_path / "missing.csv")]) == 1
    assert "cannot be read" in capsys.readouterr().err


# --- a file can never empty the organisation by accident ---------------------------------------

ORG = (
    "U0HR,hana@example.com,Hana Berg,,,en,true,\n"
    "U0MGR,mia@example.com,Mia Chen,,,en,false,\n"
    "U0EMP,eli@example.com,Eli Wang,U0MGR,Asia/Shanghai,zh,false,\n"
    "U0ANN,ann@example.com,Ann Lee,U0MGR,,en,false,\n"
    "U0OTH,otto@example.com,Otto Kern,,,en,false,\n"
)
PEOPLE = [f"U0P{n:02d},,Person {n:02d},U0HR,,,,\n" for n in range(1, 25)]
MANY = "".join(PEOPLE)


async def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    from sqlalchemy import select
    from sqlmodel import SQLModel

    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: sorted(
                    (tuple(row) for row in await conn.execute(select(table))), key=repr
                )
                for table in SQLModel.metadata.sorted_tables
            }
    finally:
        await engine.dispose()


def every_row(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the app, to compare a database before and after."""
    return asyncio.run(_rows(url))


def import_cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["import-org", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_file_with_nobody_in_it_is_refused_and_changes_nothing(
    cli_env: SlackStandIn, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_cli(capsys, write_csv(tmp_path, ORG, "org.csv"))[0] == 0
    before = every_row(database_url)

    for name, body in (("header.csv", ""), ("blank.csv", "\n,,,,,,,\n\n")):
        code, out, err = import_cli(capsys, write_csv(tmp_path, body, name))

        assert code == 1 and out == ""
        assert "rejected, nothing was changed" in err and "lists nobody after the header" in err
    assert every_row(database_url) == before
    assert all(p.active for p in people_in(database_url).values())


def test_an_import_that_would_deactivate_more_than_a_tenth_stops_and_names_them(
    cli_env: SlackStandIn, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_cli(capsys, write_csv(tmp_path, ORG + MANY, "full.csv"))[0] == 0
    before = every_row(database_url)
    truncated = write_csv(tmp_path, ORG.splitlines(keepends=True)[0], "truncated.csv")  # HR only

    code, out, err = import_cli(capsys, truncated)

    assert code == 1 and out == ""
    assert "it would deactivate 28 of the 29 active people, more than 10%" in err
    assert "--allow-deactivate" in err
    names = [line.strip() for line in err.splitlines() if line.startswith("    ")]
    assert names[:3] == ["Ann Lee (U0ANN)", "Eli Wang (U0EMP)", "Mia Chen (U0MGR)"]
    assert len(names) == 21 and names[-1] == "and 8 more"
    assert every_row(database_url) == before

    code, out, _ = import_cli(capsys, truncated, "--allow-deactivate")

    assert code == 0 and "1 unchanged, 28 deactivated" in out
    assert [sid for sid, p in people_in(database_url).items() if p.active] == ["U0HR"]


def test_a_tenth_may_leave_and_the_share_is_the_policys(
    cli_env: SlackStandIn,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml

    shipped = Path(__file__).resolve().parent.parent / "app.yaml"
    policy = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    assert import_cli(capsys, write_csv(tmp_path, ORG + "".join(PEOPLE[:5]), "all.csv"))[0] == 0
    without_otto = "".join(ln for ln in ORG.splitlines(keepends=True) if "U0OTH" not in ln)
    one_left = write_csv(tmp_path, without_otto + "".join(PEOPLE[:5]), "one.csv")

    # 1 of 10 is a tenth, not more: allowed by the shipped policy
    assert "1 deactivated" in import_cli(capsys, one_left)[1]

    policy["org_import"] = {"max_deactivate_share": 0}
    strict = tmp_path / "strict.yaml"
    strict.write_text(yaml.safe_dump(policy), encoding="utf-8")
    monkeypatch.setenv("CADENCE_CONFIG", str(strict))
    fewer = write_csv(tmp_path, ORG + "".join(PEOPLE[:4]), "fewer.csv")
    code, _, err = import_cli(capsys, fewer)
    assert code == 1 and "Person 05 (U0P05)" in err

    policy["org_import"] = {"max_deactivate_share": 1.5}
    strict.write_text(yaml.safe_dump(policy), encoding="utf-8")
    code, _, err = import_cli(capsys, fewer)
    assert code == 2 and "org_import.max_deactivate_share" in err


def test_a_dry_run_prints_every_change_and_changes_nothing(
    cli_env: SlackStandIn, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert import_cli(capsys, write_csv(tmp_path, ORG, "org.csv"))[0] == 0
    capsys.readouterr()
    assert main(["tick", "--now", "2026-11-26T03:00Z"]) == 0  # plans Mia's check-in about Eli
    before = every_row(database_url)
    slack_of = {row[1]: row[4] for row in before["chat_identity"]}  # person key -> Slack id
    checkins = [
        (n[1], slack_of[n[2]], slack_of[n[3]]) for n in before["nudge"] if n[1] == "checkin"
    ]
    assert [c for c in checkins if c[2] == "U0EMP"] == [("checkin", "U0MGR", "U0EMP")]
    changed = (
        ORG.replace("Eli Wang,U0MGR", "Eli Wang,U0OTH")  # a new manager
        .replace("Hana Berg,,,en", "Hana Berg,,,zh")  # a new language
        .replace("U0ANN,ann@example.com,Ann Lee,U0MGR,,en,false,\n", "")  # left
        + "U0ZOE,zoe@example.com,Zoe Park,U0MGR,,en,false,\n"  # joined
    )
    path = write_csv(tmp_path, changed, "changed.csv")

    sqlite_file = Path(database_url.removeprefix("sqlite:///"))
    file_before = sqlite_file.read_bytes() if database_url.startswith("sqlite") else b""

    code, out, err = import_cli(capsys, path, "--dry-run", "--allow-deactivate")

    if database_url.startswith("sqlite"):
        assert sqlite_file.read_bytes() == file_before  # byte for byte
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "dry run, nothing was changed: 1 to create, 2 to update, 2 unchanged, 1 to deactivate;"
        " 1 pending nudge(s) would move to new managers",
        "created (1):",
        "  Zoe Park (U0ZOE)",
        "updated (2):",
        "  Eli Wang (U0EMP): manager",
        "  Hana Berg (U0HR): locale",
        "deactivated (1):",
        "  Ann Lee (U0ANN)",
        "new manager (1):",
        "  Eli Wang (U0EMP): Mia Chen (U0MGR) -> Otto Kern (U0OTH)",
        "pending nudges moving to a new manager: 1",
    ]
    assert every_row(database_url) == before

    code, out, err = import_cli(capsys, path, "--dry-run")  # 1 of 5 would leave: over a tenth

    assert code == 1 and "  Ann Lee (U0ANN)" in out
    assert "it would deactivate 1 of the 5 active people" in err
    assert every_row(database_url) == before


def test_control_characters_in_the_org_file_are_dropped_not_fatal(
    cli_env: SlackStandIn, database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path, "U0A,,Ann\x00 Lee\x07,,,,,\r\nU0B,,\x1b[2JBo,U0A,,,,\r\n")

    code, out, err = import_cli(capsys, path)

    assert (code, err) == (0, "") and "2 created" in out
    people = people_in(database_url)
    assert (people["U0A"].name, people["U0B"].name) == ("Ann Lee", "[2JBo")


WITH_ACCOUNTS = "slack_id,email,name,manager,timezone,locale,hr,country,teams_id,employee_number\n"
ANN_TEAMS = "6f1c2a4e-0b5d-4c8e-9a7f-1d2e3f4a5b6c"


def write_accounts_csv(tmp_path: Path, body: str, name: str = "org.csv") -> Path:
    path = tmp_path / name
    path.write_text(WITH_ACCOUNTS + body, encoding="utf-8")
    return path


async def _identities(engine: AsyncEngine) -> set[tuple[str, str, str, str]]:
    """Every chat identity, its person named by their Slack id."""
    async with session_scope(engine) as session:
        identities = await queries.all_identities(session)
    slack_of = {i.person_id: i.user_id for i in identities if i.platform == Platform.SLACK}
    return {(slack_of[i.person_id], i.platform, i.workspace, i.user_id) for i in identities}


async def test_every_imported_person_gets_their_slack_identity_once(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "U0A,,Ann,,,,,\nU0B,,Bo,U0A,,,,\n")
    await run_import(engine, path)
    again = await run_import(engine, path, now=T1)

    assert await _identities(engine) == {("U0A", "slack", "", "U0A"), ("U0B", "slack", "", "U0B")}
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


async def test_teams_id_and_employee_number_are_kept_and_a_new_teams_id_replaces_the_old(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run_import(
        engine,
        write_accounts_csv(
            tmp_path, f"U0A,,Ann,,,,,,{ANN_TEAMS.upper()},E-001\nU0B,,Bo,U0A,,,,,,\n"
        ),
    )
    async with session_scope(engine) as session:
        ann = await queries.person_by_employee_number(session, "E-001")
    assert ann is not None and (await slack_id_of(engine, ann.id)) == "U0A"
    assert ("U0A", "teams", "", ANN_TEAMS) in await _identities(engine)

    new_teams = "0a0b0c0d-1111-2222-3333-444455556666"
    moved = await run_import(
        engine,
        write_accounts_csv(
            tmp_path, f"U0A,,Ann,,,,,,{new_teams},E-001\nU0B,,Bo,U0A,,,,,,\n", "v2.csv"
        ),
        now=T1,
    )

    assert moved.updated_people == ["Ann (U0A): teams_id"]
    teams = {i for i in await _identities(engine) if i[1] == "teams"}
    assert teams == {("U0A", "teams", "", new_teams)}


async def slack_id_of(engine: AsyncEngine, person_key: str) -> str | None:
    async with session_scope(engine) as session:
        identity = await queries.slack_identity(session, person_key)
    return identity.user_id if identity is not None else None


async def test_an_employee_number_under_a_new_slack_id_keeps_the_person_and_their_records(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run_import(
        engine, write_accounts_csv(tmp_path, "U0A,,Ann,,,,,,,E-001\nU0B,,Bo,U0A,,,,,,\n")
    )
    async with session_scope(engine) as session:
        before = await queries.person_by_employee_number(session, "E-001")
    assert before is not None

    moved = await run_import(
        engine,
        write_accounts_csv(tmp_path, "U0ANEW,,Ann,,,,,,,E-001\nU0B,,Bo,U0ANEW,,,,,,\n", "v2.csv"),
        now=T1,
    )

    assert (moved.created, moved.updated, moved.deactivated) == (0, 1, 0)
    assert moved.updated_people == ["Ann (U0ANEW): slack_id"]
    async with session_scope(engine) as session:
        ann = await queries.person_by_employee_number(session, "E-001")
        people = await by_slack_id(session)
    assert ann is not None and ann.id == before.id and ann.active  # the same person, same key
    assert await slack_id_of(engine, ann.id) == "U0ANEW"
    assert people["U0B"].manager_id == "U0ANEW"
    assert ("U0ANEW", "slack", "", "U0A") not in await _identities(engine)


async def test_a_slack_id_the_database_knows_as_someone_else_is_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    await run_import(
        engine, write_accounts_csv(tmp_path, "U0A,,Ann,,,,,,,E-001\nU0B,,Bo,,,,,,,E-002\n")
    )

    message = await rejection_of(
        engine,
        write_accounts_csv(tmp_path, "U0B,,Ann,,,,,,,E-001\nU0C,,Bo,,,,,,,E-002\n", "v2.csv"),
    )

    assert "line 2: employee_number E-001 is Ann (U0A) in the database" in message
    assert "but slack_id U0B is Bo (U0B)'s" in message
    async with session_scope(engine) as session:
        people = await by_slack_id(session)
    assert sorted(people) == ["U0A", "U0B"]


async def test_teams_ids_and_employee_numbers_are_checked_and_unique_in_the_file(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    body = (
        f"U0A,,Ann,,,,,,{ANN_TEAMS},E-1\nU0B,,Bo,,,,,,{ANN_TEAMS},E-1\nU0C,,Cy,,,,,,not-a-guid,\n"
    )
    message = await rejection_of(engine, write_accounts_csv(tmp_path, body))

    assert f"line 3: teams_id {ANN_TEAMS} is already on line 2" in message
    assert "line 3: employee_number E-1 is already on line 2" in message
    assert "line 4: teams_id 'not-a-guid' is not an Entra object id (a GUID)" in message


async def rejection_of(engine: AsyncEngine, path: Path) -> str:
    with pytest.raises(ImportRejected) as caught:
        await run_import(engine, path, now=T1)
    return str(caught.value)


BO_TEAMS = "0b0b0b0b-1111-2222-3333-444455556666"


async def test_a_person_only_on_teams_imports_without_any_slack_call(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    asked: list[str] = []

    async def lookup(email: str) -> str | None:  # Slack's users.lookupByEmail, recording
        asked.append(email)
        return None

    # Ann is on Slack and Teams; Bo only on Teams, with an email, managed by Ann's teams_id;
    # Cy, on Slack, reports to Bo by Bo's teams_id
    body = (
        f"U0A,ann@example.com,Ann,,,,,,{ANN_TEAMS},E-1\n"
        f",bo@example.com,Bo,{ANN_TEAMS.upper()},,,,,{BO_TEAMS},E-2\n"
        f"U0C,,Cy,{BO_TEAMS},,,,,,\n"
    )
    result = await run_import(engine, write_accounts_csv(tmp_path, body), lookup=lookup)

    assert asked == [] and (result.created, result.updated) == (3, 0)
    async with session_scope(engine) as session:
        bo = await queries.person_by_employee_number(session, "E-2")
        ann = await queries.person_by_employee_number(session, "E-1")
        assert bo is not None and ann is not None and bo.manager_id == ann.id
        bos = [(i.platform, i.user_id) for i in await queries.identities_of(session, bo.id)]
        cy = await queries.person_named_by(session, "U0C")
    assert bos == [("teams", BO_TEAMS)]  # no Slack account made up for Bo
    assert cy is not None and cy.manager_id == bo.id
    assert "Bo (0b0b0b0b-1111-2222-3333-444455556666)" in result.created_people

    again = await run_import(
        engine, write_accounts_csv(tmp_path, body, "v2.csv"), now=T1, lookup=lookup
    )

    assert asked == [] and (again.created, again.updated, again.unchanged) == (0, 0, 3)


async def test_a_row_with_neither_account_nor_email_is_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    message = await rejection_of(engine, write_accounts_csv(tmp_path, ",,Nobody,,,,,,,\n"))

    assert "line 2: needs a slack_id, a teams_id or an email" in message


async def test_an_organisation_on_teams_alone_needs_no_slack_id_column(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    path = tmp_path / "teams-org.csv"
    path.write_text(
        "teams_id,email,name,manager,timezone,locale,hr\n"
        f"{ANN_TEAMS},ann@example.com,Ann,,Asia/Shanghai,en,false\n"
        f"{BO_TEAMS},bo@example.com,Bo,ann@example.com,Asia/Shanghai,zh,false\n",
        encoding="utf-8",
    )

    result = await run_import(engine, path)  # no look-up: no Slack at all

    assert result.created == 2
    async with session_scope(engine) as session:
        people = {p.name: p for p in await queries.all_people(session)}
        accounts = await queries.accounts_of(session, [p.id for p in people.values()])
    assert people["Bo"].manager_id == people["Ann"].id
    assert {a.platform for rows in accounts.values() for a in rows} == {"teams"}
    without_both = tmp_path / "nobody.csv"
    without_both.write_text("email,name,manager,timezone,locale,hr\n", encoding="utf-8")
    assert "missing required column 'slack_id'" in await rejection_of(engine, without_both)
