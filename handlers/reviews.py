"""The review interview (绩效面谈) in Slack: `/checkin review @someone`, its modal, and the
employee's Acknowledge / Disagree. Validate and save before the ack; DMs go out after it."""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import review_answers, reviews
from bot.deps import Deps
from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.logs import failure
from bot.talks import ActionDraft, find_employee, submission_key
from bot.text import clean
from handlers import ids, parse
from handlers.blocks import review_views as rv
from handlers.blocks.messages import refusal
from handlers.notify import publish_home
from prompts import t

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the review listeners."""
    app.view(rv.REVIEW_MODAL)(partial(submit_review, deps=deps))
    app.view(rv.DISAGREE_MODAL)(partial(submit_disagreement, deps=deps))
    app.action(rv.ACKNOWLEDGE)(partial(acknowledge_review, deps=deps))
    app.action(rv.DISAGREE)(partial(open_disagreement, deps=deps))


async def review_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str, locale: str
) -> None:
    """`/checkin review @someone`: open the review modal (in edit mode if one is recorded)."""
    request = parse.checkin_command(args)
    if request.action != "open":
        await respond(response_type="ephemeral", **rv.usage(locale).as_kwargs())
        return
    try:
        employee_id = await find_employee(
            deps.engine, user_id=request.user_id, handle=request.handle
        )
        form = await reviews.review_form(
            deps.engine,
            actor_id=command["user_id"],
            employee_id=employee_id,
            policy=deps.policy,
            now=deps.clock(),
        )
    except NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
        await respond(response_type="ephemeral", **message.as_kwargs())
        return
    view = rv.review_modal(form, policy=deps.policy, locale=locale)
    await client.views_open(trigger_id=command["trigger_id"], view=view)


def _element(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    return (values.get(block_id) or {}).get(ids.VALUE) or {}


def _date(values: dict[str, Any], block_id: str) -> date | None:
    raw = _element(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def review_draft(view: dict[str, Any]) -> reviews.ReviewDraft:
    """The review modal's state (and its routing data) as a draft; nothing trusted."""
    values = view.get("state", {}).get("values", {})
    meta = parse.metadata(view)

    def text(block_id: str) -> str:
        return clean(_element(values, block_id).get("value") or "")

    def selected(block_id: str) -> str | None:
        return (_element(values, block_id).get("selected_option") or {}).get("value")

    actions = []
    for n in range(1, reviews.MAX_DEVELOPMENT + 1):
        owner = selected(rv.block_for(f"action_{n}_owner"))
        actions.append(
            ActionDraft(
                text=text(rv.block_for(f"action_{n}_text")),
                owner=owner if owner in ("manager", "employee") else None,  # type: ignore[arg-type]
                due_on=_date(values, rv.block_for(f"action_{n}_due")),
            )
        )
    chosen = _element(values, rv.DECISIONS_BLOCK).get("selected_options") or []
    review_id = meta.get("r")
    return reviews.ReviewDraft(
        employee_id=str(meta.get("e", "")),
        rating=selected(rv.RATING),
        evidence=text(rv.EVIDENCE),
        held_on=_date(values, rv.HELD_ON),
        minutes=text(rv.MINUTES),
        gaps=text(rv.GAPS),
        next_goals=text(rv.NEXT_GOALS),
        actions=tuple(actions),
        decisions=tuple(str(o.get("value", "")) for o in chosen),
        employee_view=text(rv.EMPLOYEE_VIEW),
        review_id=int(review_id) if str(review_id).isdigit() else None,
    )


async def submit_review(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Save the review, or keep the modal open with the problem on the exact block."""
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    key = submission_key(view["id"], view.get("state", {}).get("values", {}))
    try:
        recorded = await reviews.record_review(
            deps.engine,
            actor_id=user_id,
            draft=review_draft(view),
            policy=deps.policy,
            now=deps.clock(),
            key=key,
        )
    except Invalid as invalid:
        # A problem with a field the view does not show (forged) lands on the rating.
        shown = {block.get("block_id") for block in view.get("blocks", [])}
        errors: dict[str, str] = {}
        for name, problem in invalid.problems.items():
            block = rv.block_for(name) if rv.block_for(name) in shown else rv.RATING
            errors.setdefault(block, t(problem.key, locale, **problem.params))
        await ack(response_action="errors", errors=errors)
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={rv.RATING: text})
        return
    except SaveFailed:
        failure(log, "saving a review failed; the form stays open")
        text = t("review.error.save_failed", locale)
        await ack(response_action="errors", errors={rv.RATING: text})
        return
    await ack()
    if recorded.fresh:
        await _announce(deps, recorded, actor_id=user_id)


async def _announce(deps: Deps, rec: reviews.RecordedReview, *, actor_id: str) -> None:
    """Send the notices written with the review (the summary to the employee, confirmations
    to whoever recorded it and the manager) and refresh both Home tabs."""
    deps.kick()
    for user_id in dict.fromkeys([rec.employee.slack_id, rec.manager.slack_id]):
        await publish_home(deps, user_id)


async def _update_summary(
    deps: Deps, rec: reviews.RecordedReview, channel: str | None, ts: str | None, locale: str
) -> None:
    """Redraw the employee's summary with their answer in place of the buttons."""
    if not channel or not ts:
        return
    update, following = rv.summary_update(rec, policy=deps.policy, locale=locale)
    try:
        client = deps.gateway.client  # the clicked post is the last of a long summary
        await client.chat_update(channel=channel, ts=ts, **update.as_kwargs())
        for part in following:
            await client.chat_postMessage(channel=channel, **part.as_kwargs())
    except SlackApiError:
        failure(log, "could not update the review summary in %s", channel)


async def acknowledge_review(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """Acknowledge: store it once, update the message, tell the manager."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    channel = (body.get("channel") or {}).get("id")
    try:
        answer = await review_answers.respond_to_review(
            deps.engine,
            review_id=int(action["value"]),
            actor_id=user_id,
            agree=True,
            comment=None,
            now=deps.clock(),
        )
    except (NotAllowed, ValueError) as refused:
        key = refused.key if isinstance(refused, NotAllowed) else "review.refusal.unknown"
        message = refusal(key, locale)
        await client.chat_postEphemeral(channel=channel, user=user_id, **message.as_kwargs())
        return
    if answer.first:
        deps.kick()  # the manager's notice was written with the answer
    ts = (body.get("message") or {}).get("ts")
    await _update_summary(deps, answer.record, channel, ts, locale)


async def open_disagreement(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """Disagree: open the small modal for the comment (who may answer is checked on submit)."""
    await ack()
    locale = await deps.locale_for(body["user"]["id"])
    view = rv.disagree_modal(
        str(action.get("value", "")),
        channel=str((body.get("channel") or {}).get("id", "")),
        ts=str((body.get("message") or {}).get("ts", "")),
        locale=locale,
    )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def submit_disagreement(
    ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps
) -> None:
    """Store the disagreement with its comment; tell every HR person and the manager."""
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    meta = parse.metadata(view)
    comment = clean(
        _element(view.get("state", {}).get("values", {}), rv.COMMENT).get("value") or ""
    )
    try:
        if not str(meta.get("r", "")).isdigit():
            raise NotAllowed("review.refusal.unknown")
        answer = await review_answers.respond_to_review(
            deps.engine,
            review_id=int(meta["r"]),
            actor_id=user_id,
            agree=False,
            comment=comment,
            now=deps.clock(),
        )
    except Invalid as invalid:
        problem = next(iter(invalid.problems.values()))
        await ack(
            response_action="errors", errors={rv.COMMENT: t(problem.key, locale, **problem.params)}
        )
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={rv.COMMENT: text})
        return
    await ack()
    if answer.first:
        deps.kick()  # HR's and the manager's notices were written with the disagreement
    rec = answer.record
    await _update_summary(deps, rec, meta.get("c"), meta.get("ts"), locale)
