"""`/checkin review @someone`: the formal review interview (绩效面谈) is recorded once, turns its
next-cycle goals into goals and its development plan into actions, and the employee
acknowledges it or disagrees (HR and the manager hear of it). Bad input writes nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import event, func, select

from bot.engine.planner import plan
from bot.records.export import export_talks
from storage.db import session_scope
from storage.models import ActionItem, Cycle, Goal, Nudge, Review, Talk
from storage.queries import latest_reviews
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import (
    T0,
    add_people,
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
Q4 = dict(
    name="2026-Q4",
    starts_on=date(2026, 10, 1),
    ends_on=date(2026, 12, 31),
    review_from=date(2027, 1, 1),
    review_to=date(2027, 1, 14),
)
GOOD = {
    "review_rating": "4",
    "review_evidence": "Shipped the billing migration two weeks early; NPS up 6 points.",
    "review_gaps": "Review turnaround was slow: too many parallel projects.",
    "review_next_goals": "Lead the Q1 reliability work\n\nMentor two new engineers\n",
    "review_action_1_text": "Attend the tech lead course",
    "review_action_1_owner": "employee",
    "review_action_1_due": "2027-01-31",
    "review_action_2_text": "Take Eli off the support rota",
    "review_action_2_owner": "manager",
    "review_action_2_due": "2026-12-15",
    "review_decisions": ["pay", "promotion"],
    "review_employee_view": "Agrees with the rating; wants more ownership next cycle.",
}
NOTHING_WRITTEN = {Talk: 0, Review: 0, Goal: 0, ActionItem: 0}


async def seed(app, engine, *cycles):
    await seed_org(engine, app.slack)
    async with session_scope(engine) as session:
        session.add_all(Cycle(created_at=T0, **c) for c in cycles or (Q3,))
        await session.commit()


async def open_review(app, user="U0MGR", args="<@U0EMP|eli>"):
    app.slack.reset()
    response = await app.command(user, f"review {args}")
    assert response.status_code == 200
    [form] = await opened_form(app.slack)
    return valid_view(form)


async def record(app, answers=GOOD, user="U0MGR", args="<@U0EMP|eli>"):
    view = await open_review(app, user, args)
    response = await app.interact(view_submission(user, view, answers))
    assert response.text == ""
    [dm] = await dm_to(app, "U0EMP")
    await app.slack.async_wait_for("views.publish", count=2)  # the last of the news
    await app.notices_sent()
    return dm


async def dm_to(app, user_id, count=1):
    calls = await app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == f"D{user_id}", count=count
    )
    return [{**valid_message(c.params), "ts": c.response["ts"]} for c in calls]


async def counts(engine) -> dict[type, int]:
    async with session_scope(engine) as session:
        return {
            model: (await session.exec(select(func.count()).select_from(model))).scalar_one()
            for model in NOTHING_WRITTEN
        }


async def rows(engine, model) -> list:
    async with session_scope(engine) as session:
        return list((await session.exec(select(model).order_by(model.id))).scalars())


def buttons(message) -> dict[str, dict]:
    block = next(b for b in message["blocks"] if b.get("block_id") == "review_response")
    return {e["action_id"]: e for e in block["elements"]}


def click(user, button, message, channel="DU0EMP", ts=None):
    shown = {"ts": ts or message["ts"], "text": message["text"], "blocks": message["blocks"]}
    return block_actions(user, {**button, "type": "button"}, message=shown, channel=channel)


def forge(payload, block_id, state):
    """Put a value in the submission that the modal could not have produced."""
    payload["view"]["state"]["values"][block_id] = {"value": state}
    return payload


async def test_a_manager_records_a_review_interview_and_the_employee_gets_it_in_chinese(
    running_app, engine
):
    await seed(running_app, engine)
    view = await open_review(running_app)
    shown = texts(view["blocks"])
    assert view["title"]["text"] == "Review interview" and "绩效面谈" in shown
    assert "*Eli Wang* · cycle 2026-Q3" in shown and "4 · Exceeds expectations" in shown
    assert "kind" not in {b.get("block_id") for b in view["blocks"]}  # no dialogue kinds here
    assert "review_decisions" in {b.get("block_id") for b in view["blocks"]}

    response = await running_app.interact(view_submission("U0MGR", view, GOOD))

    assert response.text == ""
    [talk] = await rows(engine, Talk)
    assert (talk.kind, talk.family, talk.manager_id, talk.employee_id) == (
        "review",
        "review",
        key("U0MGR"),
        key("U0EMP"),
    )
    assert (talk.facts, talk.duration_minutes) == (GOOD["review_evidence"], 60)
    assert "Lead the Q1 reliability work" in talk.consensus
    [review] = await rows(engine, Review)
    [cycle] = await rows(engine, Cycle)
    assert (review.talk_id, review.cycle_id, review.rating) == (talk.id, cycle.id, 4)
    assert json.loads(review.decisions) == ["pay", "promotion"]
    assert review.employee_view == GOOD["review_employee_view"]
    goals = await rows(engine, Goal)
    assert [(g.title, g.status, g.set_by) for g in goals] == [
        ("Lead the Q1 reliability work", "active", key("U0MGR")),
        ("Mentor two new engineers", "active", key("U0MGR")),
    ]
    assert {g.due_on for g in goals} == {date(2027, 2, 24)}  # no next cycle: held + 90 days
    actions = await rows(engine, ActionItem)
    assert [(a.talk_id, a.owner_id, a.due_on.isoformat()) for a in actions] == [
        (talk.id, key("U0EMP"), "2027-01-31"),
        (talk.id, key("U0MGR"), "2026-12-15"),
    ]
    [dm] = await dm_to(running_app, "U0EMP")
    body = texts(dm["blocks"])
    assert "你与 Mia Chen 的绩效面谈" in body and "4 · 超出预期" in body
    assert GOOD["review_evidence"] in body and "差距及原因" in body
    assert "• Mentor two new engineers" in body and "Attend the tech lead course" in body
    assert "调薪、晋升" in body
    assert set(buttons(dm)) == {"review_acknowledge", "review_disagree"}
    assert {b["text"]["text"] for b in buttons(dm).values()} == {"确认", "有异议"}
    [confirmation] = await dm_to(running_app, "U0MGR")
    assert "Saved the review interview (绩效面谈) with *Eli Wang*" in texts(confirmation["blocks"])


async def test_goals_from_a_review_fall_due_at_the_next_cycles_end_and_get_clarification_nudges(
    running_app, engine, policy
):
    await seed(running_app, engine, Q3, Q4)
    view = await open_review(running_app)
    assert "due 2026-12-31" in texts(view["blocks"])

    await running_app.interact(view_submission("U0MGR", view, GOOD))
    await plan(engine, policy=policy, now=running_app.clock.now)

    goals = await rows(engine, Goal)
    assert len(goals) == 2 and {g.due_on for g in goals} == {date(2026, 12, 31)}
    nudges = await rows(engine, Nudge)
    subjects = {n.subject for n in nudges if n.kind == "goal_clarification"}
    assert subjects == {f"goal:{g.id}" for g in goals}


async def test_every_mention_form_opens_the_review_for_that_report(running_app, engine):
    await seed(running_app, engine)
    for args in ("<@U0ANN|ann>", "<@U0ANN>", "@annlee"):
        view = await open_review(running_app, "U0MGR", args)
        assert json.loads(view["private_metadata"]) == {"e": key("U0ANN")}, args


async def test_a_review_command_without_a_person_explains_itself(running_app, engine):
    await seed(running_app, engine)
    await running_app.command("U0MGR", "review")
    [answer] = await running_app.slack.async_wait_for("response_url")
    assert "`/checkin review @name`" in answer.params["text"]
    assert running_app.slack.calls_to("views.open") == []


async def test_the_employee_acknowledges_the_review_once_and_the_manager_hears_of_it(
    running_app, engine
):
    await seed(running_app, engine)
    dm = await record(running_app)
    sent = await sent_message(engine, "review_summary", "U0EMP")
    acknowledge = click("U0EMP", buttons(dm)["review_acknowledge"], dm, ts=sent["ts"])

    for _ in range(2):  # a double click
        await running_app.interact(acknowledge)

    updates = await running_app.slack.async_wait_for("chat.update", count=2)
    first = valid_message(updates[0].params)
    assert (first["channel"], first["ts"]) == ("DU0EMP", sent["ts"])
    assert "✅ 已于 2026-11-26 确认" in texts(first["blocks"])
    assert all(b["type"] != "actions" for b in first["blocks"])
    [review] = await rows(engine, Review)
    [talk] = await rows(engine, Talk)
    assert review.acknowledged_at == talk.acknowledged_at == running_app.clock.now
    assert review.disagreed_at is None
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
    assert "Eli Wang acknowledged the review interview" in notices[0].params["text"]


async def test_a_disagreement_needs_a_comment_and_reaches_every_hr_person_and_the_manager(
    running_app, engine
):
    await seed(running_app, engine)
    await add_people(
        engine,
        [
            dict(slack_id="U0HR2", name="Hu Li", is_hr=True, locale="zh"),
            dict(slack_id="U0HRX", name="Gone Hr", is_hr=True, active=False),
        ],
    )
    running_app.slack.add_user("U0HR2", name="Hu Li", locale="zh-CN")
    dm = await record(running_app, user="U0HR")  # HR records it for Mia's report
    summary = await sent_message(engine, "review_summary", "U0EMP")
    running_app.slack.reset()

    await running_app.interact(click("U0EMP", buttons(dm)["review_disagree"], dm))
    [modal] = await opened_form(running_app.slack)
    modal = valid_view(modal)
    assert json.loads(modal["private_metadata"]) == {"r": 1}  # the review, and nothing else
    assert modal["title"]["text"] == "提出异议"
    empty = await running_app.interact(view_submission("U0EMP", modal, {"review_comment": " "}))
    assert empty.json()["errors"] == {
        "review_comment": "请说明你的不同看法，方便 HR 和你的经理跟进。"
    }
    assert (await rows(engine, Review))[0].disagreed_at is None

    comment = "The NPS gain came from the whole team.\nMy rating should be 5."
    sent = await running_app.interact(view_submission("U0EMP", modal, {"review_comment": comment}))

    assert sent.text == ""
    [review] = await rows(engine, Review)
    assert (review.disagreed_at, review.disagreement) == (running_app.clock.now, comment)
    assert review.acknowledged_at is None
    [update] = await running_app.slack.async_wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("DU0EMP", summary["ts"])
    assert ">My rating should be 5." in texts(valid_message(update.params)["blocks"])
    told = {}
    for user_id in ("U0HR", "U0HR2", "U0MGR"):
        [notice] = await dm_to(running_app, user_id)
        told[user_id] = texts(notice["blocks"])
        assert ">The NPS gain came from the whole team." in told[user_id]
    assert "*Eli Wang* disagrees with the review interview (绩效面谈)" in told["U0MGR"]
    assert "recorded by Hana Berg" in told["U0MGR"]
    assert "*Eli Wang* 对 2026-11-26 由 Hana Berg 记录的绩效面谈有异议" in told["U0HR2"]
    channels = {c.params["channel"] for c in running_app.slack.calls_to("chat.postMessage")}
    assert channels == {"DU0HR", "DU0HR2", "DU0MGR"}  # not the inactive HR, not Eli


async def test_only_the_employee_can_answer_their_review(running_app, engine):
    await seed(running_app, engine)
    dm = await record(running_app)

    await running_app.interact(
        click("U0OTH", buttons(dm)["review_acknowledge"], dm, channel="DU0OTH")
    )

    [refusal] = await running_app.slack.async_wait_for("chat.postEphemeral")
    assert "Only the person the review is about" in refusal.params["text"]
    assert (await rows(engine, Review))[0].acknowledged_at is None


async def test_a_rating_outside_the_scale_is_refused_on_the_rating_block(running_app, engine):
    await seed(running_app, engine)
    view = await open_review(running_app)
    payload = view_submission("U0MGR", view, GOOD)
    forged = {"type": "static_select", "selected_option": {"value": "9"}}

    response = await running_app.interact(forge(payload, "review_rating", forged))

    assert response.json() == {
        "response_action": "errors",
        "errors": {"review_rating": "Choose a rating on the scale from 1 to 5."},
    }
    assert await counts(engine) == NOTHING_WRITTEN


async def test_a_review_for_someone_who_is_not_your_report_is_refused(running_app, engine):
    await seed(running_app, engine)
    running_app.slack.reset()
    await running_app.command("U0OTH", "review <@U0EMP>")
    [refused] = await opened_form(running_app.slack)
    assert "Only Eli Wang's manager or HR can record Eli Wang's review" in texts(refused["blocks"])
    assert "submit" not in refused

    view = await open_review(running_app)  # Mia's modal, submitted by Otto
    response = await running_app.interact(view_submission("U0OTH", view, GOOD))

    assert response.json()["errors"] == {
        "review_rating": "Only Eli Wang's manager or HR can record Eli Wang's review interview."
    }
    assert await counts(engine) == NOTHING_WRITTEN


async def test_a_second_review_for_the_same_cycle_is_refused_with_how_to_edit_the_first(
    running_app, engine
):
    await seed(running_app, engine)
    first, second = await open_review(running_app), await open_review(running_app)
    await running_app.interact(view_submission("U0MGR", first, GOOD))

    duplicate = await running_app.interact(view_submission("U0MGR", second, GOOD))

    assert duplicate.json()["errors"] == {
        "review_rating": "Eli Wang's review for cycle 2026-Q3 is already recorded. To change "
        "it, run /checkin review @eliwang: it opens that review for editing."
    }
    assert await counts(engine) == {Talk: 1, Review: 1, Goal: 2, ActionItem: 2}


async def test_the_command_opens_a_recorded_review_prefilled_and_saving_updates_it(
    running_app, engine
):
    await seed(running_app, engine)
    dm = await record(running_app)
    await running_app.interact(click("U0EMP", buttons(dm)["review_acknowledge"], dm))
    await running_app.slack.async_wait_for("chat.update")
    [review] = await rows(engine, Review)
    assert review.acknowledged_at is not None

    edit = await open_review(running_app, "U0MGR", "@eliwang")

    assert edit["title"]["text"] == "Edit review interview"
    assert json.loads(edit["private_metadata"]) == {"e": key("U0EMP"), "r": review.id}
    rating = next(b for b in edit["blocks"] if b.get("block_id") == "review_rating")
    assert rating["element"]["initial_option"]["value"] == "4"
    assert "Attend the tech lead course" in texts(edit["blocks"])  # already recorded
    decisions = next(b for b in edit["blocks"] if b.get("block_id") == "review_decisions")
    assert [o["value"] for o in decisions["element"]["initial_options"]] == ["pay", "promotion"]
    changes = {
        "review_rating": "5",
        "review_evidence": "Also led the incident review.",
        "review_decisions": ["pay", "promotion"],  # as prefilled
    }
    running_app.slack.reset()
    response = await running_app.interact(view_submission("U0MGR", edit, changes))

    assert response.text == ""
    [edited] = await rows(engine, Review)
    [talk] = await rows(engine, Talk)
    assert (edited.id, edited.rating, edited.evidence) == (review.id, 5, changes["review_evidence"])
    assert talk.facts == changes["review_evidence"]
    assert json.loads(edited.decisions) == ["pay", "promotion"]
    assert edited.next_goals == GOOD["review_next_goals"].strip()  # prefilled, so kept
    assert edited.acknowledged_at is None and talk.acknowledged_at is None  # to answer again
    assert await counts(engine) == {Talk: 1, Review: 1, Goal: 2, ActionItem: 2}
    [again] = await dm_to(running_app, "U0EMP")
    assert "这是更新后的面谈记录" in texts(again["blocks"])
    assert "5 · 远超预期" in texts(again["blocks"])
    assert set(buttons(again)) == {"review_acknowledge", "review_disagree"}


async def test_metadata_cannot_point_an_edit_at_another_employees_review(running_app, engine):
    await seed(running_app, engine)
    await record(running_app)
    view = await open_review(running_app, "U0MGR", "<@U0ANN>")
    for ann in (key("U0ANN"), "U0ANN"):  # by person key, and as messages before them did
        view["private_metadata"] = json.dumps({"e": ann, "r": 1})

        response = await running_app.interact(view_submission("U0MGR", view, GOOD))

        assert response.json()["errors"] == {"review_rating": "I can't find that review any more."}
    [review] = await rows(engine, Review)
    assert (review.employee_id, review.rating) == (key("U0EMP"), 4)


async def test_a_future_date_missing_evidence_and_a_past_due_date_are_each_shown_on_their_block(
    running_app, engine
):
    await seed(running_app, engine)
    view = await open_review(running_app)
    bad = {
        **GOOD,
        "review_evidence": "  ",
        "review_held_on": "2026-11-27",
        "review_action_2_due": "2026-11-01",
    }

    response = await running_app.interact(view_submission("U0MGR", view, bad))

    assert response.json()["errors"] == {
        "review_evidence": "Write down the evidence behind the rating.",
        "review_held_on": "The date held can't be in the future.",
        "review_action_2_due": "The due date can't be in the past.",
    }
    assert await counts(engine) == NOTHING_WRITTEN


async def test_decisions_are_neither_shown_nor_accepted_where_the_policy_does_not_link_them(
    running_app, engine, policy
):
    await seed(running_app, engine)
    unlinked = policy.talk_kinds["review"].model_copy(update={"linked_to_decisions": False})
    running_app.deps.policy = policy.model_copy(
        update={"talk_kinds": {**policy.talk_kinds, "review": unlinked}}
    )
    view = await open_review(running_app)
    assert "review_decisions" not in {b.get("block_id") for b in view["blocks"]}
    payload = view_submission("U0MGR", view, GOOD)
    forged = {"type": "checkboxes", "selected_options": [{"value": "promotion"}]}

    response = await running_app.interact(forge(payload, "review_decisions", forged))

    assert response.json()["errors"] == {
        "review_rating": "The policy says this review is not linked to reward decisions."
    }
    assert await counts(engine) == NOTHING_WRITTEN


async def test_retries_and_double_submits_record_one_review(running_app, engine):
    await seed(running_app, engine)
    view = await open_review(running_app)
    payload = view_submission("U0MGR", view, GOOD)

    first = await running_app.interact(payload)
    again = await running_app.interact(payload)

    assert first.text == again.text == ""
    assert await counts(engine) == {Talk: 1, Review: 1, Goal: 2, ActionItem: 2}
    await running_app.slack.async_wait_for("views.publish", count=2)
    assert len(await dm_to(running_app, "U0EMP")) == 1
    summaries = [
        c for c in running_app.slack.calls_to("chat.postMessage") if c.params["channel"] == "DU0EMP"
    ]
    assert len(summaries) == 1  # told once, not twice


async def test_the_export_carries_the_review_and_its_fields(running_app, engine):
    await seed(running_app, engine)
    dm = await record(running_app)
    await running_app.interact(click("U0EMP", buttons(dm)["review_acknowledge"], dm))
    await running_app.slack.async_wait_for("chat.update")

    data = await export_talks(
        engine,
        employee_id=key("U0EMP"),
        since=None,
        include_private=False,
        today=date(2026, 11, 26),
        reads_content=lambda kind, family: True,
        reader="operator:test",
        now=datetime(2026, 11, 26, tzinfo=UTC),
    )

    [talk] = data["talks"]
    assert (talk["kind"], talk["family"], talk["facts"]) == (
        "review",
        "review",
        GOOD["review_evidence"],
    )
    assert (talk["rating"], talk["decisions"]) == (4, ["pay", "promotion"])
    assert (talk["employee_view"], talk["acknowledged"]) == (GOOD["review_employee_view"], True)
    assert [a["text"] for a in talk["actions"]] == [
        "Attend the tech lead course",
        "Take Eli off the support rota",
    ]


async def test_latest_reviews_finds_each_employees_latest_cycle_in_one_query(running_app, engine):
    q2 = dict(
        name="2026-Q2",
        starts_on=date(2026, 4, 1),
        ends_on=date(2026, 6, 30),
        review_from=date(2026, 7, 1),
        review_to=date(2026, 7, 14),
    )
    await seed(running_app, engine, Q3, q2)
    await record(running_app, {**GOOD, "review_rating": "2", "review_held_on": "2026-07-10"})
    await record(running_app)  # Q3, held today
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    async with session_scope(engine) as session:
        latest = await latest_reviews(session, [key("U0EMP"), key("U0ANN")])

    assert len(statements) == 1
    by_name = {c.name: c.id for c in await rows(engine, Cycle)}
    assert [r.cycle_id for r in await rows(engine, Review)] == [
        by_name["2026-Q2"],
        by_name["2026-Q3"],
    ]
    assert set(latest) == {key("U0EMP")}
    assert (latest[key("U0EMP")].cycle_id, latest[key("U0EMP")].rating) == (by_name["2026-Q3"], 4)
