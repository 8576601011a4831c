"""What a manager and an employee do is the same on Slack and on Teams: each test here runs
on both (`chat` is parametrised), through each platform's own form, buttons and messages."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import ActionItem, Nudge, Talk

GOOD = {
    "facts": "Shipped the billing migration two weeks early; 3 customer escalations closed.",
    "consensus": "Leads the Q1 reliability work.",
    "action_1_text": "Draft the reliability plan",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}


async def _count(engine, model) -> int:
    async with session_scope(engine) as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_manager_logs_checkin_and_employee_is_told(chat, engine):
    form = await chat.open_record_form("manager", "employee")

    result = await chat.submit_record("manager", form, GOOD)

    assert result.accepted
    async with session_scope(engine) as session:
        talk = (await session.execute(select(Talk))).scalar_one()
        action = (await session.execute(select(ActionItem))).scalar_one()
    assert (talk.kind, talk.manager_id, talk.employee_id) == (
        "checkin",
        chat.who("manager"),
        chat.who("employee"),
    )
    assert (action.owner_id, action.due_on.isoformat()) == (chat.who("employee"), "2026-12-10")
    [to_employee] = [m for m in await chat.dms("employee") if "Shipped the billing" in m]
    assert "Draft the reliability plan" in to_employee
    assert "事实" in to_employee and "确认" in to_employee  # the employee reads Chinese
    assert any("Saved your Check-in" in m for m in await chat.dms("manager"))


async def test_the_same_submission_twice_saves_one_talk_and_tells_once(chat, engine):
    form = await chat.open_record_form("manager", "employee")

    first = await chat.submit_record("manager", form, GOOD)
    again = await chat.submit_record("manager", form, GOOD)  # a retry, or a double click

    assert first.accepted and again.accepted
    assert await _count(engine, Talk) == 1
    assert await _count(engine, ActionItem) == 1
    told = [m for m in await chat.dms("employee") if "Shipped the billing" in m]
    assert len(told) == 1


async def test_problems_come_back_beside_their_fields_and_nothing_is_written(chat, engine):
    form = await chat.open_record_form("manager", "employee")
    answers = {**GOOD, "consensus": "", "action_1_due": "2026-13-40"}

    result = await chat.submit_record("manager", form, answers)

    assert not result.accepted
    assert "2026-13-40" in result.problems["action_1_due"]  # what could not be read, echoed
    assert await _count(engine, Talk) == 0
    if chat.platform == "teams":  # a dialog comes back whole: everything typed is kept
        assert result.kept["facts"] == GOOD["facts"]
        assert result.kept["action_1_text"] == GOOD["action_1_text"]


async def test_employee_acknowledges_once_and_the_manager_hears_of_it(chat, engine):
    form = await chat.open_record_form("manager", "employee")
    await chat.submit_record("manager", form, GOOD)

    await chat.acknowledge("employee")

    async with session_scope(engine) as session:
        talk = (await session.execute(select(Talk))).scalar_one()
    assert talk.acknowledged_at is not None
    heard = [m for m in await chat.dms("manager") if "acknowledged" in m]
    assert len(heard) == 1


async def test_only_the_manager_or_hr_may_log_a_talk_about_someone(chat, engine):
    form = await chat.open_record_form("colleague", "employee")

    if isinstance(form, dict) and form.get("task", {}).get("type") == "message":
        refused = form["task"]["value"]  # Teams: the dialog says why instead of a form
    else:
        refused = str(form)
    assert "manager" in refused.lower() or "经理" in refused
    assert await _count(engine, Talk) == 0


THU_11 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai
FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def test_a_checkin_nudge_reaches_the_manager_and_snoozing_brings_it_back_next_week(
    chat, engine
):
    nudger = chat.nudger()
    await nudger.plan(THU_11)
    await nudger.dispatch(FRI_10)

    nudge = await chat.nudge_to("manager", "employee")
    shown = await chat.snooze_next_week("manager", nudge)

    assert "Snoozed until 2026-11-30 10:00" in shown
    async with session_scope(engine) as session:
        rows = (await session.execute(select(Nudge).where(Nudge.period == "2026-11~s1"))).scalars()
        [snoozed] = list(rows)
    assert (snoozed.subject, snoozed.state) == (chat.who("employee"), "pending")
    assert snoozed.due_at == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 local
    assert (await nudger.dispatch(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))).sent == 0
    assert (await nudger.dispatch(snoozed.due_at)).sent == 1
