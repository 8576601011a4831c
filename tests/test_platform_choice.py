"""The dispatcher reaches each person on their platform: the first of
`delivery.platform_order` they have an account on and the process sends through; someone on
no such platform waits, counted, never dropped; one platform's pause holds up no other.

The second platform here is a recording one at the dispatcher's edge (what it was asked to
deliver, answered like a platform's API), so these tests are about the choice alone; Teams'
real sender and its Bot Connector are proven in `test_teams_delivery.py`."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.engine import delivery_pause
from bot.engine.dispatch import Delivered, PlatformDelivery, Turn
from bot.engine.pace import Pace
from bot.engine.scheduler import Engine
from bot.org.policy import Delivery
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, Platform
from tests.factories import add_people, key, seed_org
from tests.test_dispatcher import FRI_10_SHANGHAI, add_checkin_nudge

ELI_TEAMS = "0a0b0c0d-1111-2222-3333-444455556666"
MIA_TEAMS = "9f8e7d6c-5555-4444-3333-222211110000"


class RecordingPlatform:
    """What Cadence asked the second platform (Teams) to deliver: outbox row, recipient."""

    def __init__(self, *, refuses: bool = False) -> None:
        self.delivered: list[tuple[int, str]] = []
        self.refuses = refuses
        self._ids = itertools.count(1)

    async def send(self, nudge: Nudge, now: datetime, turn: Turn) -> Delivered:
        await turn()
        self.delivered.append((nudge.id or 0, nudge.recipient_id))
        return Delivered(channel="a:teams-conversation", ts=f"1:{next(self._ids)}", text="…")

    async def verify(self) -> bool:
        return not self.refuses

    def delivery(self, clock: Pace) -> PlatformDelivery:
        pace = Pace(start=50, ceiling=50, channel_spacing=0, clock=clock.clock, sleep=clock.sleep)
        return PlatformDelivery(Platform.TEAMS, self.send, pace, verify=self.verify)


async def give_teams_account(engine, slack_id: str, user_id: str, *, only: bool = False) -> None:
    """A Teams account for someone of `seed_org`'s; `only`: their Slack one is gone."""
    async with session_scope(engine) as session:
        if only:
            for identity in (
                await session.execute(
                    select(ChatIdentity).where(ChatIdentity.person_id == key(slack_id))
                )
            ).scalars():
                await session.delete(identity)
        session.add(
            ChatIdentity(
                person_id=key(slack_id),
                platform=Platform.TEAMS,
                workspace="",
                user_id=user_id,
                created_at=FRI_10_SHANGHAI,
                updated_at=FRI_10_SHANGHAI,
            )
        )
        await session.commit()


def ordered(nudge_engine: Engine, *order: str) -> Engine:
    """The same engine under a policy that reaches people in `order`."""
    context = nudge_engine.context
    delivery = context.policy.delivery.model_copy(update={"platform_order": order})
    policy = context.policy.model_copy(update={"delivery": delivery})
    context.policy = policy
    return nudge_engine


def with_teams(nudge_engine: Engine, teams: RecordingPlatform) -> Engine:
    slack = nudge_engine.platform(Platform.SLACK)
    nudge_engine.platforms = [slack, teams.delivery(slack.pace)]
    return nudge_engine


async def rows(engine) -> list[Nudge]:
    async with session_scope(engine) as session:
        return list((await session.execute(select(Nudge).order_by(Nudge.id))).scalars())


async def test_someone_on_both_platforms_is_reached_on_the_first_of_the_policys_order(
    running_app, engine, nudge_engine
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await give_teams_account(engine, "U0MGR", MIA_TEAMS)
    await add_checkin_nudge(engine)  # to Mia, about Eli
    teams = RecordingPlatform()
    with_teams(nudge_engine, teams)

    ordered(nudge_engine, "teams", "slack")
    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent == 1 and teams.delivered == [(1, key("U0MGR"))]
    assert slack.calls_to("chat.postMessage") == []
    [row] = await rows(engine)
    assert (row.state, row.channel) == ("sent", "a:teams-conversation")

    await add_checkin_nudge(engine, subject="U0ANN")  # Mia again, about Ann
    ordered(nudge_engine, "slack", "teams")
    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent == 1 and len(teams.delivered) == 1  # this one went through Slack
    [post] = slack.calls_to("chat.postMessage")
    assert post.params["channel"] == "DU0MGR"


async def test_someone_on_no_platform_served_waits_counted_and_is_never_dropped(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await give_teams_account(engine, "U0MGR", MIA_TEAMS, only=True)  # this process: Slack only
    await add_checkin_nudge(engine)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert (report.sent, report.unreachable, report.cancelled, report.failed) == (0, 1, 0, 0)
    [row] = await rows(engine)
    assert (row.state, row.attempts) == ("pending", 0)
    assert row.last_error.startswith("unreachable")
    assert row.due_at == FRI_10_SHANGHAI + timedelta(hours=1)
    assert running_app.slack.calls_to("chat.postMessage") == []

    four_days_on = FRI_10_SHANGHAI + timedelta(days=4)  # past drop_after_hours (72)
    later = await nudge_engine.dispatch(four_days_on)

    assert (later.unreachable, later.cancelled) == (1, 0)
    [row] = await rows(engine)
    assert (row.state, row.attempts) == ("pending", 0)

    teams = RecordingPlatform()
    with_teams(nudge_engine, teams)  # once the process sends through Teams, it goes
    reached = await nudge_engine.dispatch(four_days_on + timedelta(hours=1))

    assert reached.sent == 1 and teams.delivered == [(row.id, key("U0MGR"))]


async def test_a_paused_slack_holds_up_nobody_on_teams(running_app, engine, nudge_engine):
    slack = running_app.slack
    await seed_org(engine, slack)
    await give_teams_account(engine, "U0EMP", ELI_TEAMS, only=True)
    await add_checkin_nudge(engine)  # to Mia, on Slack
    await add_checkin_nudge(engine, subject="U0ANN", to="U0EMP")  # to Eli, on Teams
    await delivery_pause.pause(engine, reason="token_revoked", now=FRI_10_SHANGHAI)
    slack.revoke_token("token_revoked")
    teams = RecordingPlatform()
    with_teams(nudge_engine, teams)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert (report.sent, report.paused, report.paused_platforms) == (1, True, {"slack"})
    assert teams.delivered == [(2, key("U0EMP"))]
    mias, elis = await rows(engine)
    assert (mias.state, mias.attempts, mias.due_at) == ("pending", 0, FRI_10_SHANGHAI)
    assert elis.state == "sent"
    assert slack.calls_to("chat.postMessage") == []


async def test_slack_refusing_the_token_mid_pass_stops_only_slack(
    running_app, engine, nudge_engine
):
    slack = running_app.slack
    await seed_org(engine, slack)
    await add_people(engine, [dict(slack_id="U0TEA", name="Tea Ma", manager_id="U0MGR")])
    await give_teams_account(engine, "U0TEA", "5e5e5e5e-0000-1111-2222-333344445555", only=True)
    await add_checkin_nudge(engine)  # Mia, on Slack
    await add_checkin_nudge(engine, subject="U0ANN", to="U0HR")  # Hana, on Slack
    await add_checkin_nudge(engine, subject="U0EMP", to="U0TEA")  # Tea, on Teams
    slack.fail_next("chat.postMessage", error="token_revoked", times=10)
    teams = RecordingPlatform()
    with_teams(nudge_engine, teams)

    report = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert report.paused_platforms == {"slack"} and report.sent == 1
    assert teams.delivered == [(3, key("U0TEA"))]
    on_slack = [r for r in await rows(engine) if r.recipient_id != key("U0TEA")]
    assert [(r.state, r.attempts) for r in on_slack] == [("pending", 0), ("pending", 0)]
    assert await delivery_pause.current(engine, "slack") is not None
    assert await delivery_pause.current(engine, "teams") is None


async def test_a_teams_pause_is_stored_apart_and_ends_when_teams_accepts_the_bot_again(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await give_teams_account(engine, "U0MGR", MIA_TEAMS, only=True)
    await add_checkin_nudge(engine)
    await delivery_pause.pause(
        engine, reason="Unauthorized", now=FRI_10_SHANGHAI, platform=Platform.TEAMS
    )
    teams = RecordingPlatform(refuses=True)
    with_teams(nudge_engine, teams)

    still = await nudge_engine.dispatch(FRI_10_SHANGHAI)

    assert (still.sent, still.paused_platforms) == (0, {"teams"})
    assert await delivery_pause.current(engine, "slack") is None  # Slack's row is its own

    teams.refuses = False
    back = await nudge_engine.dispatch(FRI_10_SHANGHAI + timedelta(minutes=1))

    assert back.sent == 1 and back.paused_platforms == set()
    assert await delivery_pause.current(engine, "teams") is None


@pytest.mark.parametrize("bad", [(), ("slack", "slack"), ("slack", "irc")])
def test_the_platform_order_names_known_platforms_each_once(bad):
    with pytest.raises(ValidationError):
        Delivery(platform_order=bad)


def test_the_shipped_policy_reaches_people_on_slack_first_and_any_order_may_be_set(policy):
    assert policy.delivery.platform_order == ("slack", "teams")
    assert Delivery(platform_order=("teams",)).platform_order == ("teams",)
