"""Records are created once however often the button is pressed: five identical signed
submissions at once (or a double click) leave one row and one notice, and every one of them
is answered as the first was. On SQLite and PostgreSQL; across two processes too."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from bot.engine.notices import ROLE
from storage.db import make_engine, session_scope
from storage.models import Cycle, Goal, Milestone, Nudge, Review, SelfAssessment, Talk
from tests.app_fixtures import serve_app
from tests.blockkit import texts
from tests.factories import (
    T0,
    block_actions,
    key,
    opened_form,
    seed_org,
    sent_message,
    view_submission,
)

FIVE = 5
RECORD = {
    "facts": "Shipped the billing migration two weeks early.",
    "consensus": "Eli leads the Q1 reliability work.",
    "action_1_text": "Draft the reliability plan",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}
GOAL = {
    "goal_title": "Cut p95 checkout latency",
    "goal_measure": "p95 under 300 ms for 4 weeks in a row",
    "goal_due": "2027-03-31",
}
REVIEW = {
    "review_rating": "4",
    "review_evidence": "Shipped the billing migration two weeks early.",
    "review_next_goals": "Lead the Q1 reliability work",
    "review_action_1_text": "Attend the tech lead course",
    "review_action_1_owner": "employee",
    "review_action_1_due": "2027-01-31",
}
SELF = {"self_rating": "4", "self_proudest": "The migration", "self_redo": "Plan earlier"}
Q3 = dict(
    name="2026-Q3",
    starts_on=date(2026, 7, 1),
    ends_on=date(2026, 9, 30),
    review_from=date(2026, 10, 1),
    review_to=date(2026, 12, 31),
)


async def count(engine, model, *where) -> int:
    async with session_scope(engine) as session:
        query = select(func.count()).select_from(model).where(*where)
        return (await session.execute(query)).scalar_one()


async def notices(engine, kind: str) -> list[Nudge]:
    async with session_scope(engine) as session:
        query = select(Nudge).where(Nudge.role == ROLE, Nudge.kind == kind)
        return list((await session.execute(query)).scalars())


def posts_to(app, user_id: str) -> list:
    return [
        c for c in app.slack.calls_to("chat.postMessage") if c.params["channel"] == f"D{user_id}"
    ]


async def at_once(app, payload, times: int = FIVE):
    return await asyncio.gather(*(app.interact(payload) for _ in range(times)))


async def opened(app, user_id: str, text: str) -> dict:
    app.slack.reset()
    await app.command(user_id, text)
    [form] = await opened_form(app.slack)
    return form


async def test_five_identical_goal_submissions_save_one_goal_and_one_proposal(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0ANN", "goal")  # Ann proposes to Mia

    answers = await at_once(running_app, view_submission("U0ANN", view, GOAL))

    assert [(a.status_code, a.text) for a in answers] == [(200, "")] * FIVE  # all as the first
    assert await count(engine, Goal) == 1
    await running_app.notices_sent()
    assert len(await notices(engine, "goal_proposed")) == 1
    assert len(posts_to(running_app, "U0MGR")) == 1


async def test_identical_goal_submissions_to_two_processes_save_one_goal(
    running_app, engine, slack, policy, clock, database_url
):
    """Two `serve` processes share the database: only its unique key can keep them to one."""
    await seed_org(engine, slack)
    view = await opened(running_app, "U0MGR", "goal <@U0EMP>")
    payload = view_submission("U0MGR", view, GOAL)
    other_engine = make_engine(database_url)
    try:
        async with serve_app(
            other_engine, slack, policy, clock, database_url, running_app.time
        ) as other:
            answers = await asyncio.gather(
                *(app.interact(payload) for app in [running_app, other] * 3)
            )
            await other.notices_sent()
    finally:
        await other_engine.dispose()

    assert [a.text for a in answers] == [""] * 6
    assert await count(engine, Goal) == 1
    await running_app.notices_sent()
    assert len(posts_to(running_app, "U0EMP")) == 1


async def test_five_identical_record_submissions_save_one_talk_and_tell_each_person_once(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0MGR", "<@U0EMP>")

    answers = await at_once(running_app, view_submission("U0MGR", view, RECORD))

    assert [a.text for a in answers] == [""] * FIVE
    assert await count(engine, Talk) == 1
    await running_app.notices_sent()
    assert len(posts_to(running_app, "U0EMP")) == len(posts_to(running_app, "U0MGR")) == 1


async def seed_cycle(app, engine):
    await seed_org(engine, app.slack)
    async with session_scope(engine) as session:
        session.add(Cycle(created_at=T0, **Q3))
        await session.commit()


async def test_five_identical_review_submissions_record_one_review(running_app, engine):
    await seed_cycle(running_app, engine)
    view = await opened(running_app, "U0MGR", "review <@U0EMP>")

    answers = await at_once(running_app, view_submission("U0MGR", view, REVIEW))

    assert [a.text for a in answers] == [""] * FIVE
    assert await count(engine, Review) == await count(engine, Talk) == 1
    assert await count(engine, Goal) == 1
    await running_app.notices_sent()
    assert len(posts_to(running_app, "U0EMP")) == 1  # one summary


async def test_five_identical_self_assessment_submissions_tell_the_manager_once(
    running_app, engine
):
    await seed_cycle(running_app, engine)
    view = await opened(running_app, "U0EMP", "self")

    answers = await at_once(running_app, view_submission("U0EMP", view, SELF))

    assert {a.json()["response_action"] for a in answers} == {"update"}
    assert await count(engine, SelfAssessment) == 1
    await running_app.notices_sent()
    assert len(await notices(engine, "self_submitted")) == 1
    assert len(posts_to(running_app, "U0MGR")) == 1


async def recorded_talk(app, engine) -> dict:
    view = await opened(app, "U0MGR", "<@U0EMP>")
    assert (await app.interact(view_submission("U0MGR", view, RECORD))).text == ""
    await app.notices_sent()
    [dm] = posts_to(app, "U0EMP")
    return dm.params


def button(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if element.get("action_id") == action_id:
                return {**element, "type": "button"}
    raise AssertionError(f"no {action_id} button")


async def test_five_acknowledgements_at_once_tell_the_manager_once(running_app, engine):
    await seed_org(engine, running_app.slack)
    dm = await recorded_talk(running_app, engine)
    sent = await sent_message(engine, "talk_record", "U0EMP")
    message = {"ts": sent["ts"], "text": dm["text"], "blocks": dm["blocks"]}
    click = block_actions(
        "U0EMP", button(dm, "acknowledge_talk"), message=message, channel=sent["channel"]
    )

    answers = await at_once(running_app, click)

    assert {a.status_code for a in answers} == {200}
    await running_app.slack.async_wait_for("chat.update", count=FIVE)
    await running_app.notices_sent()
    assert len(await notices(engine, "talk_acknowledged")) == 1
    assert (
        len([p for p in posts_to(running_app, "U0MGR") if "acknowledged" in p.params["text"]]) == 1
    )


async def recorded_review(app, engine) -> dict:
    await seed_cycle(app, engine)
    view = await opened(app, "U0MGR", "review <@U0EMP>")
    assert (await app.interact(view_submission("U0MGR", view, REVIEW))).text == ""
    await app.notices_sent()
    [dm] = posts_to(app, "U0EMP")
    return dm.params


async def test_five_review_acknowledgements_at_once_tell_the_manager_once(running_app, engine):
    dm = await recorded_review(running_app, engine)
    sent = await sent_message(engine, "review_summary", "U0EMP")
    message = {"ts": sent["ts"], "text": dm["text"], "blocks": dm["blocks"]}
    click = block_actions(
        "U0EMP", button(dm, "review_acknowledge"), message=message, channel=sent["channel"]
    )

    await at_once(running_app, click)

    await running_app.slack.async_wait_for("chat.update", count=FIVE)
    await running_app.notices_sent()
    assert len(await notices(engine, "review_acknowledged")) == 1


async def test_five_identical_disagreements_at_once_tell_hr_and_the_manager_once(
    running_app, engine
):
    dm = await recorded_review(running_app, engine)
    running_app.slack.reset()
    await running_app.interact(block_actions("U0EMP", button(dm, "review_disagree")))
    [modal] = await opened_form(running_app.slack)
    comment = {"review_comment": "The NPS gain came from the whole team."}

    answers = await at_once(running_app, view_submission("U0EMP", modal, comment))

    assert [a.text for a in answers] == [""] * FIVE
    await running_app.notices_sent()
    told = sorted(n.recipient_id for n in await notices(engine, "review_disagreed"))
    assert told == [key("U0HR"), key("U0MGR")]
    assert len(posts_to(running_app, "U0HR")) == len(posts_to(running_app, "U0MGR")) == 1


async def test_a_milestone_command_sent_five_times_registers_one_milestone(running_app, engine):
    await seed_org(engine, running_app.slack)
    text = 'milestone "Billing v2" <@U0EMP> <@U0ANN> 2026-12-18'

    await asyncio.gather(*(running_app.command("U0MGR", text) for _ in range(FIVE)))

    replies = await running_app.slack.async_wait_for("response_url", count=FIVE)
    assert {r.params["text"] for r in replies} == {"Milestone registered: Billing v2"}
    assert await count(engine, Milestone) == 1
    button_values = {
        e["value"]
        for r in replies
        for b in r.params["blocks"]
        for e in [b.get("accessory") or {}]
        if e.get("action_id") == "milestone_done"
    }
    assert button_values == {"1"}  # every answer is the one milestone


async def test_the_same_milestone_a_few_minutes_later_is_the_same_one_but_not_an_hour_later(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    text = 'milestone "Billing v2" <@U0EMP> <@U0ANN> 2026-12-18'
    same_people = 'milestone "billing  V2" <@U0ANN> <@U0EMP> 2026-12-18'

    await running_app.command("U0MGR", text)
    await running_app.slack.async_wait_for("response_url")
    running_app.clock.now = datetime(2026, 11, 26, 3, 8, tzinfo=UTC)  # 8 minutes later
    await running_app.command("U0MGR", same_people)
    await running_app.slack.async_wait_for("response_url", count=2)
    assert await count(engine, Milestone) == 1

    running_app.clock.now = datetime(2026, 11, 26, 4, 30, tzinfo=UTC)
    await running_app.command("U0MGR", text)
    await running_app.slack.async_wait_for("response_url", count=3)
    await running_app.command("U0ANN", text.replace("<@U0ANN> ", ""))  # another person's
    await running_app.slack.async_wait_for("response_url", count=4)
    assert await count(engine, Milestone) == 3


async def test_a_double_click_on_snooze_brings_the_nudge_back_once(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await nudge_engine.plan(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    await nudge_engine.dispatch(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    [post] = [
        c
        for c in running_app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0MGR" and "Eli Wang" in c.params["text"]
    ]
    sent = await sent_message(engine, "checkin", "U0MGR")
    actions = next(b for b in post.params["blocks"] if b["type"] == "actions")
    snooze = next(e for e in actions["elements"] if e["action_id"] == "nudge_snooze")
    click = block_actions(
        "U0MGR",
        {**snooze, "selected_option": snooze["options"][1]},
        message={"ts": sent["ts"], "text": post.params["text"], "blocks": post.params["blocks"]},
        channel=sent["channel"],
    )

    for _ in range(2):
        await running_app.interact(click)
    updates = await running_app.slack.async_wait_for("chat.update", count=2)

    async with session_scope(engine) as session:
        rows = await session.execute(
            select(Nudge).where(Nudge.kind == "checkin", Nudge.period.like("%~s%"))  # type: ignore[attr-defined]
        )
        snoozed = list(rows.scalars())
    assert [(n.subject, n.state) for n in snoozed] == [(key("U0EMP"), "pending")]
    assert {texts(u.params["blocks"]).splitlines()[-1] for u in updates} == {
        "💤 Snoozed until 2026-11-30 10:00."
    }
    assert json.loads(snooze["options"][1]["value"])["n"] == 1
