"""Nudge messages: one builder per kind, all with Snooze and Skip, most with a next step."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bot import cadence
from bot.nudge_choices import SKIP_REASONS
from bot.nudge_content import NudgeContent
from bot.policy import Policy
from handlers import ids
from handlers.blocks import kit, self_views
from handlers.blocks.messages import Message
from handlers.blocks.prep_pack import prep_pack_blocks
from prompts import items, outline, t


def _value(**data: object) -> str:
    return json.dumps(data, separators=(",", ":"))


def _choices(c: NudgeContent, locale: str, *extra: dict[str, Any]) -> kit.Block:
    """The row under every nudge: its own next step, then Snooze and Skip."""
    nudge_id = c.nudge.id
    snooze = {
        "type": "overflow",
        "action_id": ids.NUDGE_SNOOZE,
        "options": [
            kit.option(t("nudge.snooze_tomorrow", locale), _value(n=nudge_id, u="tomorrow")),
            kit.option(t("nudge.snooze_week", locale), _value(n=nudge_id, u="week")),
        ],
    }
    skip = {
        "type": "static_select",
        "action_id": ids.NUDGE_SKIP,
        "placeholder": kit.plain(t("nudge.skip", locale), 75),
        "options": [
            kit.option(t(f"nudge.skip_{r}", locale), _value(n=nudge_id, r=r)) for r in SKIP_REASONS
        ],
    }
    return kit.actions(*extra, snooze, skip, block_id=ids.NUDGE_ACTIONS_BLOCK)


def _log_button(c: NudgeContent, locale: str, employee_id: str, kind: str, label: str) -> dict:
    return kit.button(label, ids.NUDGE_LOG_TALK, _value(e=employee_id, k=kind), style="primary")


def _lines(items: list[str]) -> str:
    return "\n".join(f"• {kit.escape(i)}" for i in items)


def _carry_over(c: NudgeContent, locale: str, title_key: str = "nudge.carry_over") -> kit.Block:
    if not c.carry_over:
        return kit.context(t("nudge.no_carry_over", locale))
    lines = [
        t(
            "record.action_line",
            locale,
            text=kit.escape(a.text),
            owner=kit.escape(c.names.get(a.owner_id, a.owner_id)),
            due=a.due_on.isoformat(),
        )
        for a in c.carry_over[:10]
    ]
    return kit.section(f"{t(title_key, locale)}\n" + "\n".join(lines))


def _checkin(c: NudgeContent, policy: Policy, locale: str) -> Message:
    name = c.about.name if c.about else "?"
    firm = bool(c.payload.get("firm"))
    title = t("nudge.checkin_firm_title" if firm else "nudge.checkin_title", locale, name=name)
    body = (
        t(
            "nudge.checkin_firm_body",
            locale,
            name=name,
            periods=policy.cadence.escalate_after_periods,
        )
        if firm
        else t(
            "nudge.checkin_body", locale, name=name, minutes=policy.kind("checkin").default_minutes
        )
    )
    last = (
        t("nudge.last_dialogue", locale, date=c.last_dialogue.isoformat())
        if c.last_dialogue
        else t("nudge.never_talked", locale)
    )
    round_ = int(c.payload.get("round", 0))  # type: ignore[call-overload]
    blocks = [
        kit.header(title),
        kit.section(kit.escape(body)),
        kit.context(last),
        kit.section(
            f"{t('nudge.questions', locale)}\n{_lines(outline('checkin', locale, round_))}"
        ),
        _carry_over(c, locale),
        _choices(
            c,
            locale,
            _log_button(
                c,
                locale,
                c.about.slack_id if c.about else "",
                "checkin",
                t("nudge.log_talk", locale),
            ),
        ),
    ]
    return Message(title, blocks)


def _heads_up(c: NudgeContent, policy: Policy, locale: str) -> Message:
    manager = c.manager.name if c.manager else "?"
    title = t("nudge.heads_up_title", locale, manager=manager)
    round_ = int(c.payload.get("round", 0))  # type: ignore[call-overload]
    blocks = [
        kit.header(title),
        kit.section(t("nudge.heads_up_body", locale)),
        kit.section(
            f"{t('nudge.think_about', locale)}\n{_lines(outline('checkin', locale, round_))}"
        ),
        _carry_over(c, locale, "nudge.your_actions"),
        _choices(c, locale),
    ]
    return Message(title, blocks)


def _goal(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.goal is not None
    goal, name = c.goal, c.about.name if c.about else "?"
    if c.nudge.role == "manager":
        title = t("nudge.goal_title_manager", locale, name=name, goal=goal.title)
        body = t(
            "nudge.goal_body_manager" if goal.measure.strip() else "nudge.goal_body_manager_open",
            locale,
            measure=goal.measure,
            due=goal.due_on.isoformat(),
        )
        extra = [
            _log_button(
                c, locale, goal.employee_id, "goal_clarification", t("nudge.log_talk", locale)
            )
        ]
    else:
        manager = c.manager.name if c.manager else "?"
        title = t("nudge.goal_title_employee", locale, goal=goal.title)
        body = t("nudge.goal_body_employee", locale, manager=manager)
        extra = []
    blocks = [
        kit.header(title),
        kit.section(kit.escape(body)),
        kit.section(
            f"{t('nudge.questions', locale)}\n{_lines(outline('goal_clarification', locale))}"
        ),
        _choices(c, locale, *extra),
    ]
    return Message(title, blocks)


def _action(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.action is not None
    action = c.action
    done = kit.button(
        t("nudge.mark_done", locale),
        ids.NUDGE_ACTION_DONE,
        _value(n=c.nudge.id, a=action.id),
        style="primary",
    )
    if c.nudge.kind == cadence.ACTION_DUE:
        title = t("nudge.action_due_title", locale, text=action.text)
        body = t("nudge.action_due_body", locale, date=action.created_at.date().isoformat())
    else:
        title = t(
            "nudge.action_overdue_title", locale, text=action.text, due=action.due_on.isoformat()
        )
        body = t(
            "nudge.action_overdue_body", locale, owner=c.names.get(action.owner_id, action.owner_id)
        )
    return Message(
        title, [kit.header(title), kit.section(kit.escape(body)), _choices(c, locale, done)]
    )


def _milestone(c: NudgeContent, policy: Policy, locale: str) -> Message:
    name = c.milestone.name if c.milestone else "?"
    people = sorted(c.participants, key=lambda p: p.name)
    title = t("nudge.milestone_title", locale, milestone=name)
    body = t("nudge.milestone_body", locale, names=", ".join(p.name for p in people))
    buttons = [
        _log_button(
            c, locale, p.slack_id, "milestone_retro", t("nudge.log_talk_with", locale, name=p.name)
        )
        for p in people[:3]
    ]
    blocks = [
        kit.header(title),
        kit.section(kit.escape(body)),
        kit.section(
            f"{t('nudge.questions', locale)}\n{_lines(outline('milestone_retro', locale))}"
        ),
        _choices(c, locale, *buttons),
    ]
    return Message(title, blocks)


def _self_assessment(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.cycle is not None
    reminder = c.nudge.kind == cadence.SELF_REMINDER
    opens = c.cycle.review_from.isoformat()
    title = t(
        "nudge.self_reminder_title" if reminder else "nudge.self_title", locale, cycle=c.cycle.name
    )
    body = t("nudge.self_reminder_body" if reminder else "nudge.self_body", locale, date=opens)
    bank = items("nudge.self_questions", locale)
    blocks = [
        kit.header(title),
        kit.section(f"{kit.escape(body)}\n{_lines(bank)}"),
        _choices(c, locale, self_views.open_button(c.cycle.id, locale)),
    ]
    return Message(title, blocks)


def _prep_pack(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.pack is not None
    blocks = prep_pack_blocks(c.pack, policy=policy, locale=locale)
    title = t("prep.title", locale, name=c.pack.employee.name, cycle=c.pack.cycle.name)
    return Message(title, [*blocks, _choices(c, locale, self_views.interview_picker(c, locale))])


BUILDERS: dict[str, Callable[[NudgeContent, Policy, str], Message]] = {
    cadence.CHECKIN: _checkin,
    cadence.HEADS_UP: _heads_up,
    cadence.GOAL: _goal,
    cadence.ACTION_DUE: _action,
    cadence.ACTION_OVERDUE: _action,
    cadence.MILESTONE: _milestone,
    cadence.SELF_ASSESSMENT: _self_assessment,
    cadence.SELF_REMINDER: _self_assessment,
    cadence.PREP_PACK: _prep_pack,
}


def nudge_message(content: NudgeContent, *, policy: Policy, locale: str) -> Message:
    """The message for a nudge, in the recipient's language."""
    return BUILDERS[content.nudge.kind](content, policy, locale)


def settled_blocks(blocks: list[kit.Block], note: str) -> list[kit.Block]:
    """A sent nudge after a choice: its buttons replaced by what was chosen."""
    kept = [b for b in blocks if b.get("block_id") != ids.NUDGE_ACTIONS_BLOCK]
    return [*kept, kit.context(note)]
