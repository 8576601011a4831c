"""What a notice says, read from the database when it is sent (the record as it stands then),
or the news that it is no longer needed (its record is gone)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import kinds
from bot.engine.dispatch import NoLongerNeeded
from bot.org.people import zone_of
from bot.org.policy import Policy
from bot.records.talks import Recorded
from bot.review.interview_record import RecordedReview, loaded_review
from bot.review.self_assessment import Saved
from storage import queries
from storage.db import session_scope
from storage.models import Cycle, Goal, Nudge, Person, Review, SelfAssessment, Talk


@dataclass(frozen=True)
class NoticeContent:
    """A notice and the record it announces; which field is set depends on the kind."""

    nudge: Nudge
    recipient: Person
    payload: dict[str, object]
    recorded: Recorded | None = None
    goal: Goal | None = None
    goal_employee: Person | None = None
    goal_by: Person | None = None
    saved: Saved | None = None
    review: RecordedReview | None = None
    # REVIEW_DISAGREED to HR where the policy keeps review content from HR: that they
    # disagree, not the comment nor the rating
    withheld: bool = False
    manager: Person | None = None  # MANAGER_CHANGED: the new manager...
    previous: Person | None = None  # ...and the one before, if any and still known


def _id(payload: dict[str, object], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int):
        raise NoLongerNeeded(f"the notice names no {name}")
    return value


async def _person(session: AsyncSession, person_id: str | None) -> Person:
    person = await queries.get_person(session, person_id) if person_id else None
    if person is None:
        raise NoLongerNeeded("a person it names is no longer in the org chart")
    return person


async def _recorded_talk(session: AsyncSession, talk_id: int) -> Recorded:
    talk = await session.get(Talk, talk_id)
    if talk is None:
        raise NoLongerNeeded("the talk was removed")
    assert talk.id is not None
    actions = await queries.actions_of_talks(session, [talk.id])
    completed = await queries.actions_completed_in(session, talk.id)
    employee = await _person(session, talk.employee_id)
    manager = await _person(session, talk.manager_id)
    return Recorded(talk, actions, completed, employee, manager, created=True)


async def _review(session: AsyncSession, review_id: int, *, edited: bool) -> RecordedReview:
    review = await session.get(Review, review_id)
    if review is None:
        raise NoLongerNeeded("the review was removed")
    loaded = await loaded_review(session, review, fresh=True)
    return RecordedReview(
        loaded.review,
        loaded.talk,
        loaded.cycle,
        loaded.actions,
        loaded.goals,
        loaded.employee,
        loaded.manager,
        fresh=True,
        edited=edited,
        recorder=loaded.recorder,
    )


async def _saved(session: AsyncSession, assessment_id: int, policy: Policy) -> Saved:
    row = await session.get(SelfAssessment, assessment_id)
    if row is None:
        raise NoLongerNeeded("the self-assessment was removed")
    cycle = await session.get(Cycle, row.cycle_id)
    if cycle is None:
        raise NoLongerNeeded("the cycle was removed")
    employee = await _person(session, row.employee_id)
    manager = await queries.get_person(session, employee.manager_id or "")
    zone = zone_of(employee, policy, await queries.reported_timezone(session, employee.id))
    return Saved(row, employee, manager, cycle, True, 0, zone)


async def notice_content(engine: AsyncEngine, nudge: Nudge, *, policy: Policy) -> NoticeContent:
    """Load the record a notice announces; raise NoLongerNeeded if it is gone."""
    payload = json.loads(nudge.payload or "{}")
    kind = nudge.kind
    async with session_scope(engine) as session:
        recipient = await _person(session, nudge.recipient_id)
        if kind in (kinds.TALK_RECORD, kinds.TALK_SAVED, kinds.TALK_ACKNOWLEDGED):
            recorded = await _recorded_talk(session, _id(payload, "talk_id"))
            return NoticeContent(nudge, recipient, payload, recorded=recorded)
        if kind in (kinds.GOAL_PROPOSED, kinds.GOAL_SET, kinds.GOAL_DECIDED):
            goal = await session.get(Goal, _id(payload, "goal_id"))
            if goal is None:
                raise NoLongerNeeded("the goal was removed")
            employee = await _person(session, goal.employee_id)
            by_id = str(payload.get("by") or goal.set_by)
            by = await _person(session, by_id)
            return NoticeContent(
                nudge, recipient, payload, goal=goal, goal_employee=employee, goal_by=by
            )
        if kind == kinds.SELF_SUBMITTED:
            saved = await _saved(session, _id(payload, "assessment_id"), policy)
            return NoticeContent(nudge, recipient, payload, saved=saved)
        if kind in (
            kinds.REVIEW_SUMMARY,
            kinds.REVIEW_SAVED,
            kinds.REVIEW_ACKNOWLEDGED,
            kinds.REVIEW_DISAGREED,
        ):
            edited = bool(payload.get("edited"))
            review = await _review(session, _id(payload, "review_id"), edited=edited)
            talk = review.talk
            withheld = recipient.id != review.manager.id and not policy.hr_reads_content(
                talk.kind, talk.family
            )
            return NoticeContent(nudge, recipient, payload, review=review, withheld=withheld)
        if kind == kinds.MANAGER_CHANGED:
            manager = await _person(session, str(payload.get("manager_id") or ""))
            if recipient.manager_id != manager.id:
                raise NoLongerNeeded("they have had another manager since")
            before = payload.get("previous_id")
            previous = (
                await queries.get_person(session, before) if isinstance(before, str) else None
            )
            return NoticeContent(nudge, recipient, payload, manager=manager, previous=previous)
    raise NoLongerNeeded(f"unknown notice kind {kind}")


__all__ = ["NoticeContent", "notice_content"]
