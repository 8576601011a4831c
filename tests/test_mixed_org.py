"""A company mid-migration: some people on Slack, some on Teams, one process serving both,
one database. A Slack manager with a Teams report and a Teams manager with a Slack report
each get their messages on their own platform, and one export holds both."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.records.export import export_talks, to_json
from storage.db import session_scope
from storage.models import ChatIdentity, Person, Platform, Talk
from tests.chat_drivers import card_submission
from tests.factories import T0, opened_form, view_submission
from tests.teams_fixtures import TARA, TOM, RunningTeams, serve_teams

THU_11 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
GOOD = {
    "facts": "Closed the Q4 audit findings; two teams now share one runbook.",
    "consensus": "Owns the runbook review next quarter.",
    "action_1_text": "Schedule the runbook review",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-11",
}


async def _mixed_org(engine) -> None:
    """Mia (Slack) manages Tom (Teams); Tara (Teams) manages Eli (Slack)."""
    rows = [
        ("kU0MIA", "Mia Chen", None, Platform.SLACK, "U0MIA", dict(email="mia@example.com")),
        ("tTARA", "Tara Nowak", None, Platform.TEAMS, TARA.aad, dict(email="tara@example.com")),
        (
            "tTOM",
            "Tom Li",
            "kU0MIA",
            Platform.TEAMS,
            TOM.aad,
            dict(email="tom@example.com", locale="zh"),
        ),
        ("kU0ELI", "Eli Wang", "tTARA", Platform.SLACK, "U0ELI", dict(email="eli@example.com")),
    ]
    async with session_scope(engine) as session:
        for person_key, name, manager, platform, user_id, fields in rows:
            session.add(
                Person(
                    id=person_key,
                    name=name,
                    manager_id=manager,
                    created_at=T0,
                    updated_at=T0,
                    **fields,
                )
            )
            await session.flush()
            session.add(
                ChatIdentity(
                    person_id=person_key,
                    platform=platform,
                    user_id=user_id,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        await session.commit()


@pytest.fixture
async def app(
    engine, slack, teams, policy, clock, database_url, fast_forward_time
) -> AsyncIterator[RunningTeams]:
    """The mixed organisation served on both platforms, the app installed for the Teams
    people and the Slack people in Slack."""
    await _mixed_org(engine)
    for user_id, name in (("U0MIA", "Mia Chen"), ("U0ELI", "Eli Wang")):
        slack.add_user(user_id, name=name, email=f"{name.split()[0].lower()}@example.com")
    async with serve_teams(
        engine, teams, policy, clock, database_url, fast_forward_time, slack=slack
    ) as app:
        for user in (TARA, TOM):
            await app.install(user)
        yield app


async def test_each_person_hears_on_their_own_platform_and_one_export_holds_both(
    app, engine, slack, clock
):
    assert app.slack is not None
    # Mia, on Slack, logs her talk with Tom, who is on Teams
    assert (await app.slack.command("U0MIA", "@tomli")).status_code == 200
    [form] = await opened_form(slack)
    assert (await app.slack.interact(view_submission("U0MIA", form, GOOD))).status_code == 200
    # Tara, on Teams, logs hers with Eli, who is on Slack
    data = {"msteams": {"type": "task/fetch"}, "cadence": "form", "form": "talk", "e": "kU0ELI"}
    opened = (await app.fetch(TARA, data)).json()
    card = opened["task"]["value"]["card"]["content"]
    saved = await app.submit(TARA, card_submission(card, {**GOOD, "facts": "Eli's facts."}))
    assert saved.status_code == 200
    await app.notices_sent()

    tom_hears = json.dumps(app.messages_to(TOM), ensure_ascii=False)
    assert "Closed the Q4 audit findings" in tom_hears  # in Teams, though Mia used Slack
    assert "确认" in tom_hears  # in his language
    to_eli = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0ELI"]
    assert len(to_eli) == 1 and "Eli's facts." in json.dumps(to_eli[0].params)
    homes = {c.params["user_id"] for c in slack.calls_to("views.publish")}
    assert "U0ELI" in homes  # his App Home shows the talk Tara logged in Teams
    to_mia = [c for c in slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0MIA"]
    assert len(to_mia) == 1  # Mia's confirmation, on Slack
    assert any("Saved your" in json.dumps(m) for m in app.messages_to(TARA))

    async with session_scope(engine) as session:
        assert len((await session.execute(select(Talk))).scalars().all()) == 2
    exported = json.loads(
        to_json(
            await export_talks(
                engine,
                employee_id=None,
                since=None,
                include_private=False,
                today=clock.now.date(),
                reads_content=lambda kind, family: True,
                reader="operator:test",
                now=clock.now,
            )
        )
    )
    by_employee = {t["employee"]["name"]: t for t in exported["talks"]}
    assert by_employee["Tom Li"]["employee"]["teams_id"] == TOM.aad
    assert by_employee["Tom Li"]["employee_id"] == "tTOM"  # no Slack account: the key
    assert by_employee["Tom Li"]["manager_id"] == "U0MIA"  # a Slack id where the person has one
    assert by_employee["Eli Wang"]["manager"]["teams_id"] == TARA.aad
    assert by_employee["Eli Wang"]["employee_id"] == "U0ELI"


async def test_nudges_reach_each_person_on_their_platform(app, slack):
    await app.platforms.engine.plan(THU_11)
    report = await app.platforms.engine.dispatch(FRI_10)

    assert report.unreachable == 0 and report.sent >= 4
    to_mia = [
        c.params["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0MIA"
    ]
    to_eli = [
        c.params["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0ELI"
    ]
    assert any("Tom Li" in text for text in to_mia)  # her Teams report, on Slack
    assert any("Tara Nowak" in text for text in to_eli)  # his Teams manager's heads-up
    assert any("Eli Wang" in m["text"] for m in app.messages_to(TARA))  # on Teams
    assert any("Mia Chen" in m["text"] for m in app.messages_to(TOM))
