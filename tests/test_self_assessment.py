"""The self-assessment: the nudge's button opens it, drafts are kept and reopened, submitting
tells the manager and ends the reminders; refused once the review is recorded; the server
checks the scale and the lengths."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import event, select

from bot.review import self_assessment
from storage import queries
from storage.db import session_scope
from storage.models import Cycle, Nudge, Review, SelfAssessment, Talk
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import (
    T0,
    block_actions,
    fill,
    key,
    opened_form,
    opened_view,
    seed_org,
    view_submission,
)

FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 in Shanghai
ANSWERS = {
    "self_rating": "4",
    "self_proudest": "Shipped the checkout rewrite; mentored two new hires.",
    "self_redo": "Start the migration earlier; write the runbook first.",
    "self_blockers": "Waiting on the payments team.",
    "self_support": "An earlier say in quarterly planning.",
}


async def add_cycle(engine) -> Cycle:
    """The cycle under review: window 2026-12-01..14 (the clock is at 2026-11-26)."""
    async with session_scope(engine) as session:
        cycle = Cycle(
            name="2026-Q4",
            starts_on=date(2026, 9, 1),
            ends_on=date(2026, 11, 30),
            review_from=date(2026, 12, 1),
            review_to=date(2026, 12, 14),
            created_at=T0,
        )
        session.add(cycle)
        await session.commit()
        return cycle


async def rows(engine, model, **where) -> list:
    async with session_scope(engine) as session:
        query = select(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return list((await session.execute(query)).scalars())


async def open_by_command(app, user="U0EMP") -> dict:
    before = len(app.slack.calls_to("views.open"))
    assert (await app.command(user, "self")).status_code == 200
    calls = await app.slack.async_wait_for("views.open", count=before + 1)
    return valid_view(opened_view(calls[-1]))


def with_state(view: dict, answers: dict) -> dict:
    return {**view, "state": {"values": fill(view, answers)}}


def element(blocks: list[dict], action_id: str) -> dict:
    return next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


async def self_nudge_to_eli(app, nudge_engine) -> dict:
    await nudge_engine.plan(app.clock.now)
    await nudge_engine.dispatch(FRI_10)
    [post] = [
        c
        for c in app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0EMP" and "自评" in c.params["text"]
    ]
    valid_message(post.params)
    return post


async def test_the_nudges_button_opens_the_modal_on_the_policys_scale_in_chinese(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    post = await self_nudge_to_eli(running_app, nudge_engine)
    button = element(post.params["blocks"], "self_open")
    assert button["text"]["text"] == "打开我的自评"

    message = {"ts": "1700000000.000300", "text": post.params["text"]}
    message["blocks"] = post.params["blocks"]
    await running_app.interact(block_actions("U0EMP", button, message=message, channel="DU0EMP"))

    [view] = await opened_form(running_app.slack)
    view = valid_view(view)
    assert view["callback_id"] == "self_assessment"
    assert view["private_metadata"] == f'{{"c": {cycle.id}}}'
    options = block(view, "self_rating")["element"]["options"]
    assert [o["value"] for o in options] == ["1", "2", "3", "4", "5"]
    assert options[3]["text"]["text"] == "4 · 超出预期"
    shown = texts(view["blocks"])
    assert "2026-Q4" in shown and "最让你自豪的两件事" in shown and "保存草稿" in shown
    assert view["submit"]["text"] == "提交"


async def test_a_draft_is_saved_in_place_and_the_modal_reopens_with_its_values(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    view = await open_by_command(running_app, "U0ANN")
    running_app.slack.reset()
    draft = {"self_rating": "3", "self_proudest": "Half written", "self_other": "More later"}
    save = element(view["blocks"], "self_save_draft")

    await running_app.interact(block_actions("U0ANN", save, view=with_state(view, draft)))

    [update] = await running_app.slack.async_wait_for("views.update")
    assert update.params["view_id"] == view["id"]
    redrawn = valid_view(update.params["view"])
    assert "Draft saved 2026-11-26 11:00" in texts(redrawn["blocks"])
    [row] = await rows(engine, SelfAssessment, employee_id=key("U0ANN"))
    assert (row.rating, row.proudest, row.other, row.redo) == (3, "Half written", "More later", "")
    assert row.submitted_at is None
    assert running_app.slack.calls_to("chat.postMessage") == []  # a draft goes to nobody

    reopened = await open_by_command(running_app, "U0ANN")
    assert block(reopened, "self_rating")["element"]["initial_option"]["value"] == "3"
    assert block(reopened, "self_proudest")["element"]["initial_value"] == "Half written"
    assert block(reopened, "self_other")["element"]["initial_value"] == "More later"
    assert "initial_value" not in block(reopened, "self_redo")["element"]
    assert "Draft saved 2026-11-26 11:00" in texts(reopened["blocks"])


async def test_submitting_tells_the_manager_in_their_language_and_cancels_the_reminders(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    await nudge_engine.plan(running_app.clock.now)
    mine = {"recipient_id": key("U0EMP"), "subject": f"cycle:{cycle.id}"}
    planned = {n.kind: n.state for n in await rows(engine, Nudge, **mine)}
    assert planned == {"self_assessment": "pending", "self_assessment_reminder": "pending"}
    view = await open_by_command(running_app, "U0EMP")

    response = await running_app.interact(view_submission("U0EMP", view, ANSWERS))

    answer = response.json()
    assert answer["response_action"] == "update"
    assert "已通知 Mia Chen" in texts(valid_view(answer["view"])["blocks"])
    [row] = await rows(engine, SelfAssessment, employee_id=key("U0EMP"))
    assert (row.rating, row.submitted_at, row.cycle_id) == (4, running_app.clock.now, cycle.id)
    [dm] = await running_app.slack.async_wait_for("chat.postMessage")
    valid_message(dm.params)
    assert dm.params["channel"] == "DU0MGR"
    assert dm.params["text"] == "Eli Wang submitted their 2026-Q4 self-assessment"
    body = texts(dm.params["blocks"])
    assert "*Self rating:* 4 · Exceeds expectations" in body
    assert "Shipped the checkout rewrite" in body and "Waiting on the payments team." in body
    after = {n.kind: (n.state, n.last_error) for n in await rows(engine, Nudge, **mine)}
    assert after == {
        "self_assessment": ("cancelled", "self-assessment submitted"),
        "self_assessment_reminder": ("cancelled", "self-assessment submitted"),
    }
    assert {
        n.state
        for n in await rows(engine, Nudge, recipient_id=key("U0ANN"), subject=mine["subject"])
    } == {"pending"}

    again = await running_app.interact(view_submission("U0EMP", view, ANSWERS))  # a double click

    assert "修改已保存" in texts(again.json()["view"]["blocks"])
    assert len(running_app.slack.calls_to("chat.postMessage")) == 1  # Mia is told once


async def test_once_the_review_is_recorded_the_self_assessment_is_refused_and_unchanged(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    view = await open_by_command(running_app, "U0ANN")
    save = element(view["blocks"], "self_save_draft")
    await running_app.interact(
        block_actions("U0ANN", save, view=with_state(view, {"self_proudest": "Before"}))
    )
    await running_app.slack.async_wait_for("views.update")
    await add_review(engine, cycle, "U0ANN")

    late = await running_app.interact(view_submission("U0ANN", view, ANSWERS))
    await running_app.command("U0ANN", "self")
    await running_app.interact(
        block_actions("U0ANN", save, view=with_state(view, {"self_proudest": "After"}))
    )

    assert late.json() == {
        "response_action": "errors",
        "errors": {
            "self_rating": "Your 2026-Q4 review is already recorded, so your self-assessment"
            " can no longer be changed."
        },
    }
    # the command's modal (opened at once) and the second draft: both refused
    [_, opened] = await running_app.slack.async_wait_for("views.open", count=2)
    updates = await running_app.slack.async_wait_for("views.update", count=2)
    for shown in (opened.params["view"], updates[1].params["view"]):
        refused = valid_view(shown)
        assert "already recorded" in texts(refused["blocks"]) and "submit" not in refused
    [row] = await rows(engine, SelfAssessment, employee_id=key("U0ANN"))
    assert (row.proudest, row.rating, row.submitted_at) == ("Before", None, None)
    assert running_app.slack.calls_to("chat.postMessage") == []


async def add_review(engine, cycle: Cycle, slack_id: str) -> None:
    """A recorded review of someone of `seed_org`'s (by Slack id) in `cycle`."""
    employee_id = key(slack_id)
    async with session_scope(engine) as session:
        talk = Talk(
            kind="review",
            family="review",
            manager_id=key("U0MGR"),
            employee_id=employee_id,
            logged_by=key("U0MGR"),
            held_on=date(2026, 11, 26),
            duration_minutes=60,
            facts="Reviewed.",
            consensus="Agreed.",
            submission_key=f"review-{employee_id}",
            created_at=T0,
        )
        session.add(talk)
        await session.flush()
        session.add(
            Review(
                cycle_id=cycle.id,
                talk_id=talk.id,
                employee_id=employee_id,
                manager_id=key("U0MGR"),
                rating=3,
                evidence="Evidence.",
                created_at=T0,
                updated_at=T0,
            )
        )
        await session.commit()


async def test_a_forged_rating_off_the_scale_is_refused_on_its_field_and_nothing_is_written(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    view = await open_by_command(running_app, "U0ANN")
    payload = view_submission("U0ANN", view, ANSWERS)
    forged = {"text": {"type": "plain_text", "text": "9"}, "value": "9"}
    payload["view"]["state"]["values"]["self_rating"]["value"]["selected_option"] = forged

    response = await running_app.interact(payload)

    assert response.json() == {
        "response_action": "errors",
        "errors": {"self_rating": "Choose a rating from 1 to 5."},
    }
    assert await rows(engine, SelfAssessment) == []
    assert running_app.slack.calls_to("chat.postMessage") == []


async def test_texts_over_3000_characters_and_missing_answers_land_on_their_own_fields(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    view = await open_by_command(running_app, "U0EMP")
    running_app.slack.reset()
    too_long = {**ANSWERS, "self_support": "x" * 3001, "self_redo": "  ", "self_rating": None}

    submitted = await running_app.interact(view_submission("U0EMP", view, too_long))
    await running_app.interact(
        block_actions(
            "U0EMP",
            element(view["blocks"], "self_save_draft"),
            view=with_state(view, {"self_blockers": "y" * 3001}),
        )
    )

    assert submitted.json()["errors"] == {
        "self_support": "内容超过 3000 个字符，请精简。",
        "self_redo": "提交之前请写下想重新做一遍的事。",
        "self_rating": "提交之前请选择评分（保存草稿时可以不选）。",
    }
    [update] = await running_app.slack.async_wait_for("views.update")
    redrawn = valid_view(update.params["view"])
    at = [b.get("block_id") for b in redrawn["blocks"]].index("self_blockers")
    assert texts([redrawn["blocks"][at + 1]]) == "⚠️ 内容超过 3000 个字符，请精简。"
    assert "尚未保存" in texts(redrawn["blocks"])
    assert await rows(engine, SelfAssessment) == []


async def test_checkin_self_without_any_cycle_explains_and_opens_no_form(running_app, engine):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0ANN", "self")
    [ann] = await opened_form(running_app.slack)
    running_app.slack.reset()
    await running_app.command("U0EMP", "self")
    [eli] = await opened_form(running_app.slack)

    assert texts(ann["blocks"]).startswith("There is no appraisal cycle to look back on yet.")
    assert texts(eli["blocks"]).startswith("目前还没有可以回顾的考核周期")
    assert "submit" not in ann and "submit" not in eli  # the loading modal says why, no form


async def test_self_assessments_of_and_submitted_read_the_stored_assessments_in_one_query(
    engine, slack, policy, clock
):
    await seed_org(engine, slack)
    cycle = await add_cycle(engine)
    for employee, submit in (("U0EMP", True), ("U0ANN", False)):
        await self_assessment.save(
            engine,
            employee_id=key(employee),
            cycle_id=cycle.id,
            rating="2",
            proudest="P",
            redo="R",
            submit=submit,
            policy=policy,
            now=clock.now,
        )
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    async with session_scope(engine) as session:
        eli, ann, otto = key("U0EMP"), key("U0ANN"), key("U0OTH")
        found = await queries.self_assessments_of(session, cycle.id, [eli, ann, otto])
        assert len(statements) == 1
        assert await queries.self_assessment_submitted(session, cycle.id, eli) is True
        assert await queries.self_assessment_submitted(session, cycle.id, ann) is False
        assert await queries.self_assessment_submitted(session, cycle.id, otto) is False

    assert set(found) == {eli, ann}
    assert found[eli].submitted_at == clock.now and found[ann].submitted_at is None
    assert found[ann].rating == 2


async def test_a_self_assessment_submitted_before_its_nudge_was_planned_silences_the_nudge(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    cycle = await add_cycle(engine)
    view = await open_by_command(running_app, "U0EMP")
    await running_app.interact(view_submission("U0EMP", view, ANSWERS))  # before any planning
    await running_app.slack.async_wait_for("chat.postMessage")  # Mia is told

    await nudge_engine.plan(running_app.clock.now)
    report = await nudge_engine.dispatch(FRI_10)

    mine = {
        n.kind: (n.state, n.last_error)
        for n in await rows(engine, Nudge, recipient_id=key("U0EMP"), subject=f"cycle:{cycle.id}")
    }
    assert mine["self_assessment"] == ("cancelled", "the self-assessment was submitted")
    assert report.sent >= 1  # Ann's request still went out
    assert not any(
        "自评" in c.params["text"]
        for c in running_app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0EMP"
    )
