"""Nudges and notices reach people on Teams: a proactive card in the personal chat the app's
installation opened, in their working hours and language; someone the bot cannot reach yet
keeps theirs pending, counted, never dropped; Teams' 429/412/502/504 are waited out and a
refused token pauses Teams alone."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.engine import delivery_pause
from bot.engine.outbox import UNREACHABLE, enqueue
from bot.engine.planner import NudgeSpec
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, NudgeState, Platform
from tests.teams_fixtures import TARA, TOM, RunningTeams, tkey
from tests.test_dispatcher import FRI_10_SHANGHAI


async def add_checkin(app: RunningTeams, *, due_at=FRI_10_SHANGHAI) -> None:
    """A check-in nudge to Tara about Tom."""
    payload = {"firm": False, "last": None, "since": "2026-11-01", "round": 1}
    async with session_scope(app.deps.engine) as session:
        await enqueue(
            session,
            [
                NudgeSpec(
                    "checkin",
                    tkey(TARA),
                    tkey(TOM),
                    "2026-11",
                    due_at,
                    tkey(TOM),
                    "manager",
                    payload,
                )
            ],
            due_at - timedelta(days=1),
        )
        await session.commit()


async def the_nudge(app: RunningTeams) -> Nudge:
    async with session_scope(app.deps.engine) as session:
        return (await session.execute(select(Nudge))).scalar_one()


async def test_a_checkin_nudge_reaches_the_manager_in_teams_as_a_card(teams_app):
    await teams_app.install(TARA)
    await add_checkin(teams_app)

    report = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent == 1
    [_welcome, nudge] = teams_app.messages_to(TARA)
    card = nudge["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    shown = json.dumps(card, ensure_ascii=False)
    assert "Tom Li" in shown
    opens = [
        a
        for a in _actions(card)
        if a.get("data", {}).get("msteams", {}).get("type") == "task/fetch"
    ]
    assert opens and opens[0]["data"]["e"] == tkey(TOM)  # Log this talk opens the form for Tom
    row = await the_nudge(teams_app)
    assert (row.state, row.platform) == (NudgeState.SENT, "teams")
    assert row.channel == teams_app.teams.install(TARA.bf_id)  # her chat's id
    assert row.ts == nudge["id"]


async def test_someone_without_the_app_waits_counted_until_they_install_it(teams_app):
    await add_checkin(teams_app)

    first = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)

    assert (first.sent, first.unreachable) == (0, 1)
    row = await the_nudge(teams_app)
    assert (row.state, row.last_error, row.attempts) == (NudgeState.PENDING, UNREACHABLE, 0)
    assert teams_app.teams.calls_to("send") == []

    await teams_app.install(TARA)
    later = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI + timedelta(hours=1))

    assert later.sent == 1
    assert len(teams_app.messages_to(TARA)) == 2  # the welcome, then the nudge


async def test_someone_who_removed_the_app_waits_again_and_their_chat_is_forgotten(teams_app):
    await teams_app.install(TARA)
    teams_app.teams.uninstall(TARA.bf_id)
    await add_checkin(teams_app)

    report = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)

    assert (report.sent, report.unreachable) == (0, 1)
    assert (await the_nudge(teams_app)).state == NudgeState.PENDING
    async with session_scope(teams_app.deps.engine) as session:
        identity = (
            await session.execute(
                select(ChatIdentity).where(
                    ChatIdentity.platform == Platform.TEAMS, ChatIdentity.user_id == TARA.aad
                )
            )
        ).scalar_one()
    assert identity.conversation is None


async def test_a_429_is_waited_out_for_as_long_as_teams_asks(teams_app):
    await teams_app.install(TARA)
    await add_checkin(teams_app)
    teams_app.teams.fail_next("send", 429, retry_after=7)

    report = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)

    assert (report.sent, report.retried) == (0, 1)
    row = await the_nudge(teams_app)
    assert row.state == NudgeState.PENDING
    assert row.due_at == FRI_10_SHANGHAI + timedelta(seconds=7)
    again = await teams_app.platforms.engine.dispatch(row.due_at)
    assert again.sent == 1


async def test_412_502_and_504_are_retried_with_back_off(teams_app):
    await teams_app.install(TARA)
    await add_checkin(teams_app)
    for status in (412, 502, 504):
        teams_app.teams.fail_next("send", status)
        now = (await the_nudge(teams_app)).due_at

        report = await teams_app.platforms.engine.dispatch(now)

        assert report.retried == 1, status
        row = await the_nudge(teams_app)
        assert row.state == NudgeState.PENDING and row.due_at > now
    final = await teams_app.platforms.engine.dispatch((await the_nudge(teams_app)).due_at)
    assert final.sent == 1
    assert (await the_nudge(teams_app)).attempts == 4


async def test_a_refused_bot_token_pauses_teams_and_cancels_nothing(teams_app):
    await teams_app.install(TARA)
    await add_checkin(teams_app)
    teams_app.teams.token = "rotated-elsewhere"  # the bot's token no longer works

    report = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)

    assert report.paused and report.paused_platforms == {"teams"}
    assert (await the_nudge(teams_app)).state == NudgeState.PENDING
    assert await delivery_pause.current(teams_app.deps.engine, "teams") is not None
    assert await delivery_pause.current(teams_app.deps.engine, "slack") is None


def _actions(card: dict) -> list[dict]:
    found = list(card.get("actions") or [])
    for element in card.get("body") or []:
        if element.get("type") == "ActionSet":
            found += element.get("actions") or []
    return found
