"""`/checkin milestone`: register who takes part, mark it done, and the planner asks each
participant's manager for a retrospective (复盘对话)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.engine.planner import plan
from storage.db import session_scope
from storage.models import Milestone, MilestoneParticipant, Nudge
from tests.blockkit import texts, valid_message
from tests.factories import add_people, block_actions, key, seed_org

BOB = dict(slack_id="U0BOB", name="Bob Stone", email="bob@example.com", manager_id="U0OTH")
USAGE = '`/checkin milestone "Name" @person @person [YYYY-MM-DD]`'


async def register(app, user, args) -> dict:
    """Send the command and return the ephemeral reply's params."""
    app.slack.reset()
    response = await app.command(user, f"milestone {args}")
    assert response.status_code == 200
    [reply] = await app.slack.async_wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral"
    return valid_message(reply.params)


def done_button(reply: dict) -> dict:
    return next(b["accessory"] for b in reply["blocks"] if "accessory" in b)


async def click_done(app, user, reply) -> dict:
    """Click "Mark done" on the ephemeral confirmation; return what was sent to response_url."""
    app.slack.reset()
    payload = block_actions(user, done_button(reply))
    payload["channel"] = {"id": "C0GENERAL", "name": "general"}
    payload["container"] = {
        "type": "message",
        "message_ts": "1700000000.000300",
        "channel_id": "C0GENERAL",
        "is_ephemeral": True,
    }
    payload["response_url"] = app.slack.response_url(f"done-{user}")
    response = await app.interact(payload)
    assert response.status_code == 200
    [answer] = await app.slack.async_wait_for("response_url")
    return valid_message(answer.params)


async def stored(engine) -> list[tuple[Milestone, set[str]]]:
    async with session_scope(engine) as session:
        milestones = (await session.exec(select(Milestone).order_by(Milestone.id))).scalars()
        out = []
        for milestone in list(milestones):
            query = select(MilestoneParticipant.person_id).where(
                MilestoneParticipant.milestone_id == milestone.id
            )
            out.append((milestone, set((await session.exec(query)).scalars())))
        return out


async def test_a_milestone_is_registered_with_every_mention_form_and_a_date(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [BOB])

    reply = await register(
        running_app, "U0MGR", "“Launch v2” <@U0EMP|eli> <@U0ANN> @bobstone 2026-12-15"
    )

    [(milestone, people)] = await stored(engine)
    assert (milestone.name, milestone.due_on, milestone.created_by) == (
        "Launch v2",
        date(2026, 12, 15),
        key("U0MGR"),
    )
    assert milestone.done_at is None and people == {key("U0EMP"), key("U0ANN"), key("U0BOB")}
    assert reply["text"] == "Milestone registered: Launch v2"
    body = texts(reply["blocks"])
    assert "Eli Wang, Ann Lee, Bob Stone" in body and "*Due:* 2026-12-15" in body
    button = done_button(reply)
    assert (button["action_id"], button["value"]) == ("milestone_done", str(milestone.id))

    reply = await register(running_app, "U0MGR", '"Beta" <@U0EMP>')

    assert [(m.name, m.due_on) for m, _ in await stored(engine)][1] == ("Beta", None)
    assert "no date set" in texts(reply["blocks"])


async def test_the_confirmation_speaks_the_registering_users_language(running_app, engine):
    await seed_org(engine, running_app.slack)

    reply = await register(running_app, "U0EMP", "“季度发布” @annlee")

    assert reply["text"] == "已登记里程碑：季度发布"
    assert "标记完成" in texts(reply["blocks"]) and "复盘对话" in texts(reply["blocks"])


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ("", "Put the milestone's name in quotes first."),
        ("Launch @eli", "Put the milestone's name in quotes first."),
        ('"   " @eli', "Put the milestone's name in quotes first."),
        ('"Launch"', "Name at least one person who takes part, with @."),
        ('"Launch" 2026-12-15', "Name at least one person who takes part, with @."),
        ('"Launch" @nobody', "I can't find that person in the org chart."),
        ('"Launch" @eli 2026-13-40', "“2026-13-40” is not a date I can read"),
        ('"Launch" @eli 15/12/2026', "“15/12/2026” is not a date I can read"),
        ('"Launch" @eli 2026-11-25', "The due date has passed already"),
        ('"Launch" @eli soon', "I couldn't read “soon”"),
        ('"Launch" @eli 2026-12-15 @ann', "I couldn't read “2026-12-15”"),
    ],
)
async def test_bad_input_explains_the_expected_form_and_writes_nothing(
    running_app, engine, args, problem
):
    await seed_org(engine, running_app.slack)

    reply = await register(running_app, "U0MGR", args)

    assert problem in reply["text"] and USAGE in reply["text"]
    assert await stored(engine) == []


async def test_people_outside_the_org_chart_cannot_register_milestones(running_app, engine):
    await seed_org(engine, running_app.slack)
    running_app.slack.add_user("U0NEW", name="Newbie", locale="en-US")

    reply = await register(running_app, "U0NEW", '"Launch" @eli')

    assert "not in Cadence's org chart" in reply["text"]
    assert await stored(engine) == []


async def test_the_creator_marks_it_done_once_and_the_message_is_replaced(running_app, engine):
    await seed_org(engine, running_app.slack)
    reply = await register(running_app, "U0MGR", '"Launch v2" @eli @ann')

    answer = await click_done(running_app, "U0MGR", reply)

    assert answer["_key"] == "done-U0MGR" and answer["replace_original"] is True
    assert answer["text"] == "Milestone done: Launch v2"
    assert "marked done on 2026-11-26" in texts(answer["blocks"])
    assert all("accessory" not in b for b in answer["blocks"])  # no second "Mark done"
    [(milestone, _)] = await stored(engine)
    assert milestone.done_at == running_app.clock.now

    running_app.clock.now += timedelta(days=1)
    await click_done(running_app, "U0MGR", reply)

    [(milestone, _)] = await stored(engine)
    assert milestone.done_at == running_app.clock.now - timedelta(days=1)


async def test_a_stranger_is_refused_but_a_participants_manager_may_mark_it_done(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    reply = await register(running_app, "U0ANN", '"Launch v2" @eli')

    refused = await click_done(running_app, "U0OTH", reply)

    assert refused["replace_original"] is False
    assert refused["text"] == (
        "Only whoever registered “Launch v2”, a participant's manager or HR can mark it done."
    )
    [(milestone, _)] = await stored(engine)
    assert milestone.done_at is None

    await click_done(running_app, "U0MGR", reply)  # Eli's manager

    [(milestone, _)] = await stored(engine)
    assert milestone.done_at == running_app.clock.now


async def test_marking_done_plans_a_retrospective_for_each_participants_manager(
    running_app, engine, policy
):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [BOB])
    reply = await register(running_app, "U0MGR", '"Launch v2" @eli @ann @bobstone 2026-12-15')
    [(milestone, _)] = await stored(engine)
    subject = f"milestone:{milestone.id}"
    await plan(engine, policy=policy, now=running_app.clock.now)
    assert await retro_nudges(engine, subject) == []  # not due yet, not done yet

    await click_done(running_app, "U0MGR", reply)
    await plan(engine, policy=policy, now=running_app.clock.now)

    retros = await retro_nudges(engine, subject)
    assert sorted((n.recipient_id, n.role, n.state) for n in retros) == [
        (key("U0MGR"), "manager", "pending"),
        (key("U0OTH"), "manager", "pending"),
    ]
    participants = {n.recipient_id: json.loads(n.payload)["participants"] for n in retros}
    assert participants == {
        key("U0MGR"): [key("U0ANN"), key("U0EMP")],
        key("U0OTH"): [key("U0BOB")],
    }


async def retro_nudges(engine, subject: str) -> list[Nudge]:
    async with session_scope(engine) as session:
        query = select(Nudge).where(Nudge.kind == "milestone_retro", Nudge.subject == subject)
        return list((await session.exec(query)).scalars())


async def test_a_milestone_of_people_who_left_is_refused(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [dict(BOB, active=False)])

    reply = await register(running_app, "U0MGR", '"Launch" <@U0BOB>')

    assert "can't find that person" in reply["text"]
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Milestone))).scalar_one() == 0
