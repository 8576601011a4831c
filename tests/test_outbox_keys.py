"""Outbox keys are stored: (kind, recipient, subject, period) must keep their exact spelling, or
a database written by an earlier version would get every nudge and notice a second time. Each
kind's keys are pinned here, as the services and the planner store them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.engine import kinds
from bot.engine.choices import snooze
from bot.engine.planner import plan
from bot.org.importer import import_org_file
from bot.records.goals import create_goal, decide_goal
from bot.records.meeting import ActionDraft
from bot.records.milestones import mark_done, register_milestone
from bot.records.talks import TalkDraft, acknowledge, record_talk, submission_key
from bot.review import self_assessment
from bot.review.answers import respond_to_review
from bot.review.cycles import list_cycles
from bot.review.interview_record import ReviewDraft, record_review
from storage.db import session_scope
from storage.models import Nudge
from tests.factories import ORG, add_people, key


@pytest.fixture(scope="session")
def policy(shipped_policy):
    """The shipped policy, HR's weekly digest on."""
    return shipped_policy


DEC_1 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
DEC_15 = datetime(2026, 12, 15, 3, 0, tzinfo=UTC)
DEC_21 = datetime(2026, 12, 21, 3, 0, tzinfo=UTC)
# Tuesday 22 December, 11:00 in Shanghai: the Q4 review (from 1 January) is within the
# planner's horizon, so every kind of nudge is planned.
NOW = datetime(2026, 12, 22, 3, 0, tzinfo=UTC)


def test_subjects_and_periods_are_spelt_as_they_are_stored() -> None:
    assert kinds.checkin_subject("U0EMP") == "U0EMP"
    assert kinds.goal_subject(7) == "goal:7"
    assert kinds.action_subject(12) == "action:12"
    assert kinds.milestone_subject(3) == "milestone:3"
    assert kinds.cycle_subject(5) == "cycle:5"
    assert kinds.prep_pack_subject(5, "U0EMP") == "cycle:5:U0EMP"
    assert kinds.prep_pack_prefix(5) + "U0EMP" == "cycle:5:U0EMP"
    assert kinds.talk_subject(41) == "talk:41"
    assert kinds.assessment_subject(9) == "self:9"
    assert kinds.review_subject(2) == "review:2"
    assert (kinds.DUE_PERIOD, kinds.OVERDUE_PERIOD, kinds.RETRO_PERIOD) == (
        "due",
        "overdue",
        "retro",
    )
    assert kinds.ONCE == "once"
    assert kinds.goal_round(0) == "r0"
    assert kinds.goal_round(3) == "r3"
    assert kinds.snoozed_period("2026-11", 1) == "2026-11~s1"
    assert kinds.snoozed_period(kinds.base_period("2026-11~s1"), 2) == "2026-11~s2"
    assert kinds.base_period("2026-Q4~s2") == "2026-Q4"
    assert kinds.review_version("a" * 32 + "b" * 32) == "a" * 32
    assert kinds.member("U0MGR", "goal:7") == "U0MGR goal:7"
    assert kinds.COVERAGE_SUBJECT == "coverage"
    assert kinds.week_period(2026, 1) == "2026-W01"


def test_the_kinds_are_spelt_as_they_are_stored() -> None:
    assert kinds.NUDGE_KINDS == (
        "checkin",
        "checkin_heads_up",
        "goal_clarification",
        "action_due",
        "action_overdue",
        "milestone_retro",
        "self_assessment",
        "self_assessment_reminder",
        "prep_pack",
        "hr_digest",
    )
    assert {
        "talk_record",
        "talk_saved",
        "talk_acknowledged",
        "goal_proposed",
        "goal_set",
        "goal_decided",
        "self_submitted",
        "review_summary",
        "review_saved",
        "review_acknowledged",
        "review_disagreed",
        "manager_changed",
    } == kinds.NOTICE_KINDS
    assert not set(kinds.NUDGE_KINDS) & kinds.NOTICE_KINDS


async def stored_keys(engine) -> set[tuple[str, str, str, str]]:
    async with session_scope(engine) as session:
        rows = (await session.execute(select(Nudge))).scalars()
        return {(n.kind, n.recipient_id, n.subject, n.period) for n in rows}


def review_draft(employee_id: str) -> ReviewDraft:
    return ReviewDraft(
        employee_id=employee_id,
        rating="4",
        evidence="Shipped the billing migration early.",
        held_on=NOW.date(),
        next_goals="Lead the reliability work",
    )


async def test_every_kind_of_nudge_and_notice_is_stored_under_its_pinned_key(
    engine, policy, tmp_path
):
    await add_people(engine, ORG)
    # Otto, who reported to nobody, now reports to Mia (the org file says so on 1 December).
    org = tmp_path / "org.csv"
    org.write_text(
        "slack_id,email,name,manager,timezone,locale,hr\n"
        + "".join(
            f"{p['slack_id']},{p['email']},{p['name']},"
            f"{'U0MGR' if p['slack_id'] == 'U0OTH' else p.get('manager_id') or ''},"
            f"{p.get('timezone') or ''},{p.get('locale') or ''},"
            f"{'true' if p.get('is_hr') else ''}\n"
            for p in ORG
        ),
        encoding="utf-8",
    )
    await import_org_file(engine, org, lookup_email=None, now=DEC_1)
    # A talk with Ann on 1 December: one action late by now (hers), one due tomorrow (Mia's).
    talk = await record_talk(
        engine,
        actor_id=key("U0MGR"),
        draft=TalkDraft(
            employee_id=key("U0ANN"),
            kind="checkin",
            held_on=DEC_1.date(),
            minutes="30",
            facts="Ann shipped the importer.",
            consensus="Keep going.",
            actions=(
                ActionDraft("Write the runbook", "employee", date(2026, 12, 10)),
                ActionDraft("Book the training", "manager", date(2026, 12, 23)),
            ),
        ),
        policy=policy,
        now=DEC_1,
        key=submission_key("record", "U0MGR", "V1"),
    )
    late, soon = talk.actions
    await acknowledge(engine, talk_id=talk.talk.id, actor_id=key("U0ANN"), now=DEC_1)
    set_goal = await create_goal(
        engine,
        actor_id=key("U0MGR"),
        employee_id=key("U0ANN"),
        title="Own the importer",
        measure="No failed imports in Q1",
        due_on=date(2027, 3, 31),
        now=NOW,
    )
    proposed = await create_goal(
        engine,
        actor_id=key("U0EMP"),
        employee_id=key("U0EMP"),
        title="Learn Go",
        measure="One service in Go",
        due_on=date(2027, 3, 31),
        now=NOW,
    )
    await decide_goal(
        engine, goal_id=proposed.goal.id, actor_id=key("U0MGR"), confirm=True, now=NOW
    )
    milestone = await register_milestone(
        engine,
        actor_id=key("U0MGR"),
        name="Billing v2",
        participant_ids=[key("U0EMP"), key("U0ANN")],
        due_on=None,
        now=DEC_15,
    )
    await mark_done(engine, milestone_id=milestone.milestone.id, actor_id=key("U0MGR"), now=DEC_21)
    await plan(engine, policy=policy, now=NOW)
    [q4] = [c for c in await list_cycles(engine) if c.review_from == date(2027, 1, 1)]
    async with session_scope(engine) as session:
        [checkin] = (
            await session.execute(
                select(Nudge).where(Nudge.kind == kinds.CHECKIN, Nudge.subject == key("U0EMP"))
            )
        ).scalars()
    await snooze(
        engine, nudge_id=checkin.id, actor_id=key("U0MGR"), until="tomorrow", policy=policy, now=NOW
    )
    saved = await self_assessment.save(
        engine,
        employee_id=key("U0EMP"),
        cycle_id=None,
        rating=4,
        proudest="The migration",
        redo="Start the tests earlier",
        submit=True,
        policy=policy,
        now=NOW,
    )
    ann_key = submission_key("review", "U0MGR", "V2")
    ann = await record_review(
        engine,
        actor_id=key("U0MGR"),
        draft=review_draft(key("U0ANN")),
        policy=policy,
        now=NOW,
        key=ann_key,
    )
    await respond_to_review(
        engine, review_id=ann.review.id, actor_id=key("U0ANN"), agree=True, comment=None, now=NOW
    )
    eli_key = submission_key("review", "U0MGR", "V3")
    eli = await record_review(
        engine,
        actor_id=key("U0MGR"),
        draft=review_draft(key("U0EMP")),
        policy=policy,
        now=NOW,
        key=eli_key,
    )
    await respond_to_review(
        engine, review_id=eli.review.id, actor_id=key("U0EMP"), agree=False, comment="No.", now=NOW
    )

    goal, goal_ann = f"goal:{proposed.goal.id}", f"goal:{set_goal.goal.id}"
    pinned = {
        ("checkin", key("U0MGR"), key("U0EMP"), "2026-12"),
        ("checkin", key("U0MGR"), key("U0EMP"), "2026-12~s1"),
        ("checkin_heads_up", key("U0EMP"), key("U0EMP"), "2026-12"),
        ("goal_clarification", key("U0MGR"), goal, "r0"),
        ("goal_clarification", key("U0EMP"), goal, "r0"),
        ("goal_clarification", key("U0ANN"), goal_ann, "r0"),
        ("action_due", key("U0MGR"), f"action:{soon.id}", "due"),
        ("action_overdue", key("U0ANN"), f"action:{late.id}", "overdue"),
        ("action_overdue", key("U0MGR"), f"action:{late.id}", "overdue"),
        ("milestone_retro", key("U0MGR"), f"milestone:{milestone.milestone.id}", "retro"),
        ("self_assessment", key("U0EMP"), f"cycle:{q4.id}", q4.name),
        ("self_assessment_reminder", key("U0EMP"), f"cycle:{q4.id}", q4.name),
        ("prep_pack", key("U0MGR"), f"cycle:{q4.id}:{key('U0EMP')}", q4.name),
        ("hr_digest", key("U0HR"), "coverage", "2026-W52"),  # Tuesday 22 December's week
        ("talk_record", key("U0ANN"), f"talk:{talk.talk.id}", "once"),
        ("talk_saved", key("U0MGR"), f"talk:{talk.talk.id}", "once"),
        ("talk_acknowledged", key("U0MGR"), f"talk:{talk.talk.id}", "once"),
        ("goal_set", key("U0ANN"), goal_ann, "once"),
        ("goal_proposed", key("U0MGR"), goal, "once"),
        ("goal_decided", key("U0EMP"), goal, "once"),
        ("self_submitted", key("U0MGR"), f"self:{saved.assessment.id}", "once"),
        ("review_summary", key("U0ANN"), f"review:{ann.review.id}", ann_key[:32]),
        ("review_saved", key("U0MGR"), f"review:{ann.review.id}", ann_key[:32]),
        ("review_acknowledged", key("U0MGR"), f"review:{ann.review.id}", ann_key[:32]),
        ("review_disagreed", key("U0HR"), f"review:{eli.review.id}", eli_key[:32]),
        ("review_disagreed", key("U0MGR"), f"review:{eli.review.id}", eli_key[:32]),
        ("manager_changed", key("U0OTH"), f"manager:{key('U0MGR')}", DEC_1.isoformat()),
    }
    stored = await stored_keys(engine)
    assert pinned - stored == set()
    # every kind there is has a pinned key: a new kind cannot go unpinned
    assert {kind for kind, *_ in pinned} == set(kinds.NUDGE_KINDS) | kinds.NOTICE_KINDS
    assert {kind for kind, *_ in stored} <= set(kinds.NUDGE_KINDS) | kinds.NOTICE_KINDS
