"""The dispatcher against Slack's failures and the recipients' time: 429s, 500s, time-outs,
nights, weekends, missed moments, people who left."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.engine.dispatch import backoff
from bot.engine.outbox import NudgeSpec, claim, enqueue
from bot.org.profiles import remember_dm_channel
from storage import queries
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, Person
from tests.app_fixtures import engine_for
from tests.blockkit import valid_message
from tests.factories import key, seed_org

FRI_10_SHANGHAI = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def add_checkin_nudge(engine, *, due_at=FRI_10_SHANGHAI, subject="U0EMP", to="U0MGR"):
    """A check-in nudge to `to` about `subject` (people of `add_people`, by Slack id)."""
    payload = {"firm": False, "last": None, "since": "2026-11-01", "round": 1}
    to, subject = key(to), key(subject)
    async with session_scope(engine) as session:
        await enqueue(
            session,
            [NudgeSpec("checkin", to, subject, "2026-11", due_at, subject, "manager", payload)],
            due_at - timedelta(days=1),
        )
        await session.commit()


async def the_nudge(engine) -> Nudge:
    async with session_scope(engine) as session:
        return (await session.execute(select(Nudge))).scalar_one()


async def test_a_due_checkin_is_sent_with_its_outline_and_recorded(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent == 1
    [post] = running_app.slack.calls_to("chat.postMessage")
    valid_message(post.params)
    assert post.params["channel"] == "DU0EMP".replace("EMP", "MGR")
    nudge = await the_nudge(engine)
    assert (nudge.state, nudge.channel, nudge.attempts) == ("sent", "DU0MGR", 1)
    assert nudge.sent_text == "Time for a check-in with Eli Wang"
    buttons = [e for b in post.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["action_id"] for b in buttons] == ["nudge_log_talk", "nudge_snooze", "nudge_skip"]
    assert json.loads(buttons[0]["value"]) == {"e": key("U0EMP"), "k": "checkin"}


async def test_a_429_is_retried_after_retry_after_without_counting_an_attempt(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    running_app.slack.fail_next("chat.postMessage", status=429, retry_after=7)

    first = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    nudge = await the_nudge(engine)
    assert (first.sent, first.retried, nudge.state, nudge.attempts) == (0, 1, "pending", 0)
    assert nudge.due_at == FRI_10_SHANGHAI + timedelta(seconds=7)
    assert (await nudge_engine.dispatch(FRI_10_SHANGHAI + timedelta(seconds=6))).sent == 0
    assert (await nudge_engine.dispatch(FRI_10_SHANGHAI + timedelta(seconds=7))).sent == 1
    assert [c.status for c in running_app.slack.calls_to("chat.postMessage")] == [429, 200]
    limited, again = running_app.slack.calls_to("chat.postMessage")
    assert again.at - limited.at >= 7  # the pace waited out Retry-After (fast-forward time)


async def test_server_errors_back_off_then_fail_and_are_listed(
    running_app, engine, nudge_engine, policy
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    running_app.slack.fail_next("chat.postMessage", status=500, times=100)
    now, waits = FRI_10_SHANGHAI, []

    for _ in range(policy.delivery.max_attempts):
        await nudge_engine.dispatch(now)
        nudge = await the_nudge(engine)
        if nudge.state != "pending":
            break
        waits.append(nudge.due_at - now)
        now = nudge.due_at

    assert nudge.state == "failed" and nudge.attempts == policy.delivery.max_attempts
    bases = [timedelta(seconds=30 * 2**n) for n in range(policy.delivery.max_attempts - 1)]
    assert len(waits) == len(bases)
    for wait, base in zip(waits, bases, strict=True):  # doubling, with up to a tenth of jitter
        assert base <= wait < base * 1.1
    assert "500" in (nudge.last_error or "") or "internal" in (nudge.last_error or "").lower()
    from bot.engine.outbox import failed

    assert [n.id for n in await failed(engine)] == [nudge.id]


async def test_a_slack_timeout_is_retried_later(running_app, engine, database_url):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    quick = engine_for(running_app, database_url, timeout=0.5)
    running_app.slack.fail_next("chat.postMessage", delay=1.0)  # answers after the time-out

    report = await quick.dispatch(FRI_10_SHANGHAI)

    nudge = await the_nudge(engine)
    assert (report.sent, report.retried, nudge.state, nudge.attempts) == (0, 1, "pending", 1)
    assert nudge.last_error.startswith("network")
    assert nudge.due_at == FRI_10_SHANGHAI + backoff(1, nudge.id or 0)  # 30 s and its jitter


async def test_nothing_is_sent_at_night_or_at_the_weekend_in_the_recipients_zone(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    saturday_morning = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Sat 10:00 in Shanghai
    await add_checkin_nudge(engine, due_at=saturday_morning)

    report = await nudge_engine.dispatch(saturday_morning)

    nudge = await the_nudge(engine)
    assert (report.sent, report.deferred) == (0, 1)
    assert nudge.state == "pending"
    assert nudge.due_at == datetime(2026, 11, 30, 1, 30, tzinfo=UTC)  # Mon 09:30 in Shanghai
    assert running_app.slack.calls_to("chat.postMessage") == []


async def test_a_missed_moment_goes_out_at_the_next_working_moment_or_is_dropped(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine, due_at=FRI_10_SHANGHAI)
    await add_checkin_nudge(engine, due_at=FRI_10_SHANGHAI - timedelta(days=5), subject="U0ANN")
    bot_back_at_3am = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # Mon 03:00 in Shanghai

    night = await nudge_engine.dispatch(bot_back_at_3am)
    morning = await nudge_engine.dispatch(datetime(2026, 11, 30, 1, 30, tzinfo=UTC))

    assert (night.sent, night.deferred, night.cancelled) == (0, 1, 1)
    assert morning.sent == 1
    async with session_scope(engine) as session:
        rows = {n.subject: n for n in (await session.execute(select(Nudge))).scalars()}
    eli, ann = rows[key("U0EMP")], rows[key("U0ANN")]
    assert eli.state == "sent"
    assert ann.state == "cancelled" and ann.last_error.startswith("dropped")


async def test_a_user_slack_reports_deleted_gets_no_nudges(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    await add_checkin_nudge(engine)
    await add_checkin_nudge(engine, subject="U0ANN")
    running_app.slack.add_user("U0MGR", name="Mia Chen", deleted=True)
    running_app.slack.fail_next("chat.postMessage", error="user_disabled")

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent == 0 and report.cancelled == 2
    async with session_scope(engine) as session:
        mia = await session.get(Person, key("U0MGR"))
        states = set((await session.execute(select(Nudge.state))).scalars())
    assert mia.active is False and states == {"cancelled"}


async def test_a_post_that_timed_out_but_reached_slack_is_found_not_posted_again(
    running_app, engine, database_url
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await add_checkin_nudge(engine)
    quick = engine_for(running_app, database_url, timeout=0.5)
    slack.fail_next("chat.postMessage", delay=1.0)  # Slack posts it, the answer comes too late

    timed_out = await quick.dispatch(FRI_10_SHANGHAI)
    await slack.async_wait_for("chat.postMessage")  # Slack finished posting it meanwhile
    nudge = await the_nudge(engine)
    again = await quick.dispatch(nudge.due_at)

    assert (timed_out.sent, nudge.state, nudge.uncertain) == (0, "pending", True)
    assert again.sent == 1
    [message] = slack.messages_in("DU0MGR")
    nudge = await the_nudge(engine)
    assert (nudge.state, nudge.ts, nudge.uncertain) == ("sent", message["ts"], False)
    assert len(slack.calls_to("chat.postMessage")) == 1  # looked for, found, not posted again
    [look] = slack.calls_to("conversations.history")
    assert look.params["channel"] == "DU0MGR" and look.params["include_all_metadata"] in (
        "1",
        "true",
    )


async def test_a_taken_over_row_already_posted_is_found_in_a_long_dm_history(
    running_app, engine, nudge_engine
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await add_checkin_nudge(engine)
    [dead] = await claim(engine, now=FRI_10_SHANGHAI, worker="dead", limit=5)
    # the dead process had opened it
    await remember_dm_channel(engine, "U0MGR", "DU0MGR", now=FRI_10_SHANGHAI)
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.base_url)
    mark = {"event_type": "cadence_outbox", "event_payload": {"outbox_id": dead.id, "part": 0}}
    # the dead process had posted it; 250 other messages came after it in the DM
    posted = await client.chat_postMessage(channel="DU0MGR", text="check-in", metadata=mark)
    for n in range(250):
        await client.chat_postMessage(channel="DU0MGR", text=f"other {n}")
    await client.chat_postMessage(channel="DU0OTH", text="elsewhere", metadata=mark)
    before = len(slack.calls_to("chat.postMessage"))

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI + timedelta(hours=1))

    nudge = await the_nudge(engine)
    assert report.sent == 1 and (nudge.state, nudge.ts) == ("sent", posted["ts"])
    assert len(slack.calls_to("chat.postMessage")) == before  # nothing posted twice
    assert len(slack.calls_to("conversations.history")) == 2  # it paged back to it


async def test_a_message_not_found_in_the_history_is_posted_once(running_app, engine, nudge_engine):
    slack = running_app.slack
    await seed_org(engine, slack)
    await add_checkin_nudge(engine)
    await claim(engine, now=FRI_10_SHANGHAI, worker="dead", limit=5)  # died before posting

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI + timedelta(hours=1))

    [message] = slack.messages_in("DU0MGR")
    nudge = await the_nudge(engine)
    assert report.sent == 1 and nudge.ts == message["ts"]
    assert message["metadata"] == {
        "event_type": "cadence_outbox",
        "event_payload": {"outbox_id": nudge.id, "kind": "checkin", "part": 0, "parts": 1},
    }


async def test_stale_profiles_are_refreshed_after_sending_never_before(
    running_app, engine, nudge_engine
):
    slack = running_app.slack
    await seed_org(engine, slack)
    async with session_scope(engine) as session:
        for identity in (await session.execute(select(ChatIdentity))).scalars():
            identity.refreshed_at = FRI_10_SHANGHAI - timedelta(days=8)  # a week stale
            identity.locale = "en"
        await session.commit()
    await add_checkin_nudge(engine, subject="U0EMP", to="U0MGR")
    await add_checkin_nudge(engine, subject="U0ANN", to="U0HR")
    # Slack's Tier 4 answering slowly (real time): the first look-up takes a second, and the
    # others, made one after another, come after it
    slack.fail_next("users.info", delay=1.0)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)
    await nudge_engine.platform("slack").send.refresher.idle()

    posts = slack.calls_to("chat.postMessage")
    lookups = slack.calls_to("users.info")
    assert report.sent == 2 and {c.params["user"] for c in lookups} == {"U0MGR", "U0HR"}
    assert max(p.at for p in posts) < min(c.at for c in lookups)  # sent with what was stored
    async with session_scope(engine) as session:
        mia = await queries.slack_identity(session, key("U0MGR"))
    assert mia.refreshed_at == FRI_10_SHANGHAI  # and refreshed afterwards


def test_back_off_is_jittered_per_row_so_an_outage_does_not_retry_everyone_at_once():
    waits = {backoff(3, row) for row in range(1, 200)}

    assert len(waits) > 10  # rows spread out
    assert all(timedelta(minutes=2) <= w < timedelta(minutes=2) * 1.1 for w in waits)
    assert backoff(3, 42) == backoff(3, 42)  # the same row waits the same each time
