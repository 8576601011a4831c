"""A slow database never yields a second record: with another connection holding a write lock
longer than Slack waits, a submission is answered within Slack's time with "not saved yet"
(everything typed stays in the form), the save goes on, and pressing Save again (even after
an edit) is the same record, with the newer text and its notices sent once."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date

import pytest
from sqlalchemy import func, select, text

from storage.db import make_engine, session_scope
from storage.models import Cycle, Goal, Review, SelfAssessment, Talk
from tests.blockkit import texts, valid_view
from tests.factories import T0, block_actions, key, opened_form, seed_org, view_submission

RECORD = {
    "facts": "Shipped the billing migration two weeks early.",
    "consensus": "Eli leads the Q1 reliability work.",
}
NOT_SUBMITTED_ZH = "尚未保存：数据库此刻有点慢。请再按一次“提交”，你填写的内容都还在。"
NOT_SENT_ZH = "尚未保存：数据库此刻有点慢。请再按一次“发送”，你填写的内容都还在。"
NOT_SAVED = (
    "Not saved yet: the database is slow just now. Press Save again; everything you typed"
    " is still here."
)
Q3 = dict(
    name="2026-Q3",
    starts_on=date(2026, 7, 1),
    ends_on=date(2026, 9, 30),
    review_from=date(2026, 10, 1),
    review_to=date(2026, 12, 31),
)


@asynccontextmanager
async def write_lock(database_url: str, table: str) -> AsyncIterator[None]:
    """Another connection holding a write lock until the block ends: SQLite's, on the whole
    database (BEGIN IMMEDIATE); PostgreSQL's, on `table` (which then cannot even be read)."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url.split("///", 1)[1], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await conn.rollback()
    finally:
        await engine.dispose()


async def count(engine, model) -> int:
    async with session_scope(engine) as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def opened(app, user_id: str, command: str) -> dict:
    app.slack.reset()
    await app.command(user_id, command)
    [form] = await opened_form(app.slack)
    return valid_view(form)


def dms_to(app, user_id: str) -> list:
    calls = app.slack.calls_to("chat.postMessage")
    return [c for c in calls if c.params["channel"] == f"D{user_id}"]


async def test_a_locked_database_keeps_the_form_and_the_second_press_is_the_same_talk(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0MGR", "<@U0EMP>")

    async with write_lock(database_url, "talk"):
        first = await running_app.interact(view_submission("U0MGR", view, RECORD))

    assert first.status_code == 200
    assert first.json() == {"response_action": "errors", "errors": {"facts": NOT_SAVED}}
    # The save went on after the answer: once the lock is gone it lands, and Eli hears of it.
    [record] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP", timeout=10
    )
    edited = {**RECORD, "facts": RECORD["facts"] + "!"}  # one character changed

    again = await running_app.interact(view_submission("U0MGR", view, edited))

    assert again.status_code == 200 and again.text == ""  # saved: the modal closes
    async with session_scope(engine) as session:
        [talk] = (await session.execute(select(Talk))).scalars()
    assert talk.facts == edited["facts"]
    await running_app.notices_sent()
    assert len(dms_to(running_app, "U0EMP")) == len(dms_to(running_app, "U0MGR")) == 1
    # Eli's record, sent before the second press, now shows what was saved in the end.
    [redrawn] = await running_app.slack.async_wait_for(
        "chat.update", lambda c: c.params["channel"] == "DU0EMP"
    )
    assert redrawn.params["ts"] != "" and edited["facts"] in texts(redrawn.params["blocks"])
    assert RECORD["facts"] + "\n" not in texts(redrawn.params["blocks"])
    assert edited["facts"] not in texts(record.params["blocks"])


async def test_pressing_save_again_while_the_database_is_still_locked_saves_the_newer_text_once(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0MGR", "<@U0EMP>")
    edited = {**RECORD, "consensus": RECORD["consensus"] + " By March."}
    running_app.slack.reset()

    async with write_lock(database_url, "talk"):
        first = await running_app.interact(view_submission("U0MGR", view, RECORD))
        second = await running_app.interact(view_submission("U0MGR", view, edited))

    assert (
        first.json()
        == second.json()
        == {
            "response_action": "errors",
            "errors": {"facts": NOT_SAVED},
        }
    )
    # both saves finish once the lock is gone (each refreshes Eli's and Mia's Home)
    await running_app.slack.async_wait_for("views.publish", count=4, timeout=10)
    async with session_scope(engine) as session:
        [talk] = (await session.execute(select(Talk))).scalars()
    assert talk.consensus == edited["consensus"]  # the later press wins
    await running_app.notices_sent()
    [record] = dms_to(running_app, "U0EMP")
    shown = [record.params] + [
        c.params
        for c in running_app.slack.calls_to("chat.update")
        if c.params["channel"] == "DU0EMP"
    ]
    assert edited["consensus"] in texts(shown[-1]["blocks"])  # what Eli sees in the end
    assert len(dms_to(running_app, "U0MGR")) == 1


# -- every other form that saves before its answer -----------------------------------------------
async def seed_cycle(app, engine) -> None:
    await seed_org(engine, app.slack)
    async with session_scope(engine) as session:
        session.add(Cycle(created_at=T0, **Q3))
        await session.commit()


async def test_a_goal_under_a_lock_is_not_saved_yet_then_saved_once(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0MGR", "goal <@U0EMP>")
    goal = {"goal_title": "Cut latency", "goal_measure": "p95 < 300 ms", "goal_due": "2027-03-31"}

    async with write_lock(database_url, "goal"):
        first = await running_app.interact(view_submission("U0MGR", view, goal))

    assert first.json() == {"response_action": "errors", "errors": {"goal_title": NOT_SAVED}}
    await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP", timeout=10
    )
    again = await running_app.interact(view_submission("U0MGR", view, goal))
    assert again.text == ""
    assert await count(engine, Goal) == 1


async def test_a_review_under_a_lock_is_not_saved_yet_then_saved_once(
    running_app, engine, database_url
):
    await seed_cycle(running_app, engine)
    view = await opened(running_app, "U0MGR", "review <@U0EMP>")
    answers = {"review_rating": "4", "review_evidence": "Shipped early."}

    async with write_lock(database_url, "talk"):
        first = await running_app.interact(view_submission("U0MGR", view, answers))

    assert first.json() == {"response_action": "errors", "errors": {"review_rating": NOT_SAVED}}
    await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP", timeout=10
    )
    again = await running_app.interact(view_submission("U0MGR", view, answers))
    assert again.text == ""
    assert await count(engine, Review) == await count(engine, Talk) == 1


async def test_a_self_assessment_under_a_lock_is_not_submitted_yet_in_the_employees_language(
    running_app, engine, database_url
):
    await seed_cycle(running_app, engine)
    view = await opened(running_app, "U0EMP", "self")
    answers = {"self_rating": "4", "self_proudest": "The migration", "self_redo": "Plan earlier"}

    async with write_lock(database_url, "self_assessment"):
        first = await running_app.interact(view_submission("U0EMP", view, answers))

    assert first.json() == {
        "response_action": "errors",
        "errors": {
            "self_rating": "尚未保存：数据库此刻有点慢。请再按一次“提交”，你填写的内容都还在。"
        },
    }
    await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0MGR", timeout=10
    )
    again = await running_app.interact(view_submission("U0EMP", view, answers))
    assert again.json()["response_action"] == "update"
    assert await count(engine, SelfAssessment) == 1
    await running_app.notices_sent()
    assert len(dms_to(running_app, "U0MGR")) == 1


async def test_a_self_assessment_draft_saved_under_a_lock_is_saved_and_shown_once_it_can_be(
    running_app, engine, database_url
):
    await seed_cycle(running_app, engine)
    view = await opened(running_app, "U0EMP", "self")
    running_app.slack.reset()
    save = next(b for b in view["blocks"] if b.get("block_id") == "self_save_draft")["elements"][0]
    typed = view_submission("U0EMP", view, {"self_proudest": "Half written"})["view"]

    async with write_lock(database_url, "self_assessment"):
        clicked = await running_app.interact(block_actions("U0EMP", save, view=typed))
        assert clicked.status_code == 200  # a button is answered at once, whatever the database

    [update] = await running_app.slack.async_wait_for("views.update", timeout=10)
    assert "📝 草稿已于 2026-11-26 11:00 保存" in texts(update.params["view"]["blocks"])
    async with session_scope(engine) as session:
        [row] = (await session.execute(select(SelfAssessment))).scalars()
    assert (row.proudest, row.submitted_at) == ("Half written", None)


async def test_a_disagreement_under_a_lock_is_not_sent_yet_then_sent_once(
    running_app, engine, database_url
):
    await seed_cycle(running_app, engine)
    view = await opened(running_app, "U0MGR", "review <@U0EMP>")
    await running_app.interact(
        view_submission("U0MGR", view, {"review_rating": "3", "review_evidence": "Facts."})
    )
    await running_app.notices_sent()
    running_app.slack.reset()
    disagree = {"type": "button", "action_id": "review_disagree", "value": "1"}
    await running_app.interact(block_actions("U0EMP", disagree))
    [modal] = await opened_form(running_app.slack)
    comment = {"review_comment": "My rating should be 4."}

    async with write_lock(database_url, "review"):
        first = await running_app.interact(view_submission("U0EMP", modal, comment))

    assert first.json() == {
        "response_action": "errors",
        "errors": {
            "review_comment": "尚未保存：数据库此刻有点慢。请再按一次“发送”，你填写的内容都还在。"
        },
    }
    await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0MGR", timeout=10
    )
    again = await running_app.interact(view_submission("U0EMP", modal, comment))
    assert again.text == ""
    async with session_scope(engine) as session:
        [review] = (await session.execute(select(Review))).scalars()
    assert review.disagreement == comment["review_comment"]
    await running_app.notices_sent()
    told = [c for c in dms_to(running_app, "U0MGR") if "disagrees" in c.params["text"]]
    assert len(told) == 1


@pytest.mark.postgres_only  # SQLite in WAL mode never blocks a read: nothing to wait for
async def test_the_picker_under_a_lock_shows_a_loading_view_then_the_form(
    running_app, engine, database_url
):
    await seed_org(engine, running_app.slack)
    picker = await opened(running_app, "U0MGR", "")
    running_app.slack.reset()

    async with write_lock(database_url, "action_item"):
        picked = await running_app.interact(
            view_submission("U0MGR", picker, {"employee": key("U0EMP")})
        )

    body = picked.json()
    assert body["response_action"] == "update"
    assert texts(body["view"]["blocks"]) == "Loading…"
    [update] = await running_app.slack.async_wait_for("views.update", timeout=10)
    form = valid_view(update.params["view"])
    assert form["callback_id"] == "record_talk" and "Eli Wang" in texts(form["blocks"])
    assert update.params["view_id"] == picker["id"]
