"""The review interview's date: set by the manager (or HR) from the prep pack nudge or App
Home, only inside the review window and only for one's reports; the pending prep pack moves
to `prep_pack_lead_days` working days before the new date."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.org.worktime import calendar_for
from bot.review.interview_days import interview_day
from storage.db import session_scope
from storage.models import Interview, Nudge
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import block_actions, key, opened_view, seed_org
from tests.test_self_assessment import add_cycle

FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
PLANNED_PREP = FRI_10  # 3 working days before 1 December had passed: the next 10:00


async def interviews(engine) -> list[Interview]:
    async with session_scope(engine) as session:
        query = select(Interview).order_by(Interview.employee_id)
        return list((await session.execute(query)).scalars())


async def prep_packs(engine, employee_id: str) -> list[Nudge]:
    """The prep packs about someone of `seed_org`'s, by Slack id."""
    async with session_scope(engine) as session:
        query = select(Nudge).where(Nudge.kind == "prep_pack", Nudge.about_id == key(employee_id))
        return list((await session.execute(query)).scalars())


def home_opened(user_id: str) -> dict:
    return {"type": "app_home_opened", "user": user_id, "channel": f"D{user_id}", "tab": "home"}


async def home_picker(app, user_id: str, employee_id: str, event_id: str) -> tuple[dict, dict]:
    """The App Home a user sees, and the interview date picker of one report's row (people
    by Slack id)."""
    await app.event(home_opened(user_id), event_id=event_id)
    [publish] = await app.slack.async_wait_for("views.publish")
    view = valid_view(opened_view(publish.params))
    row = next(
        b for b in view["blocks"] if b.get("block_id") == f"interview_date_{key(employee_id)}"
    )
    return view, row["element"]


def picked(picker: dict, day: str) -> dict:
    return {**picker, "type": "datepicker", "selected_date": day}


async def test_the_prep_pack_nudge_carries_a_date_picker_that_sets_the_interview(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    await nudge_engine.plan(running_app.clock.now)
    await nudge_engine.dispatch(FRI_10)
    [post] = [
        c
        for c in running_app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0MGR"
        and "Eli Wang" in c.params["text"]
        and "interview_date:" in str(c.params["blocks"])
    ]
    valid_message(post.params)
    row = next(b for b in post.params["blocks"] if b.get("block_id") == "nudge_actions")
    picker = next(e for e in row["elements"] if e["type"] == "datepicker")
    assert picker["action_id"] == f"interview_date:{cycle.id}:{key('U0EMP')}"
    assert picker["initial_date"] == "2026-12-01"  # the window's first working day
    message = {"ts": "1700000000.000400", "text": post.params["text"]}
    message["blocks"] = post.params["blocks"]

    await running_app.interact(
        block_actions("U0MGR", picked(picker, "2026-12-10"), message=message, channel="DU0MGR")
    )

    [told] = await running_app.slack.async_wait_for("chat.postEphemeral")
    valid_message(told.params)
    assert (told.params["channel"], told.params["user"]) == ("DU0MGR", "U0MGR")
    assert told.params["text"] == "🗓 Review interview with Eli Wang set for 2026-12-10."
    [interview] = await interviews(engine)
    assert (interview.cycle_id, interview.employee_id) == (cycle.id, key("U0EMP"))
    assert (interview.scheduled_on, interview.set_by) == (date(2026, 12, 10), key("U0MGR"))
    [sent] = await prep_packs(engine, "U0EMP")
    assert (sent.state, sent.due_at) == ("sent", PLANNED_PREP)  # a sent one is not moved


async def test_a_date_set_in_app_home_moves_the_pending_prep_pack_before_it(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    await nudge_engine.plan(running_app.clock.now)
    [pending] = await prep_packs(engine, "U0ANN")
    assert (pending.state, pending.due_at) == ("pending", PLANNED_PREP)
    view, picker = await home_picker(running_app, "U0MGR", "U0ANN", "EvI1")
    assert picker["action_id"] == f"interview_date:{cycle.id}:{key('U0ANN')}"
    assert "initial_date" not in picker  # no date set yet: the window's first day counts
    assert "🗓 Review interview with Ann Lee" in texts(view["blocks"])

    await running_app.interact(block_actions("U0MGR", picked(picker, "2026-12-10"), view=view))

    [dm] = await running_app.slack.async_wait_for("chat.postMessage")
    valid_message(dm.params)
    assert dm.params["channel"] == "DU0MGR"
    assert dm.params["text"] == (
        "🗓 Review interview with Ann Lee set for 2026-12-10. Your prep pack comes 2026-12-07 10:00."
    )
    [moved] = await prep_packs(engine, "U0ANN")
    # Thursday 10 December: three working days before is Monday 7 December, 10:00 in Shanghai
    assert (moved.state, moved.due_at) == ("pending", datetime(2026, 12, 7, 2, 0, tzinfo=UTC))
    [eli] = await prep_packs(engine, "U0EMP")
    assert eli.due_at == PLANNED_PREP

    await running_app.interact(block_actions("U0MGR", picked(picker, "2026-12-03"), view=view))

    await running_app.slack.async_wait_for("chat.postMessage", count=2)
    [again] = await prep_packs(engine, "U0ANN")
    assert again.due_at == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 30 November
    [interview] = await interviews(engine)
    assert (interview.cycle_id, interview.scheduled_on) == (cycle.id, date(2026, 12, 3))
    assert (await nudge_engine.plan(running_app.clock.now)).created == 0


async def test_a_date_outside_the_review_window_is_refused_and_nothing_changes(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    await nudge_engine.plan(running_app.clock.now)
    view, picker = await home_picker(running_app, "U0MGR", "U0EMP", "EvI2")

    for day in ("2026-12-15", "2026-11-30"):
        await running_app.interact(block_actions("U0MGR", picked(picker, day), view=view))

    refusals = await running_app.slack.async_wait_for("chat.postMessage", count=2)
    assert [r.params["text"] for r in refusals] == [
        f"{day} is outside the review window (2026-12-01 to 2026-12-14); please choose a day"
        " inside it. Nothing was changed."
        for day in ("2026-12-15", "2026-11-30")
    ]
    assert await interviews(engine) == []
    [prep] = await prep_packs(engine, "U0EMP")
    assert prep.due_at == PLANNED_PREP


async def test_only_the_reports_manager_or_hr_may_set_the_interview_date(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    await nudge_engine.plan(running_app.clock.now)
    view, picker = await home_picker(running_app, "U0MGR", "U0EMP", "EvI3")

    for intruder in ("U0OTH", "U0EMP"):  # someone else's report; one's own interview
        await running_app.interact(block_actions(intruder, picked(picker, "2026-12-08"), view=view))

    refusals = await running_app.slack.async_wait_for("chat.postMessage", count=2)
    by_channel = {r.params["channel"]: r.params["text"] for r in refusals}
    assert by_channel == {
        "DU0OTH": "Only Eli Wang's manager or HR can set Eli Wang's review interview date.",
        "DU0EMP": "只有 Eli Wang 的直属经理或 HR 可以设定 Eli Wang 的绩效面谈日期。",
    }
    assert await interviews(engine) == []

    await running_app.interact(block_actions("U0HR", picked(picker, "2026-12-08"), view=view))

    await running_app.slack.async_wait_for("chat.postMessage", count=3)
    [interview] = await interviews(engine)
    assert (interview.employee_id, interview.set_by) == (key("U0EMP"), key("U0HR"))
    [prep] = await prep_packs(engine, "U0EMP")
    assert prep.due_at == datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # Tue 8 Dec − 3 working days


async def test_a_date_set_before_planning_plans_the_prep_pack_once_at_the_new_moment(
    running_app, engine, nudge_engine, policy
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    view, picker = await home_picker(running_app, "U0MGR", "U0EMP", "EvI4")

    await running_app.interact(block_actions("U0MGR", picked(picker, "2026-12-14"), view=view))
    await running_app.slack.async_wait_for("chat.postMessage")
    await nudge_engine.plan(running_app.clock.now)

    [prep] = await prep_packs(engine, "U0EMP")
    assert (prep.recipient_id, prep.subject, prep.period) == (
        key("U0MGR"),
        f"cycle:{cycle.id}:{key('U0EMP')}",
        "2026-Q4",
    )
    assert (prep.state, prep.due_at) == ("pending", datetime(2026, 12, 9, 2, 0, tzinfo=UTC))
    calendar = calendar_for(policy, timezone=None, country=None)
    async with session_scope(engine) as session:
        assert await interview_day(session, cycle, key("U0EMP"), calendar) == date(2026, 12, 14)
        assert await interview_day(session, cycle, key("U0ANN"), calendar) == date(2026, 12, 1)


async def test_app_home_shows_the_interview_date_already_set(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    view, picker = await home_picker(running_app, "U0MGR", "U0ANN", "EvI7")
    await running_app.interact(block_actions("U0MGR", picked(picker, "2026-12-10"), view=view))
    await running_app.slack.async_wait_for("chat.postMessage")  # the confirmation

    await running_app.event(home_opened("U0MGR"), event_id="EvI8")

    publishes = await running_app.slack.async_wait_for("views.publish", count=2)
    again = valid_view(opened_view(publishes[-1].params))
    row = next(b for b in again["blocks"] if b.get("block_id") == f"interview_date_{key('U0ANN')}")
    assert row["element"]["initial_date"] == "2026-12-10"
