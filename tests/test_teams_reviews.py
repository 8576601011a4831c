"""The review season in Teams: the self-assessment in a dialog (draft, then submit, the
manager told once), and the review summary's Acknowledge and Disagree (with a comment), the
summary redrawn in place wherever it was sent."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.review.interview_record import ReviewDraft, record_review
from storage.db import session_scope
from storage.models import Interview, Review, SelfAssessment
from tests.chat_drivers import card_submission, elements
from tests.teams_fixtures import HUGO, TARA, TESS, TOM, tkey
from tests.test_self_assessment import add_cycle

IN_REVIEW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _card(response) -> dict:
    return response.json()["task"]["value"]["card"]["content"]


async def test_the_self_assessment_is_drafted_then_submitted_and_the_manager_told_once(
    teams_app, engine
):
    cycle = await add_cycle(engine)
    for user in (TARA, TOM):
        await teams_app.install(user)
    opens = {"msteams": {"type": "task/fetch"}, "cadence": "form", "form": "self", "c": cycle.id}
    form = _card(await teams_app.fetch(TOM, opens))
    labels = [e["label"] for e in elements(form) if str(e.get("type")).startswith("Input.")]
    assert all(labels) and len(labels) == 6

    draft_button = next(a for a in form["actions"] if a["data"].get("d") == "draft")
    drafted = await teams_app.submit(
        TOM, {**draft_button["data"], "rating": "4", "proudest": "加快了发布"}
    )
    shown = _card(drafted)
    assert "加快了发布" in json.dumps(shown, ensure_ascii=False)  # kept, and saved as a draft
    incomplete = await teams_app.submit(TOM, card_submission(shown, {"redo": ""}))
    problems = json.dumps(_card(incomplete), ensure_ascii=False)
    assert "attention" in problems  # the missing answer is marked beside its field
    complete = card_submission(shown, {"redo": "更早写测试"})
    first = (await teams_app.submit(TOM, complete)).json()
    again = (await teams_app.submit(TOM, complete)).json()  # pressed twice
    await teams_app.notices_sent()

    assert first["task"]["type"] == again["task"]["type"] == "message"
    async with session_scope(engine) as session:
        row = (await session.execute(select(SelfAssessment))).scalar_one()
    assert (row.rating, row.redo) == (4, "更早写测试") and row.submitted_at is not None
    told = [m for m in teams_app.messages_to(TARA) if "2026-Q4" in m["text"]]
    assert len(told) == 1 and "更早写测试" in json.dumps(told[0], ensure_ascii=False)


async def _recorded_review(teams_app, engine) -> int:
    await add_cycle(engine)
    for user in (TARA, TOM, HUGO):  # HR hears of a disagreement
        await teams_app.install(user)
    teams_app.clock.now = IN_REVIEW
    recorded = await record_review(
        engine,
        actor_id=tkey(TARA),
        draft=ReviewDraft(
            employee_id=tkey(TOM),
            rating="4",
            evidence="Shipped the importer; **two** [audits](http://x) closed.",
            held_on=IN_REVIEW.date(),
        ),
        policy=teams_app.deps.policy,
        now=IN_REVIEW,
        key="a-review-form",
    )
    teams_app.deps.kick()
    await teams_app.notices_sent()
    return recorded.review.id or 0


async def test_the_employee_disagrees_with_a_comment_and_hr_and_the_manager_hear(teams_app, engine):
    review_id = await _recorded_review(teams_app, engine)
    [summary] = [m for m in teams_app.messages_to(TOM) if "audits" in json.dumps(m)]
    disagree = next(
        a for a in elements(summary["attachments"]) if a.get("data", {}).get("form") == "disagree"
    )

    form = _card(await teams_app.fetch(TOM, disagree["data"]))
    empty = await teams_app.submit(TOM, card_submission(form, {"comment": " "}))
    assert "attention" in json.dumps(_card(empty))
    sent = await teams_app.submit(TOM, card_submission(form, {"comment": "评分没有考虑到迁移工作"}))
    await teams_app.notices_sent()

    assert sent.status_code == 200
    async with session_scope(engine) as session:
        review = (await session.execute(select(Review))).scalar_one()
    assert review.id == review_id and review.disagreement == "评分没有考虑到迁移工作"
    for told in (TARA, HUGO):
        assert "评分没有考虑到迁移工作" in json.dumps(
            teams_app.messages_to(told), ensure_ascii=False
        )
    [redrawn] = [m for m in teams_app.messages_to(TOM) if m["id"] == summary["id"]]
    assert "评分没有考虑到迁移工作" in json.dumps(redrawn, ensure_ascii=False)
    assert not any(a.get("verb") == "review_ack" for a in elements(redrawn["attachments"]))


async def test_the_employee_acknowledges_the_review_and_the_card_changes_in_place(
    teams_app, engine
):
    review_id = await _recorded_review(teams_app, engine)

    response = await teams_app.execute(TOM, "review_ack", {"cadence": "review_ack", "r": review_id})
    stranger = await teams_app.execute(
        TARA, "review_ack", {"cadence": "review_ack", "r": review_id}
    )
    await teams_app.notices_sent()

    answer = response.json()
    assert answer["type"] == "application/vnd.microsoft.card.adaptive"
    assert not any(a.get("verb") == "review_ack" for a in elements(answer["value"]))
    assert stranger.json()["type"] == "application/vnd.microsoft.activity.message"
    async with session_scope(engine) as session:
        review = (await session.execute(select(Review))).scalar_one()
    assert review.acknowledged_at is not None and review.disagreed_at is None
    assert any("acknowledged" in json.dumps(m) for m in teams_app.messages_to(TARA))
    assert date(2026, 12, 2).isoformat() in json.dumps(answer["value"])


async def test_the_manager_records_the_review_in_a_dialog_and_the_employee_gets_the_summary(
    teams_app, engine
):
    await add_cycle(engine)
    for user in (TARA, TOM, HUGO):
        await teams_app.install(user)
    teams_app.clock.now = IN_REVIEW
    await teams_app.say(TARA, "review tomli")
    [button] = teams_app.messages_to(TARA)[-1]["attachments"][0]["content"]["actions"]
    form = _card(await teams_app.fetch(TARA, button["data"]))
    labels = [e.get("label") for e in elements(form) if str(e.get("type")).startswith("Input.")]
    assert all(labels)

    bad = card_submission(form, {"rating": "4", "evidence": "", "held_on": "2026-12-40"})
    shown = _card(await teams_app.submit(TARA, bad))
    assert "2026-12-40" in json.dumps(shown) and "attention" in json.dumps(shown)
    good = card_submission(shown, {"evidence": "迁移提前两周完成", "held_on": "2026-12-02"})
    first = await teams_app.submit(TARA, good)
    again = await teams_app.submit(TARA, good)
    await teams_app.notices_sent()

    assert first.status_code == again.status_code == 200
    async with session_scope(engine) as session:
        [review] = (await session.execute(select(Review))).scalars().all()
    assert (review.rating, review.evidence, review.employee_id) == (
        4,
        "迁移提前两周完成",
        tkey(TOM),
    )
    summaries = [
        m
        for m in teams_app.messages_to(TOM)
        if "迁移提前两周完成" in json.dumps(m, ensure_ascii=False)
    ]
    assert len(summaries) == 1
    assert any(a.get("verb") == "review_ack" for a in elements(summaries[0]["attachments"]))


async def test_the_manager_sets_the_interview_date_from_teams_and_only_the_manager_may(
    teams_app, engine
):
    cycle = await add_cycle(engine)
    await teams_app.install(TARA)
    data = {"cadence": "interview_date", "e": tkey(TOM), "c": cycle.id}

    picked = await teams_app.execute(TARA, "interview_date", {**data, "interview_on": "2026-12-08"})
    outside = await teams_app.execute(
        TARA, "interview_date", {**data, "interview_on": "2027-03-01"}
    )
    none = await teams_app.execute(TARA, "interview_date", data)
    stranger = await teams_app.execute(
        TESS, "interview_date", {**data, "interview_on": "2026-12-09"}
    )

    assert "2026-12-08" in picked.json()["value"] and "Tom Li" in picked.json()["value"]
    assert "outside the review window" in outside.json()["value"]  # refused, nothing changed
    assert "date" in none.json()["value"].lower()
    async with session_scope(engine) as session:
        days = (await session.execute(select(Interview))).scalars().all()
    assert [d.scheduled_on.isoformat() for d in days] == ["2026-12-08"]
    assert stranger.json()["type"] == "application/vnd.microsoft.activity.message"
