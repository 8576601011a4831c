"""Nudge messages: one builder per kind, all with Snooze and Skip, most with a next step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.engine import kinds
from bot.engine.choices import SKIP_REASONS
from bot.engine.nudge_content import NudgeContent
from bot.org.policy import Policy
from handlers.slack import ids
from handlers.slack.blocks import kit, self_views
from handlers.slack.blocks.digest import digest_message
from handlers.slack.blocks.messages import Message, action_lines
from handlers.slack.blocks.prep_pack import prep_pack_blocks
from prompts import items, outline, t, when_due
from storage.models import Person

MAX_LOG_BUTTONS = 5  # past this many people, one select instead of a row of buttons


def _choices(c: NudgeContent, locale: str, *extra: dict[str, Any]) -> kit.Block:
    """The row under every nudge: its own next step, then Snooze and Skip."""
    nudge_id = c.nudge.id
    snooze = {
        "type": "overflow",
        "action_id": ids.NUDGE_SNOOZE,
        "options": [
            kit.option(
                t("nudge.snooze_tomorrow", locale), ids.nudge_snooze_value(nudge_id, "tomorrow")
            ),
            kit.option(t("nudge.snooze_week", locale), ids.nudge_snooze_value(nudge_id, "week")),
        ],
    }
    skip = {
        "type": "static_select",
        "action_id": ids.NUDGE_SKIP,
        "placeholder": kit.plain(t("nudge.skip", locale), kit.PLACEHOLDER_LIMIT),
        "options": [
            kit.option(t(f"nudge.skip_{r}", locale), ids.nudge_skip_value(nudge_id, r))
            for r in SKIP_REASONS
        ],
    }
    return kit.actions(*extra, snooze, skip, block_id=ids.NUDGE_ACTIONS_BLOCK)


def _log_button(
    employee_id: str, kind: str, label: str, action_id: str = ids.NUDGE_LOG_TALK
) -> dict[str, Any]:
    return kit.button(
        label, action_id, ids.nudge_log_talk_value(employee_id, kind), style="primary"
    )


def _bullets(entries: list[str]) -> kit.Mrkdwn:
    return kit.join("\n", [f"• {entry}" for entry in entries])


def _questions(title_key: str, kind: str, locale: str, round_: int = 0) -> list[kit.Block]:
    return kit.sections(
        kit.lines(kit.md(title_key, locale), _bullets(outline(kind, locale, round_)))
    )


def _carry_over(
    c: NudgeContent, locale: str, title_key: str = "nudge.carry_over"
) -> list[kit.Block]:
    """Every open action between the two (the message is split if it grows long)."""
    if not c.carry_over:
        return [kit.context(kit.md("nudge.no_carry_over", locale))]
    return kit.listing(kit.md(title_key, locale), action_lines(c.carry_over, c.names, locale))


def _checkin(c: NudgeContent, policy: Policy, locale: str) -> Message:
    name = c.about.name if c.about else "?"
    firm = bool(c.payload.get("firm"))
    title = t("nudge.checkin_firm_title" if firm else "nudge.checkin_title", locale, name=name)
    body = (
        kit.md(
            "nudge.checkin_firm_body",
            locale,
            name=name,
            periods=policy.cadence.escalate_after_periods,
        )
        if firm
        else kit.md(
            "nudge.checkin_body", locale, name=name, minutes=policy.kind("checkin").default_minutes
        )
    )
    last = (
        kit.md("nudge.last_dialogue", locale, date=c.last_dialogue.isoformat())
        if c.last_dialogue
        else kit.md("nudge.never_talked", locale)
    )
    round_ = int(c.payload.get("round", 0))  # type: ignore[call-overload]
    employee_id = c.about.id if c.about else ""
    blocks = [
        kit.header(title),
        *kit.sections(body),
        kit.context(last),
        *_questions("nudge.questions", "checkin", locale, round_),
        *_carry_over(c, locale),
        _choices(c, locale, _log_button(employee_id, "checkin", t("nudge.log_talk", locale))),
    ]
    return Message(title, blocks)


def _heads_up(c: NudgeContent, policy: Policy, locale: str) -> Message:
    manager = c.manager.name if c.manager else "?"
    title = t("nudge.heads_up_title", locale, manager=manager)
    round_ = int(c.payload.get("round", 0))  # type: ignore[call-overload]
    blocks = [
        kit.header(title),
        *kit.sections(kit.md("nudge.heads_up_body", locale)),
        *_questions("nudge.think_about", "checkin", locale, round_),
        *_carry_over(c, locale, "nudge.your_actions"),
        _choices(c, locale),
    ]
    return Message(title, blocks)


def _goal(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.goal is not None
    goal, name = c.goal, c.about.name if c.about else "?"
    if c.nudge.role == "manager":
        title = t("nudge.goal_title_manager", locale, name=name, goal=goal.title)
        body = kit.md(
            "nudge.goal_body_manager" if goal.measure.strip() else "nudge.goal_body_manager_open",
            locale,
            measure=goal.measure,
            due=goal.due_on.isoformat(),
        )
        label = t("nudge.log_talk", locale)
        extra = [_log_button(goal.employee_id, "goal_clarification", label)]
    else:
        manager = c.manager.name if c.manager else "?"
        title = t("nudge.goal_title_employee", locale, goal=goal.title)
        body = kit.md("nudge.goal_body_employee", locale, manager=manager)
        extra = []
    blocks = [
        kit.header(title),
        *kit.sections(body),
        *_questions("nudge.questions", "goal_clarification", locale),
        _choices(c, locale, *extra),
    ]
    return Message(title, blocks)


def _action(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.action is not None
    action = c.action
    done = kit.button(
        t("nudge.mark_done", locale),
        ids.NUDGE_ACTION_DONE,
        ids.nudge_done_value(c.nudge.id, action.id),
        style="primary",
    )
    when = when_due(action.due_on, c.today or action.due_on, locale)
    if c.nudge.kind == kinds.ACTION_DUE:
        title = t("nudge.action_due_title", locale, text=action.text, when=when)
        body = kit.md("nudge.action_due_body", locale, date=action.created_at.date().isoformat())
    else:
        title = t("nudge.action_overdue_title", locale, text=action.text, when=when)
        owner = c.names.get(action.owner_id, action.owner_id)
        body = kit.md("nudge.action_overdue_body", locale, owner=owner)
    return Message(title, [kit.header(title), *kit.sections(body), _choices(c, locale, done)])


def _log_talk_with(people: list[Person], locale: str) -> tuple[list[dict[str, Any]], list]:
    """ "Log talk with …" for each person: a button each (each its own action id), or past a
    few people one select; past a select's 100 options, a line saying how many more."""
    if len(people) <= MAX_LOG_BUTTONS:
        buttons = [
            _log_button(
                p.id,
                "milestone_retro",
                t("nudge.log_talk_with", locale, name=p.name),
                ids.nudge_log_talk(p.id),
            )
            for p in people
        ]
        return buttons, []
    shown = people[: kit.SELECT_OPTIONS]
    select = {
        "type": "static_select",
        "action_id": ids.NUDGE_LOG_TALK_PICK,
        "placeholder": kit.plain(t("nudge.log_talk_pick", locale), kit.PLACEHOLDER_LIMIT),
        "options": [
            kit.option(p.name, ids.nudge_log_talk_value(p.id, "milestone_retro")) for p in shown
        ],
    }
    hidden = len(people) - len(shown)
    more = [kit.context(kit.md("nudge.more_people", locale, count=hidden))] if hidden else []
    return [select], more


def _milestone(c: NudgeContent, policy: Policy, locale: str) -> Message:
    name = c.milestone.name if c.milestone else "?"
    people = sorted(c.participants, key=lambda p: p.name)
    title = t("nudge.milestone_title", locale, milestone=name)
    body = kit.md("nudge.milestone_body", locale, names=", ".join(p.name for p in people))
    elements, more = _log_talk_with(people, locale)
    blocks = [
        kit.header(title),
        *kit.sections(body),
        *_questions("nudge.questions", "milestone_retro", locale),
        *more,
        _choices(c, locale, *elements),
    ]
    return Message(title, blocks)


def _self_assessment(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.cycle is not None
    reminder = c.nudge.kind == kinds.SELF_REMINDER
    opens = c.cycle.review_from.isoformat()
    title = t(
        "nudge.self_reminder_title" if reminder else "nudge.self_title", locale, cycle=c.cycle.name
    )
    body = kit.md("nudge.self_reminder_body" if reminder else "nudge.self_body", locale, date=opens)
    bank = items("nudge.self_questions", locale)
    blocks = [
        kit.header(title),
        *kit.sections(kit.lines(body, _bullets(bank))),
        _choices(c, locale, self_views.open_button(c.cycle.id, locale)),
    ]
    return Message(title, blocks)


def _prep_pack(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.pack is not None
    blocks = prep_pack_blocks(c.pack, policy=policy, locale=locale)
    title = t("prep.title", locale, name=c.pack.employee.name, cycle=c.pack.cycle.name)
    return Message(title, [*blocks, _choices(c, locale, self_views.interview_picker(c, locale))])


def _hr_digest(c: NudgeContent, policy: Policy, locale: str) -> Message:
    assert c.digest is not None
    return digest_message(c.digest, locale=locale)


BUILDERS: dict[str, Callable[[NudgeContent, Policy, str], Message]] = {
    kinds.CHECKIN: _checkin,
    kinds.HEADS_UP: _heads_up,
    kinds.GOAL: _goal,
    kinds.ACTION_DUE: _action,
    kinds.ACTION_OVERDUE: _action,
    kinds.MILESTONE: _milestone,
    kinds.SELF_ASSESSMENT: _self_assessment,
    kinds.SELF_REMINDER: _self_assessment,
    kinds.PREP_PACK: _prep_pack,
    kinds.HR_DIGEST: _hr_digest,
}


def nudge_message(content: NudgeContent, *, policy: Policy, locale: str) -> Message:
    """The message for a nudge, in the recipient's language."""
    return BUILDERS[content.nudge.kind](content, policy, locale)


def settled_message(sent: dict[str, Any], note: str) -> Message:
    """A sent nudge (as Slack returned it) after a choice: its buttons replaced by what was
    chosen (`note`, our words). The payload's text is taken as people's text: decoded and
    escaped again, so a forged one cannot carry a live mention."""
    kept = [b for b in sent.get("blocks") or [] if b.get("block_id") != ids.NUDGE_ACTIONS_BLOCK]
    text = kit.unescape(str(sent["text"])) if sent.get("text") else note
    return Message(text, [*kept, *kit.contexts(note)])
