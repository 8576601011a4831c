"""The pace of posting: a second apart per channel, a workspace rate that grows while Slack
accepts, stops for Retry-After on a 429 and never passes its ceiling. The pacing unit runs on
a clock that moves only when someone sleeps; the dispatcher's spacing is checked against the
stand-in, both on the tests' fast-forward time (`tests.fast_forward_time`)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.engine.pace import CHANNEL_SPACING, ChannelBusy, Pace
from bot.slack.profile_refresh import MinuteBudget
from tests.factories import add_people, seed_org
from tests.test_dispatcher import add_checkin_nudge

FRI_10_SHANGHAI = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class FakeTime:
    """A monotonic clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def paced(start: float = 4.0, ceiling: float = 50.0) -> tuple[Pace, FakeTime]:
    fake = FakeTime()
    return Pace(start=start, ceiling=ceiling, clock=fake.clock, sleep=fake.sleep), fake


async def post(pace: Pace, fake: FakeTime, channel: str, times: list[float]) -> None:
    """One post to `channel`, accepted by Slack; its moment goes into `times`."""
    async with pace.channel(channel, horizon=60) as turn:
        await turn()
        times.append(fake.now)
    pace.accepted()


async def test_posts_to_one_channel_are_a_second_apart_and_others_do_not_wait_for_them():
    pace, fake = paced(start=100, ceiling=100)
    to_manager: list[float] = []
    to_other: list[float] = []

    for _ in range(3):
        await post(pace, fake, "UMGR", to_manager)
    await post(pace, fake, "UOTHER", to_other)

    gaps = [b - a for a, b in itertools.pairwise(to_manager)]
    assert all(gap >= CHANNEL_SPACING - 1e-9 for gap in gaps) and CHANNEL_SPACING >= 1.0, gaps
    assert to_other[0] - to_manager[-1] < 0.1  # no channel spacing for someone else


async def test_a_channel_busy_beyond_the_horizon_is_refused_for_later():
    pace, fake = paced()
    holder = pace.channel("UMGR", horizon=5)
    await holder.__aenter__()
    waiting = [asyncio.ensure_future(post(pace, fake, "UMGR", [])) for _ in range(4)]
    await asyncio.sleep(0)

    with pytest.raises(ChannelBusy) as busy:
        async with pace.channel("UMGR", horizon=3):
            pass

    assert busy.value.wait > 3
    await holder.__aexit__(None, None, None)
    await asyncio.gather(*waiting)


async def test_the_pace_grows_while_slack_accepts_but_never_above_its_ceiling():
    pace, fake = paced(start=4, ceiling=20)
    times: list[float] = []

    for n in range(300):
        await post(pace, fake, f"U{n}", times)

    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert pace.rate == 20
    assert min(gaps) >= 1 / 20 - 1e-9  # never faster than the ceiling
    assert gaps[0] >= 1 / 4 - 1e-9  # it started at sends_per_second
    assert len(times) / (times[-1] - times[0]) > 15  # and grew to near the ceiling


async def test_a_429_stops_everyone_for_retry_after_then_paces_under_what_slack_accepted():
    pace, fake = paced(start=4, ceiling=50)
    times: list[float] = []
    for n in range(100):
        await post(pace, fake, f"U{n}", times)
    accepted_last_second = sum(1 for t in times if t > fake.now - 1.0)

    pace.limited(7)
    limited_at = fake.now
    pace.limited(7)  # a second post of the same burst: no further cut
    after: list[float] = []
    await post(pace, fake, "UNEW", after)
    for n in range(20):
        await post(pace, fake, f"UN{n}", after)

    assert after[0] - limited_at >= 7  # Retry-After honoured, for a channel never used
    assert pace.rate < accepted_last_second  # under what Slack took before it said no
    assert pace.rate >= 0.9 * accepted_last_second
    gaps = [b - a for a, b in itertools.pairwise(after)]
    assert min(gaps) >= 1 / pace.rate - 1e-9  # it holds, not grows, right after a 429


async def test_a_429_while_others_wait_for_their_turn_holds_them_too():
    pace, fake = paced(start=1, ceiling=1)
    first: list[float] = []
    await post(pace, fake, "U1", first)
    second: list[float] = []
    waiter = asyncio.ensure_future(post(pace, fake, "U2", second))
    await asyncio.sleep(0)  # U2 waits for its turn, a second after U1

    pace.limited(30)
    await waiter

    assert second[0] - first[0] >= 30


def test_profile_look_ups_stay_within_a_minute_budget():
    fake = FakeTime()
    budget = MinuteBudget(100, clock=fake.clock)

    allowed = sum(budget.take() for _ in range(250))
    wait = budget.wait()
    fake.now += wait
    again = budget.take()

    assert allowed == 100  # Tier 4: about 100 a minute
    assert 0 < wait <= 60 and again


async def test_a_burst_of_checkins_to_one_manager_reaches_slack_a_second_apart(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    for about in ("U0EMP", "U0ANN"):
        await add_checkin_nudge(engine, subject=about)
    await add_checkin_nudge(engine, subject="U0OTH", to="U0HR")
    running_app.slack.set_channel_rate_limit(per_second=1, burst=1)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    posts = running_app.slack.calls_to("chat.postMessage")
    to_mia = [c for c in posts if c.params["channel"] == "DU0MGR"]
    assert report.sent == 3 and all(c.status == 200 for c in posts)  # no 429 from Slack
    assert len(to_mia) == 2 and to_mia[1].at - to_mia[0].at >= 1.0
    to_hana = next(c for c in posts if c.params["channel"] == "DU0HR")
    assert to_hana.at < to_mia[1].at  # Hana's did not wait behind Mia's second


async def test_a_manager_with_more_checkins_than_a_pass_can_hold_gets_the_rest_later(
    running_app, engine, nudge_engine, policy
):
    await seed_org(engine, running_app.slack)
    reports = [dict(slack_id=f"U0R{i}", name=f"Report {i}", manager_id="U0MGR") for i in range(12)]
    await add_people(engine, reports)  # more than ~10 s of one channel's turns
    for report in reports:
        await add_checkin_nudge(engine, subject=report["slack_id"])

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent + report.spaced == 12
    assert report.sent > 0 and report.spaced > 0
    from bot.engine.outbox import claim

    later = await claim(engine, now=FRI_10_SHANGHAI + timedelta(minutes=1), worker="w", limit=50)
    assert len(later) == report.spaced  # put back for later, no attempt counted
    assert all(n.attempts == 0 for n in later)


async def test_a_429_holds_back_the_posts_to_everyone_for_its_retry_after(running_app, engine):
    slack = running_app.slack
    await seed_org(engine, slack)
    await add_checkin_nudge(engine, subject="U0EMP", to="U0MGR")
    await add_checkin_nudge(engine, subject="U0ANN", to="U0HR")
    slack.fail_next("chat.postMessage", status=429, retry_after=2)
    one_per_process = running_app.deps.notifier.engine  # the app's own pace, from 4/s

    report = await one_per_process.dispatch(FRI_10_SHANGHAI)

    limited, other = slack.calls_to("chat.postMessage")
    assert (limited.status, other.status) == (429, 200)
    assert other.params["channel"] != limited.params["channel"]
    assert other.at - limited.at >= 2.0  # someone else's post waited out the Retry-After too
    assert (report.sent, report.retried) == (1, 1)
