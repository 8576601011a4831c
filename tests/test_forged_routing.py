"""Forged routing data never redirects output: a message is only ever updated where the outbox
says it was sent to the person acting, whatever channel, ts or id a payload names; an id
naming someone else's record is refused politely and changes nothing."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime

from sqlalchemy import select

from storage.db import session_scope
from storage.models import ActionItem, Cycle, Nudge, Review
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

Q3 = dict(
    name="2026-Q3",
    starts_on=date(2026, 7, 1),
    ends_on=date(2026, 9, 30),
    review_from=date(2026, 10, 1),
    review_to=date(2026, 12, 31),
)
FRI_10 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
ONLY_THEIRS = "只有面谈所涉及的员工本人可以回应。"  # Eli's Slack speaks Chinese


async def opened(app, user_id: str, command: str) -> dict:
    app.slack.reset()
    await app.command(user_id, command)
    [form] = await opened_form(app.slack)
    return form


def posted_to(app, user_id: str) -> dict:
    [call] = [
        c for c in app.slack.calls_to("chat.postMessage") if c.params["channel"] == f"D{user_id}"
    ]
    return call.params


def element(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for found in [block.get("accessory") or {}, *block.get("elements", [])]:
            if found.get("action_id") == action_id:
                return {**found, "type": found.get("type", "button")}
    raise AssertionError(f"no {action_id}")


def click_on(user_id: str, action: dict, message: dict, *, channel: str, ts: str) -> dict:
    """A click whose payload names `channel`/`ts` as the message clicked (true or forged)."""
    shown = {"ts": ts, "text": message["text"], "blocks": message["blocks"]}
    return block_actions(user_id, action, message=shown, channel=channel)


def updates(app) -> set[tuple[str, str]]:
    return {(c.params["channel"], c.params["ts"]) for c in app.slack.calls_to("chat.update")}


async def reviews_for_eli_and_ann(app, engine) -> dict[str, dict]:
    """Mia records both reviews; each employee's summary goes out. Returns, by employee, the
    summary message and where it was sent."""
    await seed_org(engine, app.slack)
    async with session_scope(engine) as session:
        session.add(Cycle(created_at=T0, **Q3))
        await session.commit()
    found = {}
    for employee, rating in (("U0EMP", "3"), ("U0ANN", "5")):
        view = await opened(app, "U0MGR", f"review <@{employee}>")
        answers = {"review_rating": rating, "review_evidence": f"Evidence about {employee}."}
        assert (await app.interact(view_submission("U0MGR", view, answers))).text == ""
        await app.notices_sent()
        found[employee] = {
            "message": posted_to(app, employee),
            **await sent_message(engine, "review_summary", employee),
        }
    app.slack.reset()
    return found


async def test_a_forged_channel_and_ts_in_the_disagreement_modal_never_update_anothers_summary(
    running_app, engine, caplog
):
    summaries = await reviews_for_eli_and_ann(running_app, engine)
    eli, ann = summaries["U0EMP"], summaries["U0ANN"]
    await running_app.interact(block_actions("U0EMP", element(eli["message"], "review_disagree")))
    [modal] = await opened_form(running_app.slack)
    review_id = json.loads(modal["private_metadata"])["r"]
    modal["private_metadata"] = json.dumps({"r": review_id, "c": ann["channel"], "ts": ann["ts"]})

    caplog.set_level(logging.WARNING)
    sent = await running_app.interact(
        view_submission("U0EMP", modal, {"review_comment": "I see it differently."})
    )

    assert sent.text == ""
    await running_app.slack.async_wait_for("chat.update")
    await running_app.notices_sent()
    assert updates(running_app) == {(eli["channel"], eli["ts"])}  # Eli's own summary only
    [update] = running_app.slack.calls_to("chat.update")
    assert "Evidence about U0EMP." in texts(update.params["blocks"])
    assert "Evidence about U0ANN." not in str(running_app.slack.calls)


async def test_forged_channel_and_ts_on_a_review_acknowledgement_update_only_its_own_summary(
    running_app, engine, caplog
):
    summaries = await reviews_for_eli_and_ann(running_app, engine)
    eli, ann = summaries["U0EMP"], summaries["U0ANN"]
    acknowledge = element(eli["message"], "review_acknowledge")
    caplog.set_level(logging.WARNING)

    await running_app.interact(
        click_on("U0EMP", acknowledge, eli["message"], channel=ann["channel"], ts=ann["ts"])
    )

    [update] = await running_app.slack.async_wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (eli["channel"], eli["ts"])
    assert "Evidence about U0EMP." in texts(update.params["blocks"])
    assert updates(running_app) == {(eli["channel"], eli["ts"])}
    warned = [r.getMessage() for r in caplog.records if "not where it was sent" in r.getMessage()]
    assert warned and ann["ts"] in warned[0] and "Evidence" not in warned[0]  # ids only


async def test_forged_channel_and_ts_on_a_record_acknowledgement_update_only_its_own_record(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    records = {}
    for employee in ("U0EMP", "U0ANN"):
        view = await opened(running_app, "U0MGR", f"<@{employee}>")
        answers = {"facts": f"Facts about {employee}.", "consensus": "Agreed."}
        assert (await running_app.interact(view_submission("U0MGR", view, answers))).text == ""
        await running_app.notices_sent()
        records[employee] = {
            "message": posted_to(running_app, employee),
            **await sent_message(engine, "talk_record", employee),
        }
    running_app.slack.reset()
    eli, ann = records["U0EMP"], records["U0ANN"]

    await running_app.interact(
        click_on(
            "U0EMP",
            element(eli["message"], "acknowledge_talk"),
            eli["message"],
            channel=ann["channel"],
            ts=ann["ts"],
        )
    )

    [update] = await running_app.slack.async_wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (eli["channel"], eli["ts"])
    assert "Facts about U0EMP." in texts(update.params["blocks"])  # drawn from the record
    assert "Facts about U0ANN." not in texts(update.params["blocks"])


async def test_a_forged_place_on_a_goal_decision_updates_only_the_proposal_sent_to_the_decider(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0ANN", "goal")
    goal = {"goal_title": "Own the runbook", "goal_measure": "Written", "goal_due": "2027-01-31"}
    assert (await running_app.interact(view_submission("U0ANN", view, goal))).text == ""
    await running_app.notices_sent()
    proposal = posted_to(running_app, "U0MGR")
    sent = await sent_message(engine, "goal_proposed", "U0MGR")
    running_app.slack.reset()

    await running_app.interact(
        click_on(
            "U0MGR",
            element(proposal, "goal_confirm"),
            proposal,
            channel="DU0ANN",  # a message of Ann's, say
            ts="1700000000.999999",
        )
    )

    [update] = await running_app.slack.async_wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (sent["channel"], sent["ts"])
    assert "Confirmed by Mia Chen" in texts(update.params["blocks"])


async def checkin_nudge_to_mia(app, engine, nudge_engine) -> tuple[dict, Nudge]:
    await nudge_engine.plan(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))
    await nudge_engine.dispatch(FRI_10)
    [post] = [
        c.params
        for c in app.slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0MGR" and "Ann Lee" in c.params["text"]
    ]
    async with session_scope(engine) as session:
        rows = await session.execute(
            select(Nudge).where(Nudge.kind == "checkin", Nudge.subject == key("U0ANN"))
        )
        [nudge] = rows.scalars()
    return post, nudge


async def test_a_forged_place_on_a_snooze_settles_only_the_nudges_own_message(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    post, nudge = await checkin_nudge_to_mia(running_app, engine, nudge_engine)
    running_app.clock.now = FRI_10
    snooze = element(post, "nudge_snooze")
    snooze["selected_option"] = snooze["options"][0]

    await running_app.interact(
        click_on("U0MGR", snooze, post, channel="DU0EMP", ts="1700000000.999999")
    )

    [update] = await running_app.slack.async_wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (nudge.channel, nudge.ts)
    assert "Snoozed until" in texts(update.params["blocks"])
    assert "Ann Lee" in update.params["text"]  # the nudge itself, drawn from the outbox


async def test_someone_elses_review_id_is_refused_and_changes_nothing(running_app, engine):
    summaries = await reviews_for_eli_and_ann(running_app, engine)
    eli = summaries["U0EMP"]
    async with session_scope(engine) as session:
        ids = {r.employee_id: r.id for r in (await session.execute(select(Review))).scalars()}
    anns = str(ids[key("U0ANN")])

    # Disagree naming Ann's review: the modal says no, and offers no form
    disagree = {**element(eli["message"], "review_disagree"), "value": anns}
    await running_app.interact(block_actions("U0EMP", disagree))
    [refused] = await opened_form(running_app.slack)
    assert texts(refused["blocks"]) == ONLY_THEIRS
    assert "submit" not in refused
    # Eli's own modal, its routing data pointed at Ann's review
    running_app.slack.reset()
    await running_app.interact(block_actions("U0EMP", element(eli["message"], "review_disagree")))
    [modal] = await opened_form(running_app.slack)
    modal["private_metadata"] = json.dumps({"r": ids[key("U0ANN")]})
    forged = await running_app.interact(
        view_submission("U0EMP", modal, {"review_comment": "Forged."})
    )
    # and Acknowledge naming Ann's review
    acknowledge = {**element(eli["message"], "review_acknowledge"), "value": anns}
    await running_app.interact(
        click_on("U0EMP", acknowledge, eli["message"], channel=eli["channel"], ts=eli["ts"])
    )

    assert forged.json()["errors"] == {"review_comment": ONLY_THEIRS}
    [ephemeral] = await running_app.slack.async_wait_for("chat.postEphemeral")
    assert ephemeral.params["text"] == ONLY_THEIRS
    async with session_scope(engine) as session:
        ann = await session.get(Review, ids[key("U0ANN")])
    assert (ann.acknowledged_at, ann.disagreed_at, ann.disagreement) == (None, None, None)
    assert running_app.slack.calls_to("chat.update") == []


async def test_a_nudge_id_of_someone_elses_is_refused_and_the_action_stays_open(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    view = await opened(running_app, "U0MGR", "<@U0EMP>")
    answers = {
        "facts": "Talked.",
        "consensus": "Agreed.",
        "action_1_text": "Write the plan",
        "action_1_owner": "employee",
        "action_1_due": "2026-11-30",
    }
    assert (await running_app.interact(view_submission("U0MGR", view, answers))).text == ""
    await running_app.notices_sent()
    post, mias = await checkin_nudge_to_mia(running_app, engine, nudge_engine)
    async with session_scope(engine) as session:
        action = (await session.execute(select(ActionItem))).scalar_one()
    running_app.slack.reset()
    done = {
        "type": "button",
        "action_id": "nudge_action_done",
        "value": json.dumps({"n": mias.id, "a": action.id}),  # Mia's nudge, Eli's action
    }
    snooze = {
        "type": "overflow",
        "action_id": "nudge_snooze",
        "selected_option": {"value": json.dumps({"n": mias.id, "u": "week"})},
    }

    for forged in (done, snooze):
        await running_app.interact(
            click_on("U0EMP", forged, post, channel=mias.channel or "", ts=mias.ts or "")
        )

    refusals = await running_app.slack.async_wait_for("chat.postEphemeral", count=2)
    assert {r.params["text"] for r in refusals} == {"这条提醒是发给别人的。"}
    async with session_scope(engine) as session:
        assert (await session.get(ActionItem, action.id)).status == "open"
        assert (await session.get(Nudge, mias.id)).skip_reason is None
    assert running_app.slack.calls_to("chat.update") == []
