"""Goals and milestones in Slack: `/checkin goal`, `/checkin milestone`, their buttons."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.engine.kinds import GOAL_PROPOSED, GOAL_SET
from bot.errors import Invalid, NotAllowed, SaveFailed
from bot.logs import failure
from bot.org.people import zone_of
from bot.records import goals, milestones
from bot.records.talks import find_employee, submission_key
from bot.slack.deps import Deps
from bot.text import clean
from handlers.slack import ids, parse
from handlers.slack.blocks import goal_views as gv
from handlers.slack.blocks import kit
from handlers.slack.blocks.messages import Message, refusal
from handlers.slack.budget import Budget, late, locale_within, not_saved_yet, write
from handlers.slack.notify import note_payload_place, redraw_posted
from handlers.slack.opening import open_form
from prompts import t
from storage.models import Goal

log = logging.getLogger(__name__)

_QUOTED = re.compile(r'^\s*["“”]([^"“”]*)["“”]\s*(.*)$', re.DOTALL)
_TOKEN = re.compile(r"<[^>]*>|\S+")
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ECHO_LIMIT = 100


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach the goal and milestone listeners."""
    app.view(gv.GOAL_MODAL)(partial(submit_goal, deps=deps))
    app.action(gv.GOAL_CONFIRM)(partial(decide_goal, deps=deps))
    app.action(gv.GOAL_DECLINE)(partial(decide_goal, deps=deps))
    app.action(gv.MILESTONE_DONE)(partial(mark_milestone_done, deps=deps))


# -- goals ------------------------------------------------------------------------------------
async def goal_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str
) -> None:
    """`/checkin goal [@someone]`: open the goal modal."""
    request = parse.checkin_command(args)
    user_id = command["user_id"]
    if request.action not in ("pick", "open"):
        locale = await deps.locale_for(user_id)
        await respond(response_type="ephemeral", **gv.usage("goal.usage", locale).as_kwargs())
        return

    async def form(locale: str) -> dict[str, Any]:
        employee_id = None
        if request.action == "open":
            employee_id = await find_employee(
                deps.engine, user_id=request.user_id, handle=request.handle
            )
        found = await goals.goal_form(
            deps.engine,
            actor_id=user_id,
            employee_id=employee_id,
            policy=deps.policy,
            now=deps.clock(),
        )
        return gv.goal_modal(found, locale=locale)

    await open_form(
        client, deps, trigger_id=command["trigger_id"], user_id=user_id, build=form, respond=respond
    )


def _input(values: dict[str, Any], block_id: str, action_id: str = ids.VALUE) -> dict[str, Any]:
    element = (values.get(block_id) or {}).get(action_id) or {}
    typed = element.get("value")
    return {**element, "value": clean(typed)} if isinstance(typed, str) else element


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


async def submit_goal(ack: Any, body: dict[str, Any], view: dict[str, Any], deps: Deps) -> None:
    """Save the goal, or keep the modal open with the problem on the exact field."""
    budget = Budget()
    user_id = body["user"]["id"]
    values = view.get("state", {}).get("values", {})
    picked = gv.GOAL_EMPLOYEE in values
    if picked:
        picked_option = _input(values, gv.GOAL_EMPLOYEE, gv.GOAL_EMPLOYEE_PICK)
        employee_id = (picked_option.get("selected_option") or {}).get("value")
    else:
        employee_id = parse.metadata(view).get("e")
    refusal_block = gv.GOAL_EMPLOYEE if picked else gv.GOAL_TITLE
    if not employee_id:
        locale = await locale_within(deps, user_id, budget) or deps.policy.locale
        await ack(
            response_action="errors",
            errors={refusal_block: t("goal.error.employee_required", locale)},
        )
        return
    key = submission_key(gv.GOAL_MODAL, user_id, view["id"])
    now = deps.clock()
    work = write(
        key,
        lambda: goals.create_goal(
            deps.engine,
            actor_id=user_id,
            employee_id=str(employee_id),
            title=_input(values, gv.GOAL_TITLE).get("value") or "",
            measure=_input(values, gv.GOAL_MEASURE).get("value") or "",
            due_on=_date(_input(values, gv.GOAL_DUE).get("selected_date")),
            now=now,
            policy=deps.policy,
            key=key,
        ),
    )
    known = await locale_within(deps, user_id, budget)
    if not await budget.finished(work):
        text = not_saved_yet(known, "goal.modal.save")
        await ack(response_action="errors", errors={gv.GOAL_TITLE: text})
        created = await late(work, "a goal")
        if created is not None:
            await _announce(deps, created)
        return
    locale = known or deps.policy.locale
    try:
        created = work.result()
    except Invalid as invalid:
        blocks = {**gv.GOAL_FIELD_BLOCKS, "employee": refusal_block}
        errors = {
            blocks[name]: t(p.key, locale, **p.params) for name, p in invalid.problems.items()
        }
        await ack(response_action="errors", errors=errors)
        return
    except NotAllowed as refused:
        text = t(refused.key, locale, **refused.params)
        await ack(response_action="errors", errors={refusal_block: text})
        return
    except SaveFailed:
        failure(log, "saving a goal failed; the form stays open")
        await ack(
            response_action="errors", errors={gv.GOAL_TITLE: t("goal.error.save_failed", locale)}
        )
        return
    await ack()
    await _announce(deps, created)


async def _announce(deps: Deps, created: goals.GoalCreated) -> None:
    """A new goal's notice goes out now (a proposal to the manager to decide, a set goal to
    the employee); a goal changed by a resubmission is redrawn where it was sent."""
    if created.created:
        deps.kick()
    elif created.amended:
        subject = f"goal:{created.goal.id}"
        await redraw_posted(deps, subject=subject, kinds=(GOAL_PROPOSED, GOAL_SET))


async def decide_goal(
    ack: Any, body: dict[str, Any], action: dict[str, Any], client: Any, deps: Deps
) -> None:
    """Confirm or Decline on a proposal: store it, update the proposal where it was sent to
    the decider, tell the employee."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    channel = (body.get("channel") or {}).get("id")
    now = deps.clock()
    try:
        decided = await goals.decide_goal(
            deps.engine,
            goal_id=int(action["value"]),
            actor_id=user_id,
            confirm=action["action_id"] == gv.GOAL_CONFIRM,
            now=now,
        )
    except (NotAllowed, ValueError) as refused:
        key = refused.key if isinstance(refused, NotAllowed) else "goal.refusal.unknown_goal"
        params = refused.params if isinstance(refused, NotAllowed) else {}
        message = refusal(key, locale, **params)
        await client.chat_postEphemeral(channel=channel, user=user_id, **message.as_kwargs())
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
    note_payload_place(decided.posted, channel, (body.get("message") or {}).get("ts"),
                       what="goal proposal")  # fmt: skip
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
@dataclass(frozen=True)
class Mention:
    """A person named in a command: by Slack id, or by a plain `@name`."""

    user_id: str | None = None
    handle: str | None = None


@dataclass(frozen=True)
class MilestoneRequest:
    """What `/checkin milestone …` asked for."""

    name: str
    people: tuple[Mention, ...]
    due_on: date | None


class Unreadable(Exception):
    """The command text is not in the expected form; `key` is the prompt explaining why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


def milestone_request(text: str) -> MilestoneRequest:
    """Read `"NAME" @person … [YYYY-MM-DD]` (straight or curly quotes; `<@U1|a>`, `<@U1>`,
    `@name`)."""
    quoted = _QUOTED.match(clean(text or ""))
    if quoted is None or not quoted.group(1).strip():
        raise Unreadable("milestone.error.no_name")
    tokens = _TOKEN.findall(quoted.group(2))
    people: list[Mention] = []
    due_on = None
    for position, token in enumerate(tokens, start=1):
        if match := _MENTION.match(token):
            people.append(Mention(user_id=match.group(1)))
        elif token.startswith("@") and len(token) > 1:
            people.append(Mention(handle=token[1:]))
        elif position == len(tokens) and any(ch.isdigit() for ch in token):
            due_on = _date(token) if _DATE.match(token) else None
            if due_on is None:
                raise Unreadable("milestone.error.bad_date", value=token)
        else:
            raise Unreadable("milestone.error.unreadable", value=token)
    if not people:
        raise Unreadable("milestone.error.no_people")
    # Slack sends a command's `&`, `<` and `>` as entities: the name is stored as typed
    return MilestoneRequest(kit.unescape(quoted.group(1)).strip(), tuple(people), due_on)


async def milestone_command(
    command: dict[str, Any], respond: Any, client: Any, deps: Deps, args: str
) -> None:
    """`/checkin milestone "NAME" @person … [DATE]`: register a milestone (once, however
    often the command is sent; see `milestones.milestone_key`)."""
    locale = await deps.locale_for(command["user_id"])
    try:
        request = milestone_request(args)
        participant_ids = [
            await find_employee(deps.engine, user_id=m.user_id, handle=m.handle)
            for m in request.people
        ]
        info = await milestones.register_milestone(
            deps.engine,
            actor_id=command["user_id"],
            name=request.name,
            participant_ids=participant_ids,
            due_on=request.due_on,
            now=deps.clock(),
            policy=deps.policy,
        )
    except (Unreadable, NotAllowed) as problem:
        # What we could not read is echoed back, shortened visibly: it is a hint, not a record.
        params = {k: kit.clip(str(v), ECHO_LIMIT) for k, v in problem.params.items()}
        message = gv.usage("milestone.usage", locale, problem=kit.md(problem.key, locale, **params))
    except Invalid as invalid:
        first = next(iter(invalid.problems.values()))
        problem_text = kit.md(first.key, locale, **first.params)
        message = gv.usage("milestone.usage", locale, problem=problem_text)
    except SaveFailed:
        failure(log, "saving a milestone failed")
        message = refusal("milestone.error.save_failed", locale)
    else:
        message = gv.milestone_registered(info, locale=locale)
    await _respond_in_parts(respond, message)


async def mark_milestone_done(
    ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, deps: Deps
) -> None:
    """The "Mark done" button of a milestone: record it once and replace the message."""
    await ack()
    user_id = body["user"]["id"]
    locale = await deps.locale_for(user_id)
    try:
        info = await milestones.mark_done(
            deps.engine, milestone_id=int(action["value"]), actor_id=user_id, now=deps.clock()
        )
    except (NotAllowed, ValueError) as refused:
        key = refused.key if isinstance(refused, NotAllowed) else "milestone.refusal.unknown"
        params = refused.params if isinstance(refused, NotAllowed) else {}
        message = refusal(key, locale, **params)
        await respond(response_type="ephemeral", replace_original=False, **message.as_kwargs())
        return
    done_at = info.milestone.done_at or deps.clock()
    on = done_at.astimezone(zone_of(info.actor, deps.policy)).date()
    message = gv.milestone_done(info, locale=locale, on=on)
    await _respond_in_parts(respond, message, replace_original=True)


async def _respond_in_parts(
    respond: Any, message: Message, *, replace_original: bool | None = None
) -> None:
    """An ephemeral answer, in several posts when long (many people with long names); only
    the first replaces the original."""
    for n, part in enumerate(message.parts()):
        replace = (
            {} if replace_original is None else {"replace_original": replace_original and n == 0}
        )
        await respond(response_type="ephemeral", **replace, **part.as_kwargs())
