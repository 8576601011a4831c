"""The employee's answer to a recorded review (acknowledge, or disagree with a comment), and
the latest review of each employee."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
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
from storage.db import session_scope
from storage.models import Cycle, Nudge, Person, Review, Talk


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
        answer = (
            {"acknowledged_at": now} if agree else {"disagreed_at": now, "disagreement": comment}
        )
        # One conditional update, so that of two clicks at once only one is the first answer.
        unanswered = (Review.acknowledged_at.is_(None), Review.disagreed_at.is_(None))  # type: ignore[union-attr]
        result = await session.execute(
            update(Review)
            .where(Review.id == review_id, *unanswered)
            .values(updated_at=now, **answer)
            .execution_options(synchronize_session=False)
        )
        first = result.rowcount == 1  # type: ignore[attr-defined]
        amended = False
        if not first and not agree:
            amended = await _amend_disagreement(session, review, comment, now)
        if first and agree:
            await session.execute(
                update(Talk)
                .where(Talk.id == review.talk_id)  # type: ignore[arg-type]
                .values(acknowledged_at=now)
                .execution_options(synchronize_session=False)
            )
        hr: list[Person] = []
        if first and not agree:
            rows = await session.execute(
                select(Person)
                .where(Person.is_hr.is_(True), Person.active.is_(True))  # type: ignore[attr-defined]
                .order_by(Person.slack_id)
            )
            hr = [p for p in rows.scalars() if p.slack_id != actor_id]
        # An edited review is answered again: each version's answer is its own notice.
        talk = await session.get(Talk, review.talk_id)
        version = review_version(talk.submission_key) if talk is not None else ONCE
        if first:
            kind = REVIEW_ACKNOWLEDGED if agree else REVIEW_DISAGREED
            told = [review.manager_id] if agree else [p.slack_id for p in hr] + [review.manager_id]
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
    result = await session.execute(
        update(Review)
        .where(
            Review.id == review.id,  # type: ignore[arg-type]
            Review.disagreed_at.is_not(None),  # type: ignore[union-attr]
            Review.disagreement != comment,  # type: ignore[arg-type]
        )
        .values(disagreement=comment, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def latest_reviews(session: AsyncSession, employee_ids: list[str]) -> dict[str, Review]:
    """Each employee's review of their latest reviewed cycle, in one query."""
    if not employee_ids:
        return {}
    order = (Cycle.ends_on.desc(), Review.id.desc())  # type: ignore[attr-defined,union-attr]
    ranked = (
        select(
            Review.id,
            func.row_number().over(partition_by=Review.employee_id, order_by=order).label("rank"),
        )
        .join(Cycle, Cycle.id == Review.cycle_id)  # type: ignore[arg-type]
        .where(Review.employee_id.in_(employee_ids))  # type: ignore[attr-defined]
        .subquery()
    )
    query = select(Review).join(ranked, ranked.c.id == Review.id).where(ranked.c.rank == 1)
    return {r.employee_id: r for r in (await session.execute(query)).scalars()}
