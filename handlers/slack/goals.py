"""Goals and milestones in Slack: `/checkin goal`, `/checkin milestone`, their buttons."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.engine import kinds
from bot.engine.kinds import GOAL_PROPOSED, GOAL_SET
from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.logs import failure
from bot.org.people import zone_of
from bot.records import goals, milestones
from bot.records.talks import find_employee, submission_key
from bot.slack.deps import Deps
from handlers.payload import ECHO_LIMIT
from handlers.slack import ids, parse
from handlers.slack.blocks import goal_views as gv
from handlers.slack.blocks import kit
from handlers.slack.blocks.messages import refusal
from handlers.slack.budget import Budget, late, locale_within, not_saved_yet, write
from handlers.slack.notify import note_payload_place, redraw_posted
from handlers.slack.opening import open_form
from handlers.slack.tell import answer
from prompts import t
from storage.models import Goal

log = logging.getLogger(__name__)


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the goal and milestone listeners."""
    app.view(ids.GOAL_MODAL)(partial(submit_goal, deps=deps))
    app.action(ids.GOAL_CONFIRM)(partial(decide_goal, deps=deps))
    app.action(ids.GOAL_DECLINE)(partial(decide_goal, deps=deps))
    app.action(ids.MILESTONE_DONE)(partial(mark_milestone_done, deps=deps))


# -- goals ------------------------------------------------------------------------------------
async def goal_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str
) -> None:
    """`/checkin goal [@someone]`: open the goal modal."""
    request = parse.checkin_command(args)
    user_id = command["user_id"]
    if request.action not in ("pick", "open"):
        locale = await deps.locale_for(user_id)
        await answer(deps, user_id, gv.usage("goal.usage", locale), respond=respond)
        return

    async def form(locale: str) -> dict[str, Any]:
        employee_id = None
        if request.action == "open":
            named = await deps.person_key(request.user_id) if request.user_id else None
            employee_id = await find_employee(deps.engine, person_id=named, handle=request.handle)
        found = await goals.goal_form(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            employee_id=employee_id,
            policy=deps.policy,
            now=deps.clock(),
        )
        return gv.goal_modal(found, locale=locale)

    await open_form(
        client, deps, trigger_id=command["trigger_id"], user_id=user_id, build=form, respond=respond
    )


def _goal_block(view: dict[str, Any], field_name: str) -> str:
    """The block that shows a problem with a goal field: the field's own, when the view
    shows it (a goal for one person has no picker), else the title."""
    block = ids.GOAL_FIELD_BLOCKS.get(field_name, ids.GOAL_TITLE)
    return block if block in parse.shown_blocks(view) else ids.GOAL_TITLE


async def submit_goal(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Save the goal, or keep the modal open with the problem on the exact field."""
    budget = Budget()
    user_id = body["user"]["id"]
    key = submission_key(ids.GOAL_MODAL, user_id, view["id"])
    now = deps.clock()

    async def save() -> goals.GoalCreated:
        typed = parse.goal_submission(view)  # Invalid when nobody is chosen or a date is bad
        return await goals.create_goal(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            employee_id=await deps.person_ref(typed.employee_id),
            title=typed.title,
            measure=typed.measure,
            due_on=typed.due_on,
            now=now,
            policy=deps.policy,
            key=key,
        )

    work = write(key, save)
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(work):
        text = not_saved_yet(known, "goal.modal.save")
        await ack(response_action="errors", errors={ids.GOAL_TITLE: text})
        created = await late(work, "a goal")
        if created is not None:
            await _announce(deps, created)
        return
    locale = known or deps.policy.locale
    try:
        created = work.result()
    except Invalid as invalid:
        errors: dict[str, str] = {}
        for name, problem in invalid.problems.items():
            text = t(problem.key, locale, **problem.params)
            errors.setdefault(_goal_block(view, name), text)
        await ack(response_action="errors", errors=errors)
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={_goal_block(view, "employee"): text})
        return
    except SaveFailed:
        failure(log, "saving a goal failed; the form stays open")
        text = t("goal.error.save_failed", locale)
        await ack(response_action="errors", errors={ids.GOAL_TITLE: text})
        return
    await ack()
    await _announce(deps, created)


async def _announce(deps: Deps, created: goals.GoalCreated) -> None:
    """A new goal's notice goes out now (a proposal to the manager to decide, a set goal to
    the employee); a goal changed by a resubmission is redrawn where it was sent."""
    if created.created:
        deps.kick()
    elif created.amended:
        subject = kinds.goal_subject(created.goal.id)
        await redraw_posted(deps, subject=subject, kinds=(GOAL_PROPOSED, GOAL_SET))


async def decide_goal(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """Confirm or Decline on a proposal: store it, update the proposal where it was sent to
    the decider, tell the employee."""
    await ack()
    user_id, clicked = body["user"]["id"], parse.clicked(body)
    choice = parse.goal_decision(action)
    locale = await deps.locale_for(user_id)
    now = deps.clock()
    try:
        decided = await goals.decide_goal(
            deps.engine,
            goal_id=choice.goal_id,
            actor_id=await deps.person_key(user_id),
            confirm=choice.confirm,
            now=now,
        )
    except NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
        await answer(deps, user_id, message, client=client, channel=clicked.channel)
        return
    on = now.astimezone(zone_of(decided.decided_by, deps.policy)).date()
    updated = gv.proposal_message(
        decided.goal,
        employee=decided.employee,
        locale=locale,
        decided_by=decided.decided_by if decided.first else None,
        on=on,
    )
    if decided.first:
        deps.kick()  # the employee's notice was written with the decision
    # The proposal is updated only where the outbox says it was sent to this decider; its
    # stored ts is the post with the buttons (the last part of a long proposal).
    note_payload_place(decided.posted, clicked, what="goal proposal")
    before = gv.proposal_message(
        Goal(**{**decided.goal.model_dump(), "status": "proposed"}),
        employee=decided.employee,
        locale=locale,
    )
    update, following = updated.replacing(before)
    for row in decided.posted:
        await client.chat_update(channel=row.channel, ts=row.ts, **update.as_kwargs())
        for part in following:
            await client.chat_postMessage(channel=row.channel, **part.as_kwargs())


# -- milestones -------------------------------------------------------------------------------
async def milestone_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str
) -> None:
    """`/checkin milestone "NAME" @person … [DATE]`: register a milestone (once, however
    often the command is sent; see `milestones.milestone_key`)."""
    user_id = command["user_id"]
    locale = await deps.locale_for(user_id)
    try:
        request = parse.milestone_request(args)
        named = await deps.person_keys(m.user_id for m in request.people if m.user_id)
        participant_ids = [
            await find_employee(
                deps.engine,
                person_id=named.get(m.user_id, "") if m.user_id else None,
                handle=m.handle,
            )
            for m in request.people
        ]
        info = await milestones.register_milestone(
            deps.engine,
            actor_id=await deps.person_key(user_id),
            name=request.name,
            participant_ids=participant_ids,
            due_on=request.due_on,
            now=deps.clock(),
            policy=deps.policy,
        )
    except (parse.Unreadable, NotAllowed) as problem:
        # A name typed in the command may be in a refusal too: echoed shortened, like the rest
        params = {k: kit.clip(str(v), ECHO_LIMIT) for k, v in problem.params.items()}
        problem_text = kit.md(problem.key, locale, **params)
        message = gv.usage("milestone.usage", locale, problem=problem_text)
    except Invalid as invalid:
        first = next(iter(invalid.problems.values()))
        problem_text = kit.md(first.key, locale, **first.params)
        message = gv.usage("milestone.usage", locale, problem=problem_text)
    except SaveFailed:
        failure(log, "saving a milestone failed")
        message = refusal("milestone.error.save_failed", locale)
    else:
        message = gv.milestone_registered(info, locale=locale)
    await answer(deps, user_id, message, respond=respond)


async def mark_milestone_done(
    ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, deps: Deps
) -> None:
    """The "Mark done" button of a milestone: record it once and replace the message."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    try:
        info = await milestones.mark_done(
            deps.engine,
            milestone_id=parse.button_record_id(action),
            actor_id=await deps.person_key(user_id),
            now=deps.clock(),
        )
    except NotAllowed as refused:
        message = refusal(refused.key, locale, **refused.params)
        await answer(deps, user_id, message, respond=respond)
        return
    done_at = info.milestone.done_at or deps.clock()
    on = done_at.astimezone(zone_of(info.actor, deps.policy)).date()
    message = gv.milestone_done(info, locale=locale, on=on)
    await answer(deps, user_id, message, respond=respond, replace=True)
