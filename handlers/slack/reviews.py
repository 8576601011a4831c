"""The review interview (绩效面谈) in Slack: `/checkin review @someone`, its modal, and the
employee's Acknowledge / Disagree. Validate and save before the ack; DMs go out after it."""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.engine import kinds
from bot.engine.kinds import REVIEW_DISAGREED, REVIEW_SAVED, REVIEW_SUMMARY
from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.logs import failure
from bot.records.talks import find_employee, form_digest, submission_key
from bot.review import answers, interview_record
from bot.slack.deps import Deps
from handlers.slack import ids, parse
from handlers.slack.blocks import review_views as rv
from handlers.slack.blocks.messages import refusal
from handlers.slack.budget import Budget, late, locale_within, not_saved_yet, write
from handlers.slack.notify import note_payload_place, publish_homes_of, redraw_posted
from handlers.slack.opening import open_form
from handlers.slack.tell import answer
from prompts import t

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the review listeners."""
    app.view(ids.REVIEW_MODAL)(partial(submit_review, deps=deps))
    app.view(ids.REVIEW_DISAGREE_MODAL)(partial(submit_disagreement, deps=deps))
    app.action(ids.REVIEW_ACKNOWLEDGE)(partial(acknowledge_review, deps=deps))
    app.action(ids.REVIEW_DISAGREE)(partial(open_disagreement, deps=deps))


async def review_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str
) -> None:
    """`/checkin review @someone`: open the review modal (in edit mode if one is recorded)."""
    request = parse.checkin_command(args)
    user_id = command["user_id"]
    if request.action != "open":
        locale = await deps.locale_for(user_id)
        await answer(deps, user_id, rv.usage(locale), respond=respond)
        return

    async def form(locale: str) -> dict[str, Any]:
        named = await deps.person_key(request.user_id) if request.user_id else None
        employee_id = await find_employee(deps.engine, person_id=named, handle=request.handle)
        found = await interview_record.review_form(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            employee_id=employee_id,
            policy=deps.policy,
            now=deps.clock(),
            platform="slack",
        )
        return rv.review_modal(found, policy=deps.policy, locale=locale)

    await open_form(
        client, deps, trigger_id=command["trigger_id"], user_id=user_id, build=form, respond=respond
    )


async def submit_review(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Save the review, or keep the modal open with the problem on the exact block."""
    budget = Budget()
    user_id = body["user"]["id"]
    key = submission_key(ids.REVIEW_MODAL, user_id, view["id"])
    digest = form_digest(parse.form_values(view))
    now = deps.clock()

    async def save() -> interview_record.RecordedReview:
        draft = parse.review_draft(view)  # Invalid, like the domain's, if a date is unreadable
        draft = replace(draft, employee_id=await deps.person_ref(draft.employee_id))
        return await interview_record.record_review(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            draft=draft,
            policy=deps.policy,
            now=now,
            key=key,
            digest=digest,
        )

    work = write(key, save)
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(work):
        text = not_saved_yet(known, "review.modal.save")
        await ack(response_action="errors", errors={ids.REVIEW_RATING: text})
        recorded = await late(work, "a review")
        if recorded is not None:
            await _announce(deps, recorded)
        return
    locale = known or deps.policy.locale
    try:
        recorded = work.result()
    except Invalid as invalid:
        # A problem with a field the view does not show (forged) lands on the rating.
        shown = parse.shown_blocks(view)
        errors: dict[str, str] = {}
        for name, problem in invalid.problems.items():
            block = ids.review_block(name)
            block = block if block in shown else ids.REVIEW_RATING
            errors.setdefault(block, t(problem.key, locale, **problem.params))
        await ack(response_action="errors", errors=errors)
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={ids.REVIEW_RATING: text})
        return
    except SaveFailed:
        failure(log, "saving a review failed; the form stays open")
        text = t("review.error.save_failed", locale)
        await ack(response_action="errors", errors={ids.REVIEW_RATING: text})
        return
    await ack()
    await _announce(deps, recorded)


async def _announce(deps: Deps, rec: interview_record.RecordedReview) -> None:
    """Send the notices written with the review (the summary to the employee, confirmations
    to whoever recorded it and the manager), or redraw them where they were sent when a
    resubmission changed it, and refresh both Home tabs."""
    if rec.fresh:
        deps.kick()
    elif rec.amended:
        await redraw_posted(
            deps,
            subject=kinds.review_subject(rec.review.id),
            kinds=(REVIEW_SUMMARY, REVIEW_SAVED),
            version=kinds.review_version(rec.talk.submission_key),
        )
    else:
        return
    await publish_homes_of(deps, [rec.employee.id, rec.manager.id])


async def _redraw_summary(
    deps: Deps, response: answers.ReviewResponse, body: dict[str, Any]
) -> None:
    """Redraw the employee's summary, with their answer in place of the buttons, where the
    outbox says it was sent (never where the payload says)."""
    clicked = parse.clicked(body)
    if clicked != parse.Clicked(None, None):  # a click on the summary (not the modal's submit)
        note_payload_place(response.posted, clicked, what="review summary")
    if not response.posted:
        return
    locale = await deps.locale_for_person(response.record.employee.id)
    # the stored ts is the summary's last post (with the buttons); a long answer may need one
    # more post after it
    update, following = rv.summary_update(response.record, policy=deps.policy, locale=locale)
    client = deps.gateway.client
    for row in response.posted:
        try:
            await client.chat_update(channel=row.channel, ts=row.ts, **update.as_kwargs())
            for part in following:
                await client.chat_postMessage(channel=row.channel, **part.as_kwargs())
        except SlackApiError:
            failure(log, "could not update review summary %s", row.id)


async def acknowledge_review(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """Acknowledge: store it once, update the message, tell the manager."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    try:
        response = await answers.respond_to_review(
            deps.engine,
            review_id=parse.button_record_id(action),
            actor_id=await deps.person_key(user_id),
            agree=True,
            comment=None,
            now=deps.clock(),
        )
    except NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
        channel = parse.clicked(body).channel
        await answer(deps, user_id, message, client=client, channel=channel)
        return
    if response.first:
        deps.kick()  # the manager's notice was written with the answer
    await _redraw_summary(deps, response, body)


async def open_disagreement(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, respond: Any, deps: Deps
) -> None:
    """Disagree: open the small modal for the comment, if this is the actor's review to
    answer (checked again on submit). It carries the review's id only."""
    await ack()
    user_id, review_id = body["user"]["id"], parse.button_record_id(action)

    async def form(locale: str) -> dict[str, Any]:
        actor = await deps.person_key(user_id)
        review = await answers.answerable(deps.engine, review_id=review_id, actor_id=actor)
        return rv.disagree_modal(review.id or 0, locale=locale)

    await open_form(
        client, deps, trigger_id=body["trigger_id"], user_id=user_id, build=form, respond=respond
    )


async def submit_disagreement(
    ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    """Store the disagreement with its comment; tell every HR person and the manager."""
    budget = Budget()
    user_id = body["user"]["id"]
    typed = parse.disagreement(view)
    now = deps.clock()

    async def save() -> answers.ReviewResponse:
        return await answers.respond_to_review(
            deps.engine,
            review_id=typed.review_id,
            actor_id=await deps.person_key(user_id),
            agree=False,
            comment=typed.comment,
            now=now,
        )

    work = write(f"{ids.REVIEW_DISAGREE_MODAL}:{user_id}:{typed.review_id}", save)
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(work):
        text = not_saved_yet(known, "review.disagree_modal.send")
        await ack(response_action="errors", errors={ids.REVIEW_COMMENT: text})
        response = await late(work, "a disagreement")
        if response is not None:
            await _after_disagreement(deps, response, body)
        return
    locale = known or deps.policy.locale
    try:
        response = work.result()
    except Invalid as invalid:
        problem = next(iter(invalid.problems.values()))
        text = t(problem.key, locale, **problem.params)
        await ack(response_action="errors", errors={ids.REVIEW_COMMENT: text})
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={ids.REVIEW_COMMENT: text})
        return
    await ack()
    await _after_disagreement(deps, response, body)


async def _after_disagreement(
    deps: Deps, response: answers.ReviewResponse, body: dict[str, Any]
) -> None:
    """Show the answer in the employee's summary; send HR's and the manager's notices (or,
    when the comment changed, redraw them where they were sent)."""
    if response.first:
        deps.kick()  # HR's and the manager's notices were written with the disagreement
    elif response.amended:
        version = kinds.review_version(response.record.talk.submission_key)
        subject = kinds.review_subject(response.record.review.id)
        await redraw_posted(deps, subject=subject, kinds=(REVIEW_DISAGREED,), version=version)
    await _redraw_summary(deps, response, body)
