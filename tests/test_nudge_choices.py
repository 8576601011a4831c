"""People answer nudges: log the talk from it, snooze it, skip it with a reason, mark an
action done; the engine follows talks logged, manager changes and leave."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from storage.db import session_scope
from storage.models import ActionItem, Leave, Nudge
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import block_actions, key, opened_form, opened_view, seed_org, view_submission

THU_11 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)  # Thursday 11:00 in Shanghai
FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


async def checkin_to_mia(app, engine, nudge_engine):
    """Plan on Thursday, send Friday 10:00; return Mia's check-in message about Eli."""
    await nudge_engine.plan(THU_11)
    await nudge_engine.dispatch(FRI_10)
    [post] = [
        c
        for c in app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0MGR" and "Eli Wang" in c.params["text"]
    ]
    return post


def clicked(post, action_id, *, option=None):
    element = next(
        e
        for b in post.params["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    action = {**element}
    if option is not None:
        action["selected_option"] = element["options"][option]
    return action


def as_message(post):
    return {"ts": post.response["ts"], "text": post.params["text"], "blocks": post.params["blocks"]}


async def nudge_rows(engine, **where):
    async with session_scope(engine) as session:
        query = select(Nudge).order_by(Nudge.id)
        for key, value in where.items():
            query = query.where(getattr(Nudge, key) == value)
        return list((await session.execute(query)).scalars())


async def test_log_this_talk_opens_the_form_for_that_report_and_kind(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    post = await checkin_to_mia(running_app, engine, nudge_engine)

    await running_app.interact(block_actions("U0MGR", clicked(post, "nudge_log_talk")))

    [shown] = await opened_form(running_app.slack)
    form = valid_view(shown)
    assert json.loads(form["private_metadata"])["e"] == key("U0EMP")
    assert form["blocks"][1]["element"]["initial_option"]["value"] == "checkin"


async def test_logging_the_talk_cancels_the_pending_checkin_and_heads_up(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    running_app.clock.now = THU_11
    await nudge_engine.plan(THU_11)
    await running_app.command("U0MGR", "<@U0EMP>")
    [form] = await opened_form(running_app.slack)
    await running_app.interact(
        view_submission("U0MGR", form, {"facts": "Talked.", "consensus": "Agreed."})
    )

    rows = await nudge_rows(engine, subject=key("U0EMP"))
    assert {(n.kind, n.state) for n in rows} == {
        ("checkin", "cancelled"),
        ("checkin_heads_up", "cancelled"),
    }
    await running_app.notices_sent()  # the record's two notices
    assert (await nudge_engine.dispatch(FRI_10)).sent == 2  # Ann's pair only


async def test_snooze_brings_the_nudge_back_next_week_and_not_before(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    post = await checkin_to_mia(running_app, engine, nudge_engine)
    running_app.clock.now = FRI_10

    await running_app.interact(
        block_actions(
            "U0MGR",
            clicked(post, "nudge_snooze", option=1),
            message=as_message(post),
            channel="DU0MGR",
        )
    )

    [update_call] = await running_app.slack.async_wait_for("chat.update")
    valid_message(update_call.params)
    assert "Snoozed until 2026-11-30 10:00" in texts(update_call.params["blocks"])
    snoozed = (await nudge_rows(engine, period="2026-11~s1"))[0]
    assert (snoozed.kind, snoozed.subject, snoozed.state) == ("checkin", key("U0EMP"), "pending")
    assert snoozed.due_at == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    before = len(running_app.slack.calls_to("chat.postMessage"))
    assert (await nudge_engine.dispatch(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))).sent == 0
    assert (await nudge_engine.dispatch(snoozed.due_at)).sent == 1
    assert len(running_app.slack.calls_to("chat.postMessage")) == before + 1


async def test_skip_on_leave_is_stored_and_pauses_nudges_about_them(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    post = await checkin_to_mia(running_app, engine, nudge_engine)
    running_app.clock.now = FRI_10

    await running_app.interact(
        block_actions(
            "U0MGR",
            clicked(post, "nudge_skip", option=1),
            message=as_message(post),
            channel="DU0MGR",
        )
    )

    [update_call] = await running_app.slack.async_wait_for("chat.update")
    assert "Skipped: On leave." in texts(update_call.params["blocks"])
    [skipped] = await nudge_rows(engine, kind="checkin", subject=key("U0EMP"))
    assert (skipped.state, skipped.skip_reason) == ("skipped", "on_leave")
    async with session_scope(engine) as session:
        [leave] = (await session.execute(select(Leave))).scalars()
    assert (leave.person_id, leave.starts_on) == (key("U0EMP"), date(2026, 11, 27))
    assert leave.pauses == "all"  # the manager says the report is away
    await nudge_engine.plan(FRI_10 + timedelta(hours=1))  # respected: nothing re-planned
    assert len(await nudge_rows(engine, kind="checkin", subject=key("U0EMP"))) == 1


async def test_someone_else_cannot_answer_a_nudge(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    post = await checkin_to_mia(running_app, engine, nudge_engine)

    await running_app.interact(
        block_actions(
            "U0OTH",
            clicked(post, "nudge_skip", option=0),
            message=as_message(post),
            channel="DU0OTH",
        )
    )

    [refusal] = await running_app.slack.async_wait_for("chat.postEphemeral")
    assert "meant for someone else" in refusal.params["text"]
    [row] = await nudge_rows(engine, kind="checkin", subject=key("U0EMP"))
    assert row.skip_reason is None and row.state == "sent"


async def test_an_action_due_on_saturday_is_due_tomorrow_when_friday_reminds(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    running_app.clock.now = THU_11
    await running_app.command("U0MGR", "<@U0ANN>")
    [form] = await opened_form(running_app.slack)
    await running_app.interact(
        view_submission(
            "U0MGR",
            form,
            {
                "facts": "Talked.",
                "consensus": "Agreed.",
                "action_1_text": "Send the draft",
                "action_1_owner": "employee",
                "action_1_due": "2026-12-05",  # a Saturday
            },
        )
    )
    running_app.slack.reset()

    for day in range(1, 5):  # Tue 1 to Fri 4 December, 10:00 in Shanghai
        await nudge_engine.tick(datetime(2026, 12, day, 2, 0, tzinfo=UTC))

    texts = [
        c.params["text"]
        for c in running_app.slack.calls_to("chat.postMessage")
        if "Send the draft" in c.params["text"]
    ]
    assert texts, "no reminder before the weekend"
    assert all("due today" not in text for text in texts)
    assert any("Send the draft: due tomorrow (Saturday)" in text for text in texts)


async def test_action_reminders_on_the_due_date_then_overdue_to_both(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    running_app.clock.now = THU_11
    await running_app.command("U0MGR", "<@U0EMP>")
    [form] = await opened_form(running_app.slack)
    await running_app.interact(
        view_submission(
            "U0MGR",
            form,
            {
                "facts": "Talked.",
                "consensus": "Agreed.",
                "action_1_text": "Write the plan",
                "action_1_owner": "employee",
                "action_1_due": "2026-11-30",
            },
        )
    )
    running_app.slack.reset()

    await nudge_engine.tick(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))  # Mon 10:00: due today
    [due] = [
        c
        for c in running_app.slack.calls_to("chat.postMessage")
        if "Write the plan" in c.params["text"]
    ]
    assert due.params["channel"] == "DU0EMP" and "Write the plan：今天到期" in due.params["text"]
    running_app.slack.reset()
    await nudge_engine.tick(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # Tue: overdue
    overdue = {
        c.params["channel"]: c.params["text"]
        for c in running_app.slack.calls_to("chat.postMessage")
        if "Write the plan" in c.params["text"]
    }
    assert set(overdue) == {"DU0EMP", "DU0MGR"}
    assert "Write the plan：原定 2026-11-30 完成" in overdue["DU0EMP"]  # Eli reads Chinese
    assert "Write the plan: was due 2026-11-30" in overdue["DU0MGR"]  # never "overdue since"

    mark = clicked(due, "nudge_action_done")
    await running_app.interact(
        block_actions("U0EMP", mark, message=as_message(due), channel="DU0EMP")
    )
    await running_app.slack.async_wait_for("chat.update")
    async with session_scope(engine) as session:
        action = (await session.execute(select(ActionItem))).scalar_one()
    assert action.status == "done"


ORG_CSV = (
    "slack_id,email,name,manager,timezone,locale,hr\n"
    "U0HR,hana@example.com,Hana Berg,,,en,true\n"
    "U0MGR,mia@example.com,Mia Chen,,,en,false\n"
    "U0ANN,ann@example.com,Ann Lee,U0MGR,,en,false\n"
    "U0EMP,eli@example.com,Eli Wang,U0MGR,Asia/Shanghai,zh,false\n"
    "U0OTH,otto@example.com,Otto Kern,,,en,false\n"
)


async def test_a_new_manager_inherits_the_pending_checkin(
    running_app, engine, nudge_engine, tmp_path
):
    from bot.org.importer import import_org_file

    await seed_org(engine, running_app.slack)
    await nudge_engine.plan(THU_11)
    csv = tmp_path / "org.csv"
    csv.write_text(ORG_CSV.replace("Eli Wang,U0MGR", "Eli Wang,U0OTH"), encoding="utf-8")

    result = await import_org_file(engine, csv, lookup_email=None, now=THU_11)

    [row] = await nudge_rows(engine, kind="checkin", subject=key("U0EMP"))
    assert result.nudges_moved == 1
    assert result.summary().endswith("; 1 pending nudge(s) moved to new managers")
    assert (row.recipient_id, row.state) == (key("U0OTH"), "pending")
    [ann] = await nudge_rows(engine, kind="checkin", subject=key("U0ANN"))
    assert (ann.recipient_id, ann.state) == (key("U0MGR"), "pending")  # her manager is the same
    again = await nudge_engine.plan(THU_11 + timedelta(minutes=10))
    assert again.created == 0  # Otto's check-in about Eli is the moved one


async def test_a_manager_change_cancels_a_nudge_the_new_manager_has_already(
    running_app, engine, nudge_engine
):
    from bot.engine.outbox import move_to_new_managers

    await seed_org(engine, running_app.slack)
    await nudge_engine.plan(THU_11)
    async with session_scope(engine) as session:  # Otto holds Eli's check-in
        assert await move_to_new_managers(session, {key("U0EMP"): key("U0OTH")}, THU_11) == (1, 0)
        await session.commit()
    await nudge_engine.plan(THU_11 + timedelta(minutes=10))  # and Mia, still his manager, too

    async with session_scope(engine) as session:
        assert await move_to_new_managers(session, {key("U0EMP"): key("U0MGR")}, THU_11) == (0, 1)
        await session.commit()

    rows = await nudge_rows(engine, kind="checkin", subject=key("U0EMP"))
    assert sorted((n.recipient_id, n.state) for n in rows) == [
        (key("U0MGR"), "pending"),
        (key("U0OTH"), "cancelled"),
    ]


async def test_people_removed_from_the_org_file_get_no_more_nudges(
    running_app, engine, nudge_engine, tmp_path
):
    from bot.org.importer import import_org_file

    await seed_org(engine, running_app.slack)
    await nudge_engine.plan(THU_11)
    csv = tmp_path / "org.csv"
    csv.write_text(
        "slack_id,email,name,manager,timezone,locale,hr\n"
        "U0HR,hana@example.com,Hana Berg,,,en,true\n"
        "U0MGR,mia@example.com,Mia Chen,,,en,false\n"
        "U0EMP,eli@example.com,Eli Wang,U0MGR,Asia/Shanghai,zh,false\n"
        "U0OTH,otto@example.com,Otto Kern,,,en,false\n",
        encoding="utf-8",
    )
    result = await import_org_file(
        engine, csv, lookup_email=None, now=THU_11, allow_deactivate=True
    )
    assert result.deactivated == 1  # Ann left (one of five: more than the usual tenth)

    report = await nudge_engine.plan(THU_11 + timedelta(minutes=10))
    sent = await nudge_engine.dispatch(FRI_10)

    ann = await nudge_rows(engine, about_id=key("U0ANN"))
    assert report.cancelled == len(ann) > 0 and {n.state for n in ann} == {"cancelled"}
    assert all(
        "Ann" not in c.params["text"] for c in running_app.slack.calls_to("chat.postMessage")
    )
    assert sent.sent == 2  # Mia about Eli, and Eli's heads-up


async def sent_to(app, channel, name):
    """The nudge posted to `channel` whose text names `name`."""
    [post] = [
        c
        for c in app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == channel and name in c.params["text"]
    ]
    return post


async def click(app, user_id, post, action_id, option):
    channel = post.params["channel"]
    app.slack.reset()
    await app.interact(
        block_actions(
            user_id,
            clicked(post, action_id, option=option),
            message=as_message(post),
            channel=channel,
        )
    )
    await app.slack.async_wait_for("chat.update")


async def test_employee_skip_leaves_the_managers_snoozed_checkin_alone(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    checkin = await checkin_to_mia(running_app, engine, nudge_engine)
    heads_up = await sent_to(running_app, "DU0EMP", "Mia")
    running_app.clock.now = FRI_10
    await click(running_app, "U0MGR", checkin, "nudge_snooze", 1)  # Mia: next week

    await click(running_app, "U0EMP", heads_up, "nudge_skip", 0)  # Eli: talked offline

    [snoozed] = await nudge_rows(engine, period="2026-11~s1")
    assert (snoozed.recipient_id, snoozed.state, snoozed.skip_reason) == (
        key("U0MGR"),
        "pending",
        None,
    )
    [own] = await nudge_rows(engine, kind="checkin_heads_up", subject=key("U0EMP"))
    assert (own.state, own.skip_reason) == ("skipped", "talked_offline")
    assert (await nudge_engine.dispatch(snoozed.due_at)).sent == 1  # Mia still hears of it


async def test_employee_on_leave_defers_only_their_own_nudges(running_app, engine, nudge_engine):
    await seed_org(engine, running_app.slack)
    await checkin_to_mia(running_app, engine, nudge_engine)
    heads_up = await sent_to(running_app, "DU0EMP", "Mia")
    running_app.clock.now = FRI_10

    await click(running_app, "U0EMP", heads_up, "nudge_skip", 1)  # Eli: on leave (14 days)

    async with session_scope(engine) as session:
        [leave] = (await session.execute(select(Leave))).scalars()
    assert (leave.person_id, leave.pauses) == (key("U0EMP"), "own_messages")
    assert (leave.starts_on, leave.ends_on) == (date(2026, 11, 27), date(2026, 12, 10))
    # December: Mia's check-in about Eli is due on its Monday as if Eli had said nothing...
    mon_7_dec = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    await nudge_engine.plan(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    [mias] = await nudge_rows(engine, kind="checkin", subject=key("U0EMP"), period="2026-12")
    assert (mias.recipient_id, mias.due_at) == (key("U0MGR"), mon_7_dec)
    running_app.slack.reset()
    report = await nudge_engine.dispatch(mon_7_dec)
    sent = {c.params["channel"] for c in running_app.slack.calls_to("chat.postMessage")}
    assert "DU0MGR" in sent and "DU0EMP" not in sent
    # ...and Eli's own heads-up waits until his leave is over.
    [eli] = await nudge_rows(
        engine, kind="checkin_heads_up", subject=key("U0EMP"), period="2026-12"
    )
    assert report.deferred >= 1 and eli.state == "pending"
    assert eli.due_at.date() == date(2026, 12, 11)


async def test_an_employees_skip_never_marks_the_pair_skipped_for_hr(
    running_app, engine, nudge_engine, policy
):
    from bot.org.leave import add_leave
    from bot.records.coverage import coverage

    await seed_org(engine, running_app.slack)
    await nudge_engine.plan(THU_11)
    # Mia is away on Friday (recorded after planning): her check-in waits, Eli's heads-up goes
    await add_leave(
        engine,
        person_id=key("U0MGR"),
        starts_on=date(2026, 11, 27),
        ends_on=date(2026, 11, 27),
        now=THU_11,
    )
    await nudge_engine.dispatch(FRI_10)
    heads_up = await sent_to(running_app, "DU0EMP", "Mia")
    running_app.clock.now = FRI_10

    await click(running_app, "U0EMP", heads_up, "nudge_skip", 0)  # Eli: talked offline

    [mias] = await nudge_rows(engine, kind="checkin", subject=key("U0EMP"))
    assert (mias.state, mias.skip_reason) == ("pending", None)
    rows = {r.employee_id: r.status for r in await coverage(engine, policy=policy, now=FRI_10)}
    assert rows[key("U0EMP")] != "skipped"


async def test_a_manager_skipping_the_snoozed_checkin_shows_the_pair_skipped(
    running_app, engine, nudge_engine, policy
):
    from bot.records.coverage import coverage

    await seed_org(engine, running_app.slack)
    checkin = await checkin_to_mia(running_app, engine, nudge_engine)
    running_app.clock.now = FRI_10
    await click(running_app, "U0MGR", checkin, "nudge_snooze", 0)  # Mia: tomorrow
    [snoozed] = await nudge_rows(engine, period="2026-11~s1")
    running_app.slack.reset()
    await nudge_engine.dispatch(snoozed.due_at)
    again = await sent_to(running_app, "DU0MGR", "Eli Wang")

    await click(running_app, "U0MGR", again, "nudge_skip", 0)  # talked offline

    rows = {r.employee_id: r.status for r in await coverage(engine, policy=policy, now=FRI_10)}
    assert rows[key("U0EMP")] == "skipped"


async def test_a_manager_on_leave_from_their_own_action_reminder_pauses_only_their_messages(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    running_app.clock.now = THU_11
    await running_app.command("U0MGR", "<@U0EMP>")
    [opened] = await running_app.slack.async_wait_for("views.open")
    answers = {
        "facts": "Talked.",
        "consensus": "Agreed.",
        "action_1_text": "Book the training",
        "action_1_owner": "manager",
        "action_1_due": "2026-11-30",
    }
    await running_app.interact(view_submission("U0MGR", opened_view(opened.params), answers))
    running_app.slack.reset()
    monday = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    await nudge_engine.tick(monday)
    due = await sent_to(running_app, "DU0MGR", "Book the training")
    running_app.clock.now = monday

    await click(running_app, "U0MGR", due, "nudge_skip", 1)  # on leave

    async with session_scope(engine) as session:
        [leave] = (await session.execute(select(Leave))).scalars()
    assert (leave.person_id, leave.pauses) == (key("U0MGR"), "own_messages")
