"""Block Kit for goals and milestones: the goal modal, the proposal with its decision
buttons, the notices people receive, and the milestone confirmation with "Mark done"."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.records.goals import MEASURE_LIMIT, TITLE_LIMIT, GoalForm
from bot.records.milestones import MilestoneInfo
from handlers.slack import ids
from handlers.slack.blocks import kit
from handlers.slack.blocks.messages import Message
from prompts import t
from storage.models import Goal, Person


def goal_modal(form: GoalForm, *, locale: str) -> dict[str, Any]:
    """The goal form: for a fixed person, or with a picker of the actor's reports."""
    blocks: list[kit.Block] = []
    if form.employee is None:
        blocks.append(_employee_picker(form, locale))
    elif form.proposal:
        manager = form.manager.name if form.manager else ""
        blocks += kit.sections(kit.md("goal.modal.proposal", locale, manager=manager))
    else:
        blocks += kit.sections(kit.md("goal.modal.for", locale, name=form.employee.name))
    blocks += [
        kit.input_block(
            ids.GOAL_TITLE,
            t("goal.modal.title_label", locale),
            {
                "type": "plain_text_input",
                "action_id": ids.VALUE,
                "max_length": TITLE_LIMIT,
                "placeholder": kit.plain(
                    t("goal.modal.title_placeholder", locale), kit.PLACEHOLDER_LIMIT
                ),
            },
        ),
        kit.input_block(
            ids.GOAL_MEASURE,
            t("goal.modal.measure_label", locale),
            {
                "type": "plain_text_input",
                "action_id": ids.VALUE,
                "multiline": True,
                "max_length": MEASURE_LIMIT,
                "placeholder": kit.plain(
                    t("goal.modal.measure_placeholder", locale), kit.PLACEHOLDER_LIMIT
                ),
            },
        ),
        kit.input_block(
            ids.GOAL_DUE,
            t("goal.modal.due_label", locale),
            {"type": "datepicker", "action_id": ids.VALUE},
        ),
        kit.context(kit.md("goal.modal.clarify_hint", locale)),
    ]
    employee_id = form.employee.id if form.employee else None
    return kit.modal(
        ids.GOAL_MODAL,
        t("goal.modal.title", locale),
        blocks,
        submit=t("goal.modal.save", locale),
        close=t("goal.modal.cancel", locale),
        private_metadata=ids.goal_metadata(employee_id),
    )


def _employee_picker(form: GoalForm, locale: str) -> kit.Block:
    """Whose goal: the actor's reports found by name as they type (however many), and
    "Myself" when they have a manager to propose to (see `employee_options`)."""
    element = {
        "type": "external_select",
        "action_id": ids.GOAL_EMPLOYEE_PICK,
        "min_query_length": 0,
        "placeholder": kit.plain(
            t("goal.modal.employee_placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    return kit.input_block(ids.GOAL_EMPLOYEE, t("goal.modal.employee_label", locale), element)


def employee_options(
    people: list[Person], *, actor: Person, manager: Person | None, typed: str, locale: str
) -> list[dict[str, Any]]:
    """The goal picker's options for what was typed: "Myself (proposed to …)" first when
    the actor has a manager to propose to and it matches, then the people found. A name
    past 75 characters is shortened (Slack's limit); the goal's messages carry it whole."""
    options = [kit.option(p.name, p.id) for p in people if p.id != actor.id]
    if manager is not None:
        label = t("goal.modal.myself", locale, manager=manager.name)
        if typed.casefold() in label.casefold() or typed.casefold() in actor.name.casefold():
            options.insert(0, kit.option(label, actor.id))
    return options[: kit.SELECT_OPTIONS]


def _goal_body(goal: Goal, locale: str) -> list[kit.Block]:
    return kit.sections(
        kit.md(
            "goal.body",
            locale,
            title=goal.title,
            measure=goal.measure,
            due=goal.due_on.isoformat(),
        )
    )


def goal_set_notice(goal: Goal, *, by: Person, locale: str) -> Message:
    """Tell the employee a goal was set for them."""
    blocks = [
        kit.header(t("goal.set.header", locale, by=by.name)),
        *_goal_body(goal, locale),
        kit.context(kit.md("goal.set.next", locale)),
    ]
    return Message(kit.md("goal.set.text", locale, by=by.name, title=goal.title), blocks)


def proposal_message(
    goal: Goal,
    *,
    employee: Person,
    locale: str,
    decided_by: Person | None = None,
    on: date | None = None,
) -> Message:
    """The manager's DM about a proposed goal: Confirm / Decline, or how it was decided."""
    blocks = [
        kit.header(t("goal.proposal.header", locale, employee=employee.name)),
        *_goal_body(goal, locale),
    ]
    if goal.status == "proposed":
        value = str(goal.id)
        blocks += [
            kit.context(kit.md("goal.proposal.prompt", locale)),
            kit.actions(
                kit.button(
                    t("goal.proposal.confirm", locale), ids.GOAL_CONFIRM, value, style="primary"
                ),
                kit.button(t("goal.proposal.decline", locale), ids.GOAL_DECLINE, value),
                block_id=ids.GOAL_DECISION,
            ),
        ]
    elif decided_by is not None and on is not None:
        key = "goal.proposal.confirmed" if goal.status == "active" else "goal.proposal.declined"
        blocks += kit.contexts(kit.md(key, locale, name=decided_by.name, date=on.isoformat()))
    else:
        status = t(f"goal.status.{goal.status}", locale)
        blocks.append(kit.context(kit.md("goal.proposal.already", locale, status=status)))
    text = kit.md("goal.proposal.text", locale, employee=employee.name, title=goal.title)
    return Message(text, blocks)


def decision_notice(goal: Goal, *, manager: Person, locale: str) -> Message:
    """Tell the employee their proposal was confirmed or (kindly) declined."""
    outcome = "confirmed" if goal.status == "active" else "declined"
    body = kit.md(f"goal.decided.{outcome}", locale, manager=manager.name, title=goal.title)
    text = kit.md(f"goal.decided.{outcome}_text", locale, manager=manager.name, title=goal.title)
    return Message(text, kit.sections(body))


def _people(people: list[Person]) -> kit.Mrkdwn:
    return kit.join(", ", [p.name for p in people])


def milestone_registered(info: MilestoneInfo, *, locale: str) -> Message:
    """The ephemeral confirmation of a registered milestone, with "Mark done"."""
    milestone = info.milestone
    due = (
        kit.md("milestone.registered.due", locale, date=milestone.due_on.isoformat())
        if milestone.due_on
        else kit.md("milestone.registered.no_due", locale)
    )
    button = kit.button(
        t("milestone.registered.done_button", locale),
        ids.MILESTONE_DONE,
        str(milestone.id),
        style="primary",
    )
    people = kit.md("milestone.registered.people", locale, people=_people(info.participants))
    blocks = [
        *kit.sections(
            kit.md("milestone.registered.line", locale, name=milestone.name), accessory=button
        ),
        *kit.sections(kit.lines(people, due)),
        kit.context(kit.md("milestone.registered.hint", locale)),
    ]
    return Message(kit.md("milestone.registered.text", locale, name=milestone.name), blocks)


def milestone_done(info: MilestoneInfo, *, locale: str, on: date) -> Message:
    """The confirmation once a milestone is marked done (replaces the one with the button)."""
    milestone = info.milestone
    line = kit.md("milestone.done.line", locale, name=milestone.name, date=on.isoformat())
    people = kit.md("milestone.registered.people", locale, people=_people(info.participants))
    blocks = [
        *kit.sections(line),
        *kit.sections(people),
        kit.context(kit.md("milestone.done.hint", locale)),
    ]
    return Message(kit.md("milestone.done.text", locale, name=milestone.name), blocks)


def usage(key: str, locale: str, *, problem: kit.Mrkdwn | str | None = None) -> Message:
    """An explanation of the expected form of a command, after what went wrong (`problem`:
    rendered with `kit.md`, or plain text, which is escaped)."""
    text = kit.lines(problem, kit.md(key, locale))
    return Message(text, kit.sections(text))
