"""Privacy HR can defend, through the product's own doors (Slack, the command line): what a
person gets with "my data", what HR may read, the access log, erasure and a manager change."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from sqlalchemy import inspect, select, text

from bot.engine.kinds import MANAGER_CHANGED
from storage.db import session_scope
from storage.models import AccessLog, Nudge, Person, Talk
from tests.blockkit import texts
from tests.conftest import ROOT
from tests.factories import key, opened_form, seed_org, view_submission
from tests.teams_fixtures import TOM

NOTE = "Worried about burnout; keep this between us 私下说"
ELI_FACTS = "Shipped the billing migration two weeks early; 3 escalations closed."
ANN_FACTS = "Ann ran the incident review on her own; postmortem published."
RECORD = {
    "facts": ELI_FACTS,
    "consensus": "Leads the Q1 reliability work.",
    "private_note": NOTE,
    "action_1_text": "Draft the reliability plan",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}


async def cadence(database_url: str, *args: str) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` as an operator would, on the test's database."""
    env = {**os.environ, "DATABASE_URL": database_url, "CADENCE_CONFIG": str(ROOT / "app.yaml")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def log_talk(app, manager: str, employee: str, name: str, answers: dict) -> None:
    app.slack.reset()
    response = await app.command(manager, f"<@{employee}|{name}>")
    assert response.status_code == 200
    [form] = await opened_form(app.slack)
    response = await app.interact(view_submission(manager, form, answers))
    assert response.status_code == 200 and not response.text
    await app.notices_sent()


async def my_data_on_slack(app, user_id: str) -> tuple[dict, str]:
    """`/checkin my-data`: the JSON file uploaded to the DM, and the summary above it."""
    app.slack.reset()
    response = await app.command(user_id, "my-data")
    assert response.status_code == 200
    [upload] = await app.slack.async_wait_for("file_upload")
    [complete] = await app.slack.async_wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == f"D{user_id}"
    return json.loads(str(upload.params["content"])), str(complete.params["initial_comment"])


async def every_value(engine) -> list[tuple[str, str, str]]:
    """Every text value in every table, as (table, column, value)."""
    found = []
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        for table in tables:
            if table == "alembic_version":
                continue
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).mappings().all()
            for row in rows:
                found += [(table, c, str(v)) for c, v in row.items() if v is not None]
    return found


async def test_employee_gets_their_data_as_a_file_with_the_notes_listed_not_read(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0EMP", "eli", RECORD)

    document, summary = await my_data_on_slack(running_app, "U0EMP")

    [talk] = document["talks"]
    assert (talk["facts"], talk["manager"]) == (ELI_FACTS, "Mia Chen")
    assert talk["private_note"]["exists"] is True and "text" not in talk["private_note"]
    assert NOTE not in json.dumps(document, ensure_ascii=False)
    assert [a["text"] for a in document["actions"]] == ["Draft the reliability plan"]
    assert document["person"]["email"] == "eli@example.com"
    assert document["policy"]["hr_reads_content_of"] == ["review"]
    assert "1 次对话" in summary and "私人备注" in summary  # Eli reads Chinese
    [told] = await running_app.slack.async_wait_for("response_url")
    assert "私信" in str(told.params.get("text"))


async def test_someone_outside_the_org_chart_gets_no_file(running_app, engine):
    await seed_org(engine, running_app.slack)
    running_app.slack.add_user("U0NEW", name="New Person")

    response = await running_app.command("U0NEW", "my-data")

    assert response.status_code == 200
    [told] = await running_app.slack.async_wait_for("response_url")
    assert "org chart" in str(told.params.get("text"))
    assert running_app.slack.calls_to("files.completeUploadExternal") == []


async def test_hr_export_of_a_person_is_logged_and_the_employee_sees_who_read(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0EMP", "eli", RECORD)

    code, out, _ = await cadence(database_url, "export-person", "--person", "eli@example.com")
    assert code == 0
    exported = json.loads(out)
    assert exported["talks"][0]["facts"] == ELI_FACTS and NOTE not in out

    document, _ = await my_data_on_slack(running_app, "U0EMP")
    reads = document["who_read_your_records"]
    assert {"what": "export_person", "where": "cli"}.items() <= reads[-1].items()
    assert reads[-1]["who"].startswith("operator:")
    assert {"talk_saved"} <= {r["what"] for r in reads}  # Mia's confirmation showed the record

    code, out, _ = await cadence(database_url, "audit", "--person", "U0EMP")
    assert code == 0
    assert "export_person" in out and "Mia Chen" in out and ELI_FACTS not in out


async def test_access_log_rows_never_hold_content(running_app, engine, database_url):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0EMP", "eli", RECORD)
    await running_app.event(
        {"type": "app_home_opened", "user": "U0MGR", "channel": "DU0MGR", "tab": "home"},
        event_id="Ev0HOME",
    )
    await running_app.slack.async_wait_for("views.publish")
    for args in (
        ("export",),
        ("export-person", "--person", "U0EMP"),
        ("audit", "--person", "U0EMP"),
    ):
        assert (await cadence(database_url, *args))[0] == 0

    async with session_scope(engine) as session:
        rows = list((await session.exec(select(AccessLog))).scalars())
    reads = {(r.what, r.platform) for r in rows if r.subject_id == key("U0EMP")}
    assert {("talk_saved", "slack"), ("home", "slack"), ("export", "cli")} <= reads
    assert {("export_person", "cli"), ("audit", "cli")} <= reads
    home = [r for r in rows if r.what == "home"]
    assert {r.subject_id for r in home} == {key("U0EMP"), key("U0ANN")}
    assert all(r.reader == key("U0MGR") for r in home)
    logged = json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False)
    for content in (ELI_FACTS, NOTE, "Leads the Q1", "Draft the reliability plan"):
        assert content not in logged


async def test_home_opened_twice_in_a_day_is_logged_once(running_app, engine):
    await seed_org(engine, running_app.slack)
    for n in range(2):
        await running_app.event(
            {"type": "app_home_opened", "user": "U0MGR", "channel": "DU0MGR", "tab": "home"},
            event_id=f"Ev0HOME{n}",
        )
        await running_app.slack.async_wait_for("views.publish", count=n + 1)

    async with session_scope(engine) as session:
        home = [r for r in (await session.exec(select(AccessLog))).scalars() if r.what == "home"]
    assert sorted(r.subject_id for r in home) == sorted([key("U0EMP"), key("U0ANN")])


async def test_hr_export_shows_that_dialogues_happen_not_what_was_said(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0EMP", "eli", RECORD)

    code, out, _ = await cadence(database_url, "export")
    assert code == 0
    [talk] = json.loads(out)["talks"]
    assert (talk["kind"], talk["content_withheld"]) == ("checkin", True)
    assert talk["facts"] is None and talk["consensus"] is None
    assert [a["text"] for a in talk["actions"]] == ["Draft the reliability plan"]
    assert ELI_FACTS not in out

    code, out, err = await cadence(database_url, "export", "--include-private")
    assert code == 1 and out == "" and "hr_reads_private_notes" in err


async def test_erased_person_leaves_no_row_that_names_them_and_others_stay_whole(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0EMP", "eli", RECORD)
    await log_talk(running_app, "U0MGR", "U0ANN", "ann", {**RECORD, "facts": ANN_FACTS})
    await my_data_on_slack(running_app, "U0EMP")
    async with session_scope(engine) as session:
        before = {t.employee_id: t for t in (await session.exec(select(Talk))).scalars()}

    code, out, _ = await cadence(database_url, "erase", "--person", "U0EMP", "--dry-run")
    assert code == 0 and "would erase: Eli Wang" in out and "talks" in out
    async with session_scope(engine) as session:
        assert await session.get(Person, key("U0EMP")) is not None  # a dry run changes nothing

    code, out, _ = await cadence(database_url, "erase", "--person", "U0EMP")
    assert code == 0 and "erased: Eli Wang" in out

    traces = ("U0EMP", key("U0EMP"), "eli@example.com", "Eli Wang", ELI_FACTS)
    left = [(t, c) for t, c, v in await every_value(engine) if any(x in v for x in traces)]
    assert left == []
    async with session_scope(engine) as session:
        [ann] = (await session.exec(select(Talk))).scalars()
        erasure = (
            await session.exec(select(AccessLog).where(AccessLog.what == "erase"))
        ).scalar_one()
    kept = before[key("U0ANN")]
    assert (ann.facts, ann.consensus, ann.private_note) == (kept.facts, kept.consensus, NOTE)
    assert erasure.subject_id is None and "talks=1" in (erasure.detail or "")


async def test_an_erased_manager_s_records_about_others_keep_their_text(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0ANN", "ann", {**RECORD, "facts": ANN_FACTS})

    code, out, _ = await cadence(database_url, "erase", "--person", "mia@example.com")

    assert code == 0 and "signed as a former employee" in out and "no manager" in out
    left = [(t, c) for t, c, v in await every_value(engine) if "Mia Chen" in v or key("U0MGR") in v]
    assert left == []
    document, _ = await my_data_on_slack(running_app, "U0ANN")
    [talk] = document["talks"]
    assert (talk["facts"], talk["manager"]) == (ANN_FACTS, "Former employee")
    assert document["person"]["manager"] is None
    readers = {(r["who"], r["what"]) for r in document["who_read_your_records"]}
    assert ("Former employee", "talk_saved") in readers  # Mia read it; her name is gone


async def test_erase_refuses_someone_unknown(running_app, engine, database_url):
    await seed_org(engine, running_app.slack)

    code, out, err = await cadence(database_url, "erase", "--person", "U0NOPE")

    assert code == 1 and out == "" and "nobody in the org chart is 'U0NOPE'" in err
    assert "Ask HR" not in err  # operator words, not the chat user's
    for command in ("export-person", "audit"):
        code, out, err = await cadence(database_url, command, "--person", "nobody@example.com")
        assert code == 1 and out == "" and "nobody in the org chart" in err


async def test_a_new_manager_and_the_employee_is_told_who_sees_what(
    running_app, nudge_engine, engine, database_url, tmp_path: Path
):
    await seed_org(engine, running_app.slack)
    await log_talk(running_app, "U0MGR", "U0EMP", "eli", RECORD)
    org = tmp_path / "org.csv"
    org.write_text(
        "slack_id,email,name,manager,timezone,locale,hr\n"
        "U0HR,hana@example.com,Hana Berg,,,en,true\n"
        "U0MGR,mia@example.com,Mia Chen,,,en,\n"
        "U0EMP,eli@example.com,Eli Wang,U0OTH,Asia/Shanghai,zh,\n"
        "U0ANN,ann@example.com,Ann Lee,U0MGR,,,\n"
        "U0OTH,otto@example.com,Otto Kern,,,en,\n",
        encoding="utf-8",
    )

    code, _, err = await cadence(database_url, "import-org", str(org))
    assert code == 0, err
    async with session_scope(engine) as session:
        [owed] = (await session.exec(select(Nudge).where(Nudge.kind == MANAGER_CHANGED))).scalars()
    assert owed.recipient_id == key("U0EMP")
    await nudge_engine.send_notices(owed.due_at)  # the import ran on the wall clock

    told = [
        texts(c.params.get("blocks") or [])
        for c in running_app.slack.calls_to("chat.postMessage")
        if c.params.get("channel") == "DU0EMP"
    ]
    assert any("Otto Kern" in m and "Mia Chen" in m and "私人备注" in m for m in told)
    document, _ = await my_data_on_slack(running_app, "U0EMP")
    assert document["person"]["manager"] == "Otto Kern"


async def test_each_person_gets_their_own_data_on_their_own_platform(chat):
    form = await chat.open_record_form("manager", "employee")
    assert (await chat.submit_record("manager", form, RECORD)).accepted
    await chat.settle()

    document, summary = await chat.my_data("employee")

    [talk] = document["talks"]
    assert talk["facts"] == ELI_FACTS and talk["manager"] == chat.name("manager")
    assert talk["private_note"] == {
        "exists": True,
        "written_on": talk["private_note"]["written_on"],
    }
    assert NOTE not in json.dumps(document, ensure_ascii=False)
    assert document["person"]["name"] == chat.name("employee")
    assert "私人备注" in summary  # the employee reads Chinese on both platforms
    manager_view, _ = await chat.my_data("manager")
    assert manager_view["talks"] == []  # a talk is its employee's record, not its manager's


async def _offer(teams_app, user) -> dict:
    before = len(teams_app.messages_to(user))
    assert (await teams_app.say(user, "my data")).status_code == 200
    _, offer = teams_app.messages_to(user)[before:]
    [consent] = offer["attachments"]
    return consent


async def test_a_declined_file_is_not_sent_and_the_person_is_told(teams_app):
    await teams_app.install(TOM)
    consent = await _offer(teams_app, TOM)
    declined = {"type": "fileUpload", "action": "decline", "context": {"file": "my_data"}}

    response = await teams_app.invoke(TOM, "fileConsent/invoke", declined)

    assert response.status_code == 200
    last = json.dumps(teams_app.messages_to(TOM)[-1], ensure_ascii=False)
    assert "没有发送文件" in last  # Tom reads Chinese
    assert "sizeInBytes" in json.dumps(consent) and "facts" not in json.dumps(consent)
    assert teams_app.teams.calls_to("upload") == []


async def test_an_upload_url_that_is_not_the_person_s_onedrive_gets_nothing(teams_app):
    await teams_app.install(TOM)
    value = teams_app.teams.accept_file(await _offer(teams_app, TOM))
    value["uploadInfo"]["uploadUrl"] = "https://evil.example/upload/F1"

    response = await teams_app.invoke(TOM, "fileConsent/invoke", value)

    assert response.status_code == 200
    assert teams_app.teams.uploaded(value["uploadInfo"]["uniqueId"]) is None
    assert "稍后再试" in json.dumps(teams_app.messages_to(TOM)[-1], ensure_ascii=False)


async def test_a_consent_answer_teams_would_not_send_changes_nothing(teams_app):
    await teams_app.install(TOM)
    before = len(teams_app.messages_to(TOM))

    for value in ({}, {"type": "fileUpload", "action": "accept"}, {"type": "other"}, []):
        response = await teams_app.invoke(TOM, "fileConsent/invoke", value)
        assert response.status_code == 200

    assert len(teams_app.messages_to(TOM)) == before


async def test_opening_the_review_form_on_a_recorded_review_is_logged(running_app, engine):
    from tests.test_reviews import open_review, record, seed

    await seed(running_app, engine)
    await open_review(running_app, user="U0HR")  # a new form shows nothing recorded yet
    async with session_scope(engine) as session:
        assert list((await session.exec(select(AccessLog))).scalars()) == []
    await record(running_app)

    await open_review(running_app, user="U0HR")  # HR opens it again: the record is shown

    async with session_scope(engine) as session:
        reads = [
            (r.reader, r.subject_id, r.platform)
            for r in (await session.exec(select(AccessLog))).scalars()
            if r.what == "review_form"
        ]
    assert reads == [(key("U0HR"), key("U0EMP"), "slack")]


async def test_erase_waits_for_a_review_under_way_unless_forced(running_app, engine, database_url):
    from tests.test_reviews import record, seed

    await seed(running_app, engine)
    await record(running_app)  # Eli has not answered it yet

    code, out, err = await cadence(database_url, "erase", "--person", "U0EMP")
    assert code == 1 and out == "" and "2026-Q3" in err and "--force" in err
    async with session_scope(engine) as session:
        assert await session.get(Person, key("U0EMP")) is not None

    code, out, _ = await cadence(database_url, "erase", "--person", "U0EMP", "--force")
    assert code == 0 and "reviews" in out
    traces = ("U0EMP", key("U0EMP"), "eli@example.com", "Eli Wang")
    assert [(t, c) for t, c, v in await every_value(engine) if any(x in v for x in traces)] == []


async def test_the_teams_home_card_is_logged_as_a_read_on_teams(teams_app, engine):
    from tests.teams_fixtures import TARA, TESS, tkey

    await teams_app.install(TARA)

    assert (await teams_app.say(TARA, "home")).status_code == 200

    async with session_scope(engine) as session:
        reads = {
            (r.reader, r.subject_id, r.what, r.platform)
            for r in (await session.exec(select(AccessLog))).scalars()
        }
    assert reads == {
        (tkey(TARA), tkey(TOM), "home", "teams"),
        (tkey(TARA), tkey(TESS), "home", "teams"),
    }
