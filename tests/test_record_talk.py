"""A manager logs a talk with `/checkin`; the record is stored and both people are told."""

from __future__ import annotations

from sqlalchemy import func, select, text

from storage.db import session_scope
from storage.models import ActionItem, Talk
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import block_actions, key, opened_form, seed_org, view_submission

GOOD = {
    "facts": "Shipped the billing migration two weeks early; 3 customer escalations closed.",
    "consensus": "Eli leads the Q1 reliability work.",
    "action_1_text": "Draft the reliability plan",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}


async def open_record_form(app, manager="U0MGR", target="<@U0EMP|eli>"):
    response = await app.command(manager, target)
    assert response.status_code == 200
    [form] = await opened_form(app.slack)
    return form


async def count(engine, model) -> int:
    async with session_scope(engine) as session:
        return (await session.exec(select(func.count()).select_from(model))).scalar_one()


async def test_manager_logs_checkin_and_employee_is_told(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = valid_view(await open_record_form(running_app))
    assert "Eli Wang" in texts(view["blocks"])
    assert "hardest part" in texts(view["blocks"])  # the kind's open questions show as hints

    response = await running_app.interact(view_submission("U0MGR", view, GOOD))

    assert response.status_code == 200
    assert response.text == ""  # an empty ack closes the modal
    async with session_scope(engine) as session:
        talk = (await session.exec(select(Talk))).scalar_one()
        action = (await session.exec(select(ActionItem))).scalar_one()
    assert (talk.kind, talk.family, talk.manager_id, talk.employee_id) == (
        "checkin",
        "dialogue",
        key("U0MGR"),
        key("U0EMP"),
    )
    assert talk.held_on.isoformat() == "2026-11-26" and talk.duration_minutes == 15
    assert (action.owner_id, action.due_on.isoformat(), action.status) == (
        key("U0EMP"),
        "2026-12-10",
        "open",
    )
    [to_employee] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP"
    )
    valid_message(to_employee.params)
    employee_text = texts(to_employee.params["blocks"])
    assert "事实" in employee_text and "Shipped the billing migration" in employee_text
    assert "Draft the reliability plan" in employee_text
    assert "确认" in employee_text  # Eli's Slack is in Chinese: the Acknowledge button too
    [to_manager] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0MGR"
    )
    valid_message(to_manager.params)
    assert "Saved your Check-in with *Eli Wang*" in texts(to_manager.params["blocks"])


async def test_employee_acknowledges_record_once_and_manager_hears_of_it(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    await running_app.interact(view_submission("U0MGR", view, GOOD))
    [dm] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP"
    )
    await running_app.notices_sent()  # a person clicks after the post is stored as sent
    message = {"ts": dm.response["ts"], "text": dm.params["text"], "blocks": dm.params["blocks"]}
    button = next(
        b["accessory"]
        for b in dm.params["blocks"]
        if b.get("accessory", {}).get("type") == "button"
    )
    click = block_actions("U0EMP", {**button, "type": "button"}, message=message, channel="DU0EMP")

    for _ in range(2):  # a double click
        assert (await running_app.interact(click)).status_code == 200
    updates = await running_app.slack.async_wait_for("chat.update", count=2)

    valid_message(updates[0].params)
    assert "✅ 已于 2026-11-26 确认" in texts(updates[0].params["blocks"])
    async with session_scope(engine) as session:
        talk = (await session.exec(select(Talk))).scalar_one()
    assert talk.acknowledged_at == running_app.clock.now
    await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: "acknowledged" in c.params["text"]
    )
    await running_app.notices_sent()
    notices = [
        c
        for c in running_app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0MGR" and "acknowledged" in c.params["text"]
    ]
    assert len(notices) == 1


async def test_someone_else_cannot_acknowledge_a_record(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    await running_app.interact(view_submission("U0MGR", view, GOOD))
    await running_app.slack.async_wait_for("chat.postMessage", count=2)
    click = block_actions(
        "U0OTH",
        {"type": "button", "action_id": "acknowledge_talk", "value": "1"},
        message={"ts": "1.2", "text": "x", "blocks": []},
        channel="DU0OTH",
    )
    await running_app.interact(click)
    [refusal] = await running_app.slack.async_wait_for("chat.postEphemeral")
    assert "Only the person the record is about" in refusal.params["text"]
    async with session_scope(engine) as session:
        assert (await session.exec(select(Talk))).scalar_one().acknowledged_at is None


async def test_problems_are_shown_on_the_exact_field_and_nothing_is_written(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    bad = {
        **GOOD,
        "facts": "   ",
        "held_on": "2026-11-27",
        "action_1_due": "2026-11-01",
        "action_1_owner": None,
    }

    response = await running_app.interact(view_submission("U0MGR", view, bad))

    body = response.json()
    assert body["response_action"] == "errors"
    assert body["errors"] == {
        "facts": "Write down at least one fact.",
        "held_on": "The date held can't be in the future.",
        "action_1_due": "The due date can't be in the past.",
        "action_1_owner": "Choose who owns this action.",
    }
    assert await count(engine, Talk) == 0 and await count(engine, ActionItem) == 0


async def test_errors_speak_the_managers_language(running_app, engine):
    await seed_org(engine, running_app.slack)
    running_app.slack.add_user("U0MGR", name="Mia Chen", email="mia@example.com", locale="zh-CN")
    view = await open_record_form(running_app)
    assert "记录" in view["title"]["text"]

    response = await running_app.interact(view_submission("U0MGR", view, {**GOOD, "consensus": ""}))

    assert response.json()["errors"] == {"consensus": "请写下你们达成的共识，哪怕很小。"}


async def test_text_over_slacks_limit_is_refused(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    response = await running_app.interact(
        view_submission("U0MGR", view, {**GOOD, "facts": "x" * 3001, "action_1_text": "y" * 501})
    )
    errors = response.json()["errors"]
    assert set(errors) == {"facts", "action_1_text"}
    assert "3000" in errors["facts"] and "500" in errors["action_1_text"]


async def test_retries_and_double_submits_create_one_record(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    payload = view_submission("U0MGR", view, GOOD)

    first = await running_app.interact(payload)
    again = await running_app.interact(payload)

    assert first.status_code == again.status_code == 200
    assert first.text == again.text == ""
    assert await count(engine, Talk) == 1 and await count(engine, ActionItem) == 1
    await running_app.slack.async_wait_for("chat.postMessage", count=2)
    assert len(running_app.slack.calls_to("chat.postMessage")) == 2  # told once, not twice


async def test_database_failure_keeps_the_form_open_and_loses_nothing(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    payload = view_submission("U0MGR", view, GOOD)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE action_item RENAME TO action_item_away"))

    failed = await running_app.interact(payload)

    assert failed.json() == {
        "response_action": "errors",
        "errors": {
            "facts": "I couldn't save this just now; nothing was lost. Please press Save again."
        },
    }
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE action_item_away RENAME TO action_item"))
    assert await count(engine, Talk) == 0  # the half-done talk was rolled back
    saved = await running_app.interact(payload)  # the modal still holds what was typed
    assert saved.text == ""
    assert await count(engine, Talk) == 1 and await count(engine, ActionItem) == 1


async def test_earlier_actions_can_be_marked_done_in_the_next_talk(running_app, engine):
    await seed_org(engine, running_app.slack)
    first = await open_record_form(running_app)
    await running_app.interact(view_submission("U0MGR", first, GOOD))
    await running_app.slack.async_wait_for("views.publish", count=2)  # the first talk's news
    running_app.slack.reset()

    second = valid_view(await open_record_form(running_app))
    completed = next(b for b in second["blocks"] if b.get("block_id") == "completed")
    [option] = completed["element"]["options"]
    assert option["text"]["text"] == "Draft the reliability plan"
    await running_app.interact(
        view_submission(
            "U0MGR",
            second,
            {
                **GOOD,
                "action_1_text": None,
                "action_1_owner": None,
                "action_1_due": None,
                "completed": [option["value"]],
            },
        )
    )

    async with session_scope(engine) as session:
        item = (await session.exec(select(ActionItem))).scalar_one()
    assert item.status == "done" and item.completed_in_talk_id == 2
    [dm] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP" and "~" in str(c.params)
    )
    assert "~Draft the reliability plan~" in texts(dm.params["blocks"])


async def test_a_rate_limited_dm_is_retried_after_retry_after(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)
    running_app.slack.fail_next("chat.postMessage", status=429, retry_after=1)

    await running_app.interact(view_submission("U0MGR", view, GOOD))

    posts = await running_app.slack.async_wait_for("chat.postMessage", count=3, timeout=10)
    await running_app.notices_sent()
    [limited] = [p for p in running_app.slack.calls_to("chat.postMessage") if p.status == 429]
    again = [
        p
        for p in running_app.slack.calls_to("chat.postMessage")
        if p.status == 200 and p.params["channel"] == limited.params["channel"]
    ]
    assert len(posts) == 3 and len(again) == 1  # retried once, not doubled
    assert again[0].at - limited.at >= 1.0  # waited as Slack asked


async def test_each_users_dm_channel_is_opened_once(running_app, engine):
    await seed_org(engine, running_app.slack)
    for facts in ("First talk.", "Second talk."):
        view = await open_record_form(running_app)
        running_app.slack.reset()
        await running_app.interact(view_submission("U0MGR", view, {**GOOD, "facts": facts}))
        await running_app.slack.async_wait_for("views.publish", count=2)
        await running_app.notices_sent()
    # the second talk's two DMs reused the channels opened for the first
    assert running_app.slack.calls_to("conversations.open") == []
    assert len(running_app.slack.calls_to("chat.postMessage")) == 2
