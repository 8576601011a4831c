"""A dead token cancels nothing: Slack refusing the bot's token (revoked, uninstalled) pauses
delivery, stored for every process, shown by /healthz, and ends by itself once `auth.test`
works again. Errors about a recipient still touch only that recipient's nudges."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from sqlalchemy import select, update

from bot.engine import delivery_pause
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, Person
from tests.factories import add_people, key, seed_org
from tests.test_dispatcher import FRI_10_SHANGHAI, add_checkin_nudge

TOKEN_ERRORS = ["account_inactive", "invalid_auth", "token_revoked", "not_authed", "token_expired"]


async def four_checkins(engine) -> None:
    """Check-ins to four people: Mia (about Eli), Hana, Otto and Ann."""
    await add_checkin_nudge(engine, subject="U0EMP", to="U0MGR")
    await add_checkin_nudge(engine, subject="U0ANN", to="U0HR")
    await add_checkin_nudge(engine, subject="U0EMP", to="U0OTH")
    await add_checkin_nudge(engine, subject="U0MGR", to="U0ANN")


async def outbox(engine) -> list[Nudge]:
    async with session_scope(engine) as session:
        return list((await session.execute(select(Nudge).order_by(Nudge.id))).scalars())


async def paused_for(engine, timeout: float = 5.0) -> str:
    """The pause's reason, once a listener (run after the ack) has stored it."""
    deadline = time.monotonic() + timeout
    while (pause := await delivery_pause.current(engine)) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no pause after {timeout}s")
        await asyncio.sleep(0.02)
    return pause.reason


async def health(app) -> tuple[int, dict]:
    response = await app.http.get(f"{app.url}/healthz")
    return response.status_code, response.json()


def posted(slack, rows: list[Nudge]) -> Counter[int]:
    """The messages Slack holds in the rows' DMs, per outbox row."""
    return Counter(
        m["metadata"]["event_payload"]["outbox_id"]
        for channel in {r.channel for r in rows}
        for m in slack.messages_in(channel)
    )


@pytest.mark.parametrize("error", TOKEN_ERRORS)
async def test_a_token_revoked_mid_queue_cancels_nothing_and_burns_no_attempt(
    running_app, engine, nudge_engine, error
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await four_checkins(engine)
    slack.fail_next("chat.postMessage")  # the first post goes through...
    slack.fail_next("chat.postMessage", error=error, times=10)  # ...then the token is dead

    revoked = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    rows = await outbox(engine)
    assert (revoked.sent, revoked.cancelled, revoked.failed, revoked.paused) == (1, 0, 0, True)
    assert sorted(r.state for r in rows) == ["pending", "pending", "pending", "sent"]
    assert all(r.attempts == 0 for r in rows if r.state == "pending")
    assert await delivery_pause.current(engine) is not None
    assert await health(running_app) == (
        200,
        {
            "status": "degraded",
            "delivery": "paused",
            "platform": "slack",
            "reason": error,
            "since": FRI_10_SHANGHAI.isoformat(),
        },
    )

    slack.reset()  # (forgets the failures still queued)
    slack.revoke_token(error)  # still revoked: the next pass asks Slack, sends nothing
    still = await nudge_engine.dispatch(FRI_10_SHANGHAI)
    assert (still.paused, still.claimed) == (True, 0)
    assert slack.calls_to("chat.postMessage") == []
    assert slack.calls_to("auth.test")

    slack.restore_token()  # reinstalled: the next pass resumes by itself
    resumed = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    rows = await outbox(engine)
    assert (resumed.sent, resumed.paused) == (3, False)
    assert [r.state for r in rows] == ["sent"] * 4
    assert posted(slack, rows) == Counter({r.id: 1 for r in rows})  # each once
    assert await health(running_app) == (200, {"status": "ok"})


async def test_a_dead_token_stops_the_pass_at_once_instead_of_burning_through_the_outbox(
    running_app, engine, nudge_engine, policy
):
    slack = running_app.slack
    managers = [dict(slack_id=f"UM{i:03d}", name=f"Manager {i}") for i in range(40)]
    reports = [
        dict(slack_id=f"UR{i:03d}", name=f"Report {i}", manager_id=f"UM{i:03d}") for i in range(40)
    ]
    await add_people(engine, managers)
    await add_people(engine, reports)
    for person in managers + reports:
        slack.add_user(person["slack_id"], name=person["name"], tz="Asia/Shanghai")
    for i in range(40):
        await add_checkin_nudge(engine, subject=f"UR{i:03d}", to=f"UM{i:03d}")
    slack.fail_next("chat.postMessage", error="token_revoked", times=100)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    rows = await outbox(engine)
    assert report.paused and report.sent == 0
    # only the posts already in flight when the first refusal came back
    assert len(slack.calls_to("chat.postMessage")) <= policy.delivery.concurrency
    assert {(r.state, r.attempts) for r in rows} == {("pending", 0)}


async def test_the_pause_is_stored_so_another_process_sends_nothing_either(
    running_app, engine, nudge_engine, database_url
):
    from tests.app_fixtures import engine_for

    slack = running_app.slack
    await seed_org(engine, slack)
    await four_checkins(engine)
    slack.revoke_token("token_revoked")
    slack.fail_next("chat.postMessage", error="token_revoked")
    await nudge_engine.dispatch(FRI_10_SHANGHAI)

    other = engine_for(running_app, database_url)  # a second replica, or a restart
    report = await other.dispatch(FRI_10_SHANGHAI)

    assert report.paused and report.claimed == 0
    assert [r.state for r in await outbox(engine)] == ["pending"] * 4


async def test_app_uninstalled_stops_sending_keeps_records_and_a_reinstall_resumes(
    running_app, engine, nudge_engine
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await four_checkins(engine)

    response = await running_app.event({"type": "app_uninstalled"}, event_id="Ev0UNINSTALL")
    assert response.status_code == 200
    assert await paused_for(engine) == "app_uninstalled"
    slack.revoke_token("account_inactive")  # what Slack answers an uninstalled app's token
    paused = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert paused.paused and slack.calls_to("chat.postMessage") == []
    assert (await health(running_app))[1]["reason"] == "app_uninstalled"
    assert [r.state for r in await outbox(engine)] == ["pending"] * 4
    async with session_scope(engine) as session:
        assert len((await session.execute(select(Person))).all()) == 5

    slack.restore_token()
    resumed = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert resumed.sent == 4
    assert await delivery_pause.current(engine) is None


async def test_tokens_revoked_pauses_for_the_bot_token_only(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    users_only = {"type": "tokens_revoked", "tokens": {"oauth": ["U0HR"], "bot": []}}
    bot = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT"]}}

    await running_app.event(users_only, event_id="Ev0USERS")
    home = {"type": "app_home_opened", "user": "U0HR", "tab": "home"}
    await running_app.event(home, event_id="Ev0HOME")  # handled after the one before
    await running_app.slack.async_wait_for("views.publish")
    after_users = await delivery_pause.current(engine)
    await running_app.event(bot, event_id="Ev0BOT")

    assert after_users is None
    assert await paused_for(engine) == "tokens_revoked"


async def test_a_recipient_who_cannot_be_reached_loses_only_their_own_checkin(
    running_app, engine, nudge_engine
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await add_checkin_nudge(engine, subject="U0EMP", to="U0MGR")
    await add_checkin_nudge(engine, subject="U0ANN", to="U0HR")
    slack.fail_next("chat.postMessage", error="cannot_dm_bot")

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    rows = await outbox(engine)
    assert (report.sent, report.cancelled, report.paused) == (1, 1, False)
    assert sorted(r.state for r in rows) == ["cancelled", "sent"]
    assert "cannot_dm_bot" in next(r.last_error for r in rows if r.state == "cancelled")
    assert await delivery_pause.current(engine) is None


async def test_a_stale_dm_channel_is_opened_again_once(running_app, engine, nudge_engine):
    slack = running_app.slack
    await seed_org(engine, slack)
    async with session_scope(engine) as session:
        await session.execute(
            update(ChatIdentity)
            .where(ChatIdentity.person_id == key("U0MGR"))
            .values(conversation="DGONE")
        )
        await session.commit()
    await add_checkin_nudge(engine)
    slack.fail_next("chat.postMessage", error="channel_not_found")

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    [row] = await outbox(engine)
    posts = slack.calls_to("chat.postMessage")
    assert report.sent == 1 and (row.state, row.channel) == ("sent", "DU0MGR")
    assert [p.params["channel"] for p in posts] == ["DGONE", "DU0MGR"]
    assert len(slack.calls_to("conversations.open")) == 1
    async with session_scope(engine) as session:
        mia = await queries.slack_identity(session, key("U0MGR"))
    assert mia is not None and mia.conversation == "DU0MGR"
