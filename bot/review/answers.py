"""The employee's answer to a recorded review: acknowledge it, or disagree with a comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import notices
from bot.engine.kinds import (
    ONCE,
    REVIEW_ACKNOWLEDGED,
    REVIEW_DISAGREED,
    REVIEW_SUMMARY,
    review_subject,
    review_version,
)
from bot.errors import Invalid, NotAllowed, Problem
from bot.records.meeting import TEXT_LIMIT
from bot.review.interview_record import RecordedReview, loaded_review
from bot.text import is_blank
from storage import queries
from storage.db import session_scope
from storage.models import Nudge, Person, Review, Talk


@dataclass(frozen=True)
class ReviewResponse:
    """The employee's answer; `first` is False when they had answered before, `amended` True
    when this changed the comment of their disagreement. `hr` lists the active HR people to
    tell of a disagreement; `posted` are the summaries of this version the employee was sent
    (where to show the answer)."""

    record: RecordedReview
    hr: list[Person]
    first: bool
    posted: list[Nudge]
    amended: bool = False


async def answerable(engine: AsyncEngine, *, review_id: int, actor_id: str) -> Review:
    """The review, if the actor may answer it now (their own, and not acknowledged yet);
    else NotAllowed with the reason."""
    async with session_scope(engine) as session:
        review = await session.get(Review, review_id)
    if review is None:
        raise NotAllowed("review.refusal.unknown")
    if review.employee_id != actor_id:
        raise NotAllowed("review.refusal.not_yours")
    if review.acknowledged_at is not None:
        day = review.acknowledged_at.date().isoformat()
        raise NotAllowed("review.error.already_acknowledged", date=day)
    return review


async def respond_to_review(
    engine: AsyncEngine,
    *,
    review_id: int,
    actor_id: str,
    agree: bool,
    comment: str | None,
    now: datetime,
) -> ReviewResponse:
    """The employee acknowledges the review or disagrees with it (a comment is required);
    the first answer stands, and repeating one changes nothing."""
    comment = (comment or "").strip()
    async with session_scope(engine) as session:
        review = await session.get(Review, review_id)
        if review is None:
            raise NotAllowed("review.refusal.unknown")
        if review.employee_id != actor_id:
            raise NotAllowed("review.refusal.not_yours")
        if not agree and is_blank(comment):
            raise Invalid({"comment": Problem("review.error.comment_required")})
        if len(comment) > TEXT_LIMIT:
            raise Invalid({"comment": Problem("error.too_long", {"limit": TEXT_LIMIT})})
        # One conditional update, so that of two clicks at once only one is the first answer.
        first = await queries.answer_review(
            session, review_id, disagreement=None if agree else comment, now=now
        )
        amended = False
        if not first and not agree:
            amended = await _amend_disagreement(session, review, comment, now)
        if first and agree:
            await queries.acknowledge_talk(session, review.talk_id, now=now)
        hr: list[Person] = []
        if first and not agree:
            hr = [p for p in await queries.active_hr(session) if p.id != actor_id]
        # An edited review is answered again: each version's answer is its own notice.
        talk = await session.get(Talk, review.talk_id)
        version = review_version(talk.submission_key) if talk is not None else ONCE
        if first:
            kind = REVIEW_ACKNOWLEDGED if agree else REVIEW_DISAGREED
            told = [review.manager_id] if agree else [p.id for p in hr] + [review.manager_id]
            for to in dict.fromkeys(told):
                if to == review.employee_id:
                    continue
                await notices.owe(
                    session,
                    kind=kind,
                    recipient_id=to,
                    subject=review_subject(review.id),
                    about_id=review.employee_id,
                    payload={"review_id": review.id},
                    version=version,
                    now=now,
                )
        await session.commit()
        await session.refresh(review)
        record = await loaded_review(session, review, fresh=first)
        posted = await notices.posted(
            session,
            kinds=(REVIEW_SUMMARY,),
            subject=review_subject(review.id),
            recipient_id=actor_id,
            version=version,
        )
    return ReviewResponse(record, hr, first, posted, amended)


async def _amend_disagreement(
    session: AsyncSession, review: Review, comment: str, now: datetime
) -> bool:
    """A disagreement sent again (pressed again after "not saved yet", perhaps changed):
    its latest comment stands; True if that changed it. An acknowledged review stays
    acknowledged, and the comment is refused rather than dropped unseen."""
    await session.refresh(review)
    if review.acknowledged_at is not None:
        day = review.acknowledged_at.date().isoformat()
        raise Invalid({"comment": Problem("review.error.already_acknowledged", {"date": day})})
    return await queries.change_disagreement(session, review.id, comment=comment, now=now)
