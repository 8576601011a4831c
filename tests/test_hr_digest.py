"""HR's weekly digest, on each HR person's own platform: once a week at the policy's day and
hour in their zone, this period's numbers, what moved most, the chart, and a button that
sends the full table; HR's alone."""

from __future__ import annotations

import base64
import json
import struct
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.engine import kinds
from storage.db import session_scope
from storage.models import Nudge, Talk
from tests.blockkit import texts
from tests.chat_drivers import card_actions, elements
from tests.factories import T0, block_actions, key, seed_org
from tests.teams_fixtures import HUGO, TARA, TOM, tkey


@pytest.fixture(scope="session")
def policy(shipped_policy):
    """The shipped policy, HR's weekly digest on."""
    return shipped_policy


# Monday 10:00 in Shanghai: the digest is due at 09:00, the first working moment is 09:30
MON_9_SHANGHAI = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n"


def _size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height, from its header."""
    assert png.startswith(PNG)
    width, height = struct.unpack(">II", png[16:24])
    return width, height


async def _talk(engine, manager: str, employee: str, held_on: date) -> None:
    async with session_scope(engine) as session:
        session.add(
            Talk(
                kind="checkin",
                family="dialogue",
                manager_id=manager,
                employee_id=employee,
                logged_by=manager,
                held_on=held_on,
                duration_minutes=15,
                facts="f",
                consensus="c",
                submission_key=f"digest-{employee}-{held_on}",
                created_at=T0,
            )
        )
        await session.commit()


async def _digests(engine) -> list[Nudge]:
    async with session_scope(engine) as session:
        found = await session.execute(select(Nudge).where(Nudge.kind == kinds.HR_DIGEST))
        return list(found.scalars())


async def test_hr_gets_the_digest_on_slack_once_a_week_with_the_chart(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await _talk(engine, key("U0MGR"), key("U0ANN"), date(2026, 12, 3))
    running_app.slack.reset()

    await nudge_engine.tick(MON_9_SHANGHAI - timedelta(hours=2))  # 08:00: not yet
    assert not [c for c in running_app.slack.calls_to("chat.postMessage")]
    await nudge_engine.tick(MON_9_SHANGHAI)

    [digest] = [
        c for c in running_app.slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0HR"
    ]
    shown = texts(digest.params["blocks"])
    assert "Coverage this week" in shown
    assert "50% of manager–report pairs held a dialogue this period (1 of 2)" in shown
    [button] = [e for b in digest.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "digest_full_table" and "Full table" in button["text"]["text"]
    [chart] = [c for c in running_app.slack.calls_to("file_upload")]
    assert _size(chart.params["content"]) == (1200, 800)  # the chart, under the digest
    [done] = running_app.slack.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == "DU0HR"
    [row] = await _digests(engine)
    assert (row.recipient_id, row.period, row.state) == (key("U0HR"), "2026-W50", "sent")

    await nudge_engine.tick(MON_9_SHANGHAI + timedelta(days=2))  # the same week: no second
    assert len(await _digests(engine)) == 1
    await nudge_engine.tick(MON_9_SHANGHAI + timedelta(days=7))  # next Monday: the next one
    assert sorted(r.period for r in await _digests(engine)) == ["2026-W50", "2026-W51"]


async def test_the_full_table_button_sends_hr_the_html_and_refuses_anyone_else(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await _talk(engine, key("U0MGR"), key("U0ANN"), date(2026, 12, 3))
    await nudge_engine.tick(MON_9_SHANGHAI)
    [digest] = [
        c for c in running_app.slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0HR"
    ]
    [button] = [e for b in digest.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    message = {"ts": digest.response["ts"], "text": digest.params["text"], "blocks": []}
    running_app.slack.reset()

    click = block_actions("U0HR", button, message=message, channel="DU0HR")
    assert (await running_app.interact(click)).status_code == 200
    [upload] = await running_app.slack.async_wait_for("file_upload")
    html = str(upload.params["content"])
    assert html.startswith("<!DOCTYPE html>") and "Ann Lee" in html and "Eli Wang" in html
    [done] = await running_app.slack.async_wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == "DU0HR"

    running_app.slack.reset()
    forged = block_actions("U0MGR", button, message=message, channel="DU0HR")
    assert (await running_app.interact(forged)).status_code == 200
    [refusal] = await running_app.slack.async_wait_for("chat.postMessage")
    assert "Only HR reads the coverage table." in refusal.params["text"]
    assert not running_app.slack.calls_to("file_upload")  # a manager gets no table


async def test_a_digest_owed_to_someone_who_left_hr_is_not_sent(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    await nudge_engine.plan(MON_9_SHANGHAI)
    async with session_scope(engine) as session:
        from storage.models import Person

        hana = await session.get(Person, key("U0HR"))
        assert hana is not None
        hana.is_hr = False
        await session.commit()
    running_app.slack.reset()

    await nudge_engine.dispatch(MON_9_SHANGHAI)

    [row] = await _digests(engine)
    assert row.state == "cancelled"
    assert not [
        c for c in running_app.slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0HR"
    ]


async def test_hr_on_teams_gets_the_digest_card_and_the_table_as_a_file(teams_app, engine):
    for user in (HUGO, TARA, TOM):
        await teams_app.install(user)
    await _talk(engine, tkey(TARA), tkey(TOM), date(2026, 12, 3))

    await teams_app.platforms.engine.tick(MON_9_SHANGHAI)

    [card] = [m for m in teams_app.messages_to(HUGO) if "Coverage this week" in json.dumps(m)]
    body = elements(card)
    assert len(json.dumps(card)) < 28 * 1024  # under Teams' message size, chart included
    [image] = [e for e in body if e.get("type") == "Image"]
    png = base64.b64decode(image["url"].removeprefix("data:image/png;base64,"))
    assert _size(png)[0] == 600 and image["altText"]
    [table] = [a for a in card_actions(card) if a.get("verb") == "digest_table"]

    refused = await teams_app.execute(TARA, "digest_table", table["data"])
    assert refused.json()["value"] == "Only HR reads the coverage table."

    before = len(teams_app.messages_to(HUGO))
    offered = await teams_app.execute(HUGO, "digest_table", table["data"])
    assert "OneDrive" in offered.json()["value"]
    [offer] = teams_app.messages_to(HUGO)[before:]
    [consent] = offer["attachments"]
    assert consent["content"]["acceptContext"] == {"file": "coverage"}  # which file, no content
    value = teams_app.teams.accept_file(consent)
    assert (await teams_app.invoke(HUGO, "fileConsent/invoke", value)).status_code == 200
    uploaded = teams_app.teams.uploaded(value["uploadInfo"]["uniqueId"])
    assert uploaded is not None and b"Tara Nowak" in uploaded and b"Tom Li" in uploaded
    [info] = teams_app.messages_to(HUGO)[-1]["attachments"]
    assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"

    forged = teams_app.teams.accept_file(consent)  # a manager replays the accept
    assert (await teams_app.invoke(TARA, "fileConsent/invoke", forged)).status_code == 200
    assert teams_app.teams.uploaded(forged["uploadInfo"]["uniqueId"]) is None
    assert "Only HR reads the coverage table." in json.dumps(teams_app.messages_to(TARA)[-1])
