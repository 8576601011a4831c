"""`/checkin goal`: a manager sets a goal, an employee proposes one for the manager to decide,
and a logged goal-clarification talk closes the goal's reminders."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from bot.engine.notices import ROLE
from bot.engine.planner import plan
from bot.records import goals
from storage.db import session_scope
from storage.models import Goal, Nudge, Talk
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import (
    add_people,
    block_actions,
    key,
    opened_form,
    seed_org,
    sent_message,
    suggested,
    view_submission,
)

GOOD = {
    "goal_title": "Cut p95 checkout latency",
    "goal_measure": "p95 under 300 ms on the dashboard for 4 weeks in a row",
    "goal_due": "2027-03-31",
}


async def open_goal_modal(app, user="U0MGR", args=""):
    response = await app.command(user, f"goal {args}".strip())
    assert response.status_code == 200
    [form] = await opened_form(app.slack)
    return valid_view(form)


async def all_goals(engine) -> list[Goal]:
    async with session_scope(engine) as session:
        return list((await session.exec(select(Goal).order_by(Goal.id))).scalars())


async def dm_to(app, user_id, count=1):
    calls = await app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{user_id}", count=count
    )
    for call in calls:
        valid_message(call.params)
    return calls


def decision_buttons(dm) -> dict[str, dict]:
    block = next(b for b in dm.params["blocks"] if b["type"] == "actions")
    return {e["action_id"]: e for e in block["elements"]}


async def propose(app, user="U0ANN", answers=GOOD):
    view = await open_goal_modal(app, user)
    response = await app.interact(view_submission(user, view, answers))
    assert response.text == ""
    [dm] = await dm_to(app, "U0MGR")
    return dm


def click(user, button, dm, channel="DU0MGR", ts=None):
    message = {
        "ts": ts or dm.response["ts"],
        "text": dm.params["text"],
        "blocks": dm.params["blocks"],
    }
    return block_actions(user, button, message=message, channel=channel)


async def test_a_manager_sets_a_goal_and_the_report_is_told_in_chinese(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_goal_modal(running_app, "U0MGR", "<@U0EMP|eli>")
    assert "Goal for *Eli Wang*" in texts(view["blocks"])

    response = await running_app.interact(view_submission("U0MGR", view, GOOD))

    assert response.text == ""
    [goal] = await all_goals(engine)
    assert (goal.employee_id, goal.set_by, goal.status) == (key("U0EMP"), key("U0MGR"), "active")
    assert goal.confirmed_at == running_app.clock.now and goal.clarified_at is None
    assert goal.due_on == date(2027, 3, 31) and goal.measure == GOOD["goal_measure"]
    [dm] = await dm_to(running_app, "U0EMP")
    body = texts(dm.params["blocks"])
    assert "Mia Chen 为你设定的新目标" in body and "衡量标准" in body and "目标澄清对话" in body
    assert "Cut p95 checkout latency" in body
    assert [c.params["channel"] for c in running_app.slack.calls_to("chat.postMessage")] == [
        "DU0EMP"
    ]  # the clarification nudge is the planner's job, not sent here


async def test_every_mention_form_opens_the_goal_modal_for_that_report(running_app, engine):
    await seed_org(engine, running_app.slack)
    for args in ("<@U0ANN|ann>", "<@U0ANN>", "@annlee", "@ann"):
        running_app.slack.reset()
        view = await open_goal_modal(running_app, "U0MGR", args)
        assert view["private_metadata"] == f'{{"e": "{key("U0ANN")}"}}', args
        assert "Goal for *Ann Lee*" in texts(view["blocks"])


async def test_an_employee_proposes_a_goal_and_the_manager_confirms_it(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_goal_modal(running_app, "U0ANN")
    assert "You propose this goal to *Mia Chen*" in texts(view["blocks"])
    await running_app.interact(view_submission("U0ANN", view, GOOD))
    [proposed] = await all_goals(engine)
    assert (proposed.status, proposed.set_by, proposed.confirmed_at) == (
        "proposed",
        key("U0ANN"),
        None,
    )
    [dm] = await dm_to(running_app, "U0MGR")
    assert "Ann Lee proposes a goal" in texts(dm.params["blocks"])
    buttons = decision_buttons(dm)
    assert set(buttons) == {"goal_confirm", "goal_decline"}
    assert buttons["goal_confirm"]["value"] == str(proposed.id)

    await running_app.notices_sent()
    sent = await sent_message(engine, "goal_proposed", "U0MGR")
    await running_app.interact(click("U0MGR", buttons["goal_confirm"], dm, ts=sent["ts"]))

    [update] = await running_app.slack.async_wait_for("chat.update")
    valid_message(update.params)
    assert (update.params["channel"], update.params["ts"]) == ("DU0MGR", sent["ts"])
    assert "Confirmed by Mia Chen on 2026-11-26" in texts(update.params["blocks"])
    assert all(b["type"] != "actions" for b in update.params["blocks"])
    [goal] = await all_goals(engine)
    assert (goal.status, goal.confirmed_at) == ("active", running_app.clock.now)
    [told] = await dm_to(running_app, "U0ANN")
    assert "Mia Chen confirmed your goal *Cut p95 checkout latency*" in texts(told.params["blocks"])

    await running_app.interact(click("U0MGR", buttons["goal_decline"], dm))  # a late second click

    updates = await running_app.slack.async_wait_for("chat.update", count=2)
    assert "decided already; the goal is active" in texts(updates[1].params["blocks"])
    assert (await all_goals(engine))[0].status == "active"
    assert len(running_app.slack.calls_to("chat.postMessage")) == 2  # Ann is not told twice


async def test_a_declined_proposal_is_dropped_its_reminders_end_and_the_employee_is_told_kindly(
    running_app, engine, policy
):
    await seed_org(engine, running_app.slack)
    dm = await propose(running_app, "U0EMP")
    await plan(engine, policy=policy, now=running_app.clock.now)
    [goal] = await all_goals(engine)
    subject = f"goal:{goal.id}"
    assert {n.state for n in await nudges(engine, subject)} == {"pending"}

    await running_app.interact(click("U0MGR", decision_buttons(dm)["goal_decline"], dm))

    [told] = await dm_to(running_app, "U0EMP")
    body = texts(told.params["blocks"])
    assert "Mia Chen 暂时没有把 *Cut p95 checkout latency* 列为目标" in body
    assert "一起把它完善" in body
    [goal] = await all_goals(engine)
    assert (goal.status, goal.confirmed_at) == ("dropped", None)
    assert {n.state for n in await nudges(engine, subject)} == {"cancelled"}


async def test_only_the_manager_or_hr_may_decide_a_proposal(running_app, engine):
    await seed_org(engine, running_app.slack)
    dm = await propose(running_app, "U0ANN")
    confirm = decision_buttons(dm)["goal_confirm"]

    await running_app.interact(click("U0OTH", confirm, dm, channel="DU0OTH"))
    await running_app.interact(click("U0ANN", confirm, dm, channel="DU0ANN"))  # her own

    refusals = await running_app.slack.async_wait_for("chat.postEphemeral", count=2)
    assert {r.params["text"] for r in refusals} == {
        "Only Ann Lee's manager or HR can set or confirm Ann Lee's goals."
    }
    assert (await all_goals(engine))[0].status == "proposed"

    await running_app.interact(click("U0HR", confirm, dm, channel="DU0HR"))

    await dm_to(running_app, "U0ANN")  # Ann hears of the decision
    assert (await all_goals(engine))[0].status == "active"
    # HR was sent no proposal: the decision updates no message, not the one the click names
    assert running_app.slack.calls_to("chat.update") == []


async def test_validation_errors_land_on_the_exact_field_in_the_actors_language(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    view = await open_goal_modal(running_app, "U0MGR", "<@U0ANN>")

    empty_measure = await running_app.interact(
        view_submission("U0MGR", view, {**GOOD, "goal_measure": "   "})
    )
    past_due = await running_app.interact(
        view_submission("U0MGR", view, {**GOOD, "goal_due": "2026-11-25"})
    )

    assert empty_measure.json() == {
        "response_action": "errors",
        "errors": {
            "goal_measure": "Say how the goal is measured, so you both know when it is reached."
        },
    }
    assert past_due.json()["errors"] == {"goal_due": "The due date can't be in the past."}
    running_app.slack.reset()
    zh_view = await open_goal_modal(running_app, "U0EMP")
    zh_past = await running_app.interact(
        view_submission("U0EMP", zh_view, {**GOOD, "goal_due": "2026-11-25", "goal_title": ""})
    )
    assert zh_past.json()["errors"] == {
        "goal_title": "请填写目标。",
        "goal_due": "截止日期不能早于今天。",
    }
    assert await all_goals(engine) == []
    assert running_app.slack.calls_to("chat.postMessage") == []


async def test_someone_not_the_manager_is_refused_and_a_forged_submission_writes_nothing(
    running_app, engine
):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0OTH", "goal <@U0EMP|eli>")
    [refused] = await opened_form(running_app.slack)
    assert texts(refused["blocks"]) == (
        "Only Eli Wang's manager or HR can set or confirm Eli Wang's goals."
    )
    assert "submit" not in refused  # the loading modal holds the refusal, not a form
    running_app.slack.reset()

    view = await open_goal_modal(running_app, "U0MGR", "<@U0EMP>")
    forged = await running_app.interact(view_submission("U0OTH", view, GOOD))

    assert forged.json()["errors"] == {
        "goal_title": "Only Eli Wang's manager or HR can set or confirm Eli Wang's goals."
    }
    assert await all_goals(engine) == []


async def test_a_manager_picks_whose_goal_and_may_propose_one_for_themself(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [dict(slack_id="U0SUB", name="Sam Sun", manager_id="U0ANN")])

    mia_view = await open_goal_modal(running_app, "U0MGR")  # Mia has no manager of her own
    mia_options = await suggested(running_app, "U0MGR", mia_view)
    assert [o["value"] for o in mia_options] == [key("U0ANN"), key("U0EMP")]
    running_app.slack.reset()
    ann_view = await open_goal_modal(running_app, "U0ANN")
    options = {
        o["value"]: o["text"]["text"] for o in await suggested(running_app, "U0ANN", ann_view)
    }
    assert options == {key("U0SUB"): "Sam Sun", key("U0ANN"): "Myself (proposed to Mia Chen)"}

    answers = {**GOOD, "goal_employee": key("U0SUB"), "goal_title": "Goal of U0SUB"}
    response = await running_app.interact(view_submission("U0ANN", ann_view, answers))
    assert response.text == ""
    await dm_to(running_app, "U0SUB")
    running_app.slack.reset()
    ann_view = await open_goal_modal(running_app, "U0ANN")  # a new form for the next goal
    answers = {**GOOD, "goal_employee": key("U0ANN"), "goal_title": "Goal of U0ANN"}
    response = await running_app.interact(view_submission("U0ANN", ann_view, answers))
    assert response.text == ""

    assert [(g.employee_id, g.status) for g in await all_goals(engine)] == [
        (key("U0SUB"), "active"),
        (key("U0ANN"), "proposed"),
    ]
    [proposal] = await dm_to(running_app, "U0MGR")
    assert "Goal of U0ANN" in texts(proposal.params["blocks"])


async def test_people_with_nobody_to_set_a_goal_for_are_told_what_works(running_app, engine):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0OTH", "goal")
    await running_app.command("U0MGR", "goal for everyone")

    [usage] = await running_app.slack.async_wait_for("response_url")
    assert usage.params["_key"] == "cmd-U0MGR"
    assert usage.params["text"].startswith("To set a goal: `/checkin goal`")
    [refused] = await opened_form(running_app.slack)  # Otto's; Mia's usage opened nothing
    assert "no reports and no manager" in texts(refused["blocks"])
    assert len(running_app.slack.calls_to("views.open")) == 1


async def test_the_same_submission_twice_saves_one_goal_and_sends_one_dm(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_goal_modal(running_app, "U0MGR", "<@U0EMP>")
    payload = view_submission("U0MGR", view, GOOD)

    first = await running_app.interact(payload)
    second = await running_app.interact(payload)

    assert first.text == second.text == ""
    assert len(await all_goals(engine)) == 1
    await dm_to(running_app, "U0EMP")
    assert len(running_app.slack.calls_to("chat.postMessage")) == 1


# -- mark_clarified -----------------------------------------------------------------------------
async def nudges(engine, subject: str) -> list[Nudge]:
    async with session_scope(engine) as session:
        query = (
            select(Nudge)
            .where(Nudge.subject == subject, Nudge.role != ROLE)  # nudges, not notices
            .order_by(Nudge.id)
        )
        return list((await session.exec(query)).scalars())


async def new_goal(engine, employee, actor, title, now):
    """A goal for `employee`, created by `actor` (people of `ORG`, by Slack id)."""
    created = await goals.create_goal(
        engine,
        actor_id=key(actor),
        employee_id=key(employee),
        title=title,
        measure="Measured somehow",
        due_on=date(2027, 6, 30),
        now=now,
    )
    return created.goal


async def goal_talk(session, now) -> Talk:
    talk = Talk(
        kind="goal_clarification",
        family="dialogue",
        manager_id=key("U0MGR"),
        employee_id=key("U0EMP"),
        logged_by=key("U0MGR"),
        held_on=now.date(),
        duration_minutes=30,
        facts="Walked through the goal.",
        consensus="Measured on the dashboard.",
        submission_key="clarify-1",
        created_at=now,
    )
    session.add(talk)
    await session.flush()
    return talk


async def test_mark_clarified_closes_earlier_open_goals_and_cancels_their_nudges(
    engine, slack, policy, clock
):
    await seed_org(engine, slack)
    now = clock.now
    earlier = await new_goal(engine, "U0EMP", "U0MGR", "Earlier goal", now - timedelta(days=3))
    proposed = await new_goal(engine, "U0EMP", "U0EMP", "Own idea", now - timedelta(days=2))
    other = await new_goal(engine, "U0ANN", "U0MGR", "Ann's goal", now - timedelta(days=3))
    dropped = await new_goal(engine, "U0EMP", "U0EMP", "Dropped idea", now - timedelta(days=2))
    await goals.decide_goal(
        engine, goal_id=dropped.id, actor_id=key("U0MGR"), confirm=False, now=now
    )
    later = await new_goal(engine, "U0EMP", "U0MGR", "Later goal", now + timedelta(hours=1))
    await plan(engine, policy=policy, now=now + timedelta(hours=2))
    assert len(await nudges(engine, f"goal:{earlier.id}")) == 2  # manager and employee

    async with session_scope(engine) as session:
        talk = await goal_talk(session, now)
        marked = await goals.mark_clarified(
            session, employee_id=key("U0EMP"), talk_id=talk.id, talk_created_at=now, now=now
        )
        await session.commit()

    assert marked == 2
    by_id = {g.id: g for g in await all_goals(engine)}
    for goal in (earlier, proposed):
        assert (by_id[goal.id].clarified_at, by_id[goal.id].clarified_in_talk_id) == (now, talk.id)
        for nudge in await nudges(engine, f"goal:{goal.id}"):
            assert (nudge.state, nudge.last_error) == ("cancelled", "goal clarified")
    for goal in (other, dropped, later):
        assert by_id[goal.id].clarified_at is None
    assert {n.state for n in await nudges(engine, f"goal:{other.id}")} == {"pending"}
    assert {n.state for n in await nudges(engine, f"goal:{later.id}")} == {"pending"}


async def test_mark_clarified_leaves_the_commit_to_the_callers_transaction(engine, slack, clock):
    await seed_org(engine, slack)
    goal = await new_goal(engine, "U0EMP", "U0MGR", "A goal", clock.now - timedelta(days=1))

    async with session_scope(engine) as session:
        talk = await goal_talk(session, clock.now)
        assert (
            await goals.mark_clarified(
                session,
                employee_id=key("U0EMP"),
                talk_id=talk.id,
                talk_created_at=clock.now,
                now=clock.now,
            )
            == 1
        )
        seen_inside = (await session.get(Goal, goal.id)).clarified_at
        await session.rollback()

    assert seen_inside == clock.now
    assert (await all_goals(engine))[0].clarified_at is None
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Talk))).scalar_one() == 0
