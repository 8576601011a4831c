"""Nudges as Adaptive Cards: one builder per kind (the same content as Slack's), each with
Snooze and Skip (with its reason) and, where there is one, its next step; `settled_card`
is what a nudge becomes after a choice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.engine import kinds
from bot.engine.choices import SKIP_REASONS
from bot.engine.nudge_content import NudgeContent
from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.review.prep_pack import PrepPack
from bot.review.prep_pack_text import (
    agenda,
    interview_line,
    rating_label,
    share_text,
    summary_counts,
)
from handlers.teams import ids
from handlers.teams.cards.digest import digest_card
from handlers.teams.cards.kit import (
    Element,
    TeamsMessage,
    adaptive_card,
    bullets,
    catalog_plain,
    catalog_text,
    heading,
    literal,
    literals,
)
from prompts import items, outline, t, when_due
from storage.models import ActionItem

TIMELINE_LINES = 12
MAX_LOG_BUTTONS = 5  # past this many people, a choice and one button


def _choices(c: NudgeContent, locale: str) -> list[Element]:
    """Snooze (tomorrow, next week) and Skip with its reason, under every nudge."""
    nudge = c.nudge.id
    skip_form = adaptive_card(
        [
            {
                "type": "Input.ChoiceSet",
                "id": ids.REASON,
                "label": t("nudge.skip", locale),
                "style": "expanded",
                "isRequired": True,
                "value": SKIP_REASONS[0],
                "choices": [
                    {"title": t(f"nudge.skip_{r}", locale), "value": r} for r in SKIP_REASONS
                ],
            }
        ],
        actions=[ids.execute(ids.SKIP, t("nudge.skip", locale), n=nudge)],
    )
    return [
        ids.execute(ids.SNOOZE, t("nudge.snooze_tomorrow", locale), n=nudge, u="tomorrow"),
        ids.execute(ids.SNOOZE, t("nudge.snooze_week", locale), n=nudge, u="week"),
        {"type": "Action.ShowCard", "title": t("nudge.skip", locale), "card": skip_form},
    ]


def _log_button(employee_id: str, kind: str, label: str) -> Element:
    return {
        "type": "Action.Submit",
        "title": label,
        "style": "positive",
        "data": ids.open_form(ids.FORM_TALK, e=employee_id, k=kind),
    }


def _questions(title_key: str, kind: str, locale: str, round_: int = 0) -> list[Element]:
    return [catalog_text(title_key, locale), *bullets(outline(kind, locale, round_))]


def action_lines(actions: list[ActionItem], names: dict[str, str], locale: str) -> list[str]:
    """One line per action: text, owner, due date (catalog words, people's text literal)."""
    return [
        catalog_plain(
            "record.action_line",
            locale,
            text=a.text,
            owner=names.get(a.owner_id, a.owner_id),
            due=a.due_on.isoformat(),
        ).removeprefix("• ")
        for a in actions
    ]


def _carry_over(c: NudgeContent, locale: str, title_key: str = "nudge.carry_over") -> list[Element]:
    if not c.carry_over:
        return [catalog_text("nudge.no_carry_over", locale, subtle=True)]
    return [catalog_text(title_key, locale), *bullets(action_lines(c.carry_over, c.names, locale))]


def _message(title: str, body: list[Element], actions: list[Element]) -> TeamsMessage:
    return TeamsMessage(title, [adaptive_card([heading(title), *body], actions=actions)])


def _round(c: NudgeContent) -> int:
    value = c.payload.get("round", 0)
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else 0


def _checkin(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    name = c.about.name if c.about else "?"
    firm = bool(c.payload.get("firm"))
    title = t("nudge.checkin_firm_title" if firm else "nudge.checkin_title", locale, name=name)
    if firm:
        periods = policy.cadence.escalate_after_periods
        body = catalog_text("nudge.checkin_firm_body", locale, name=name, periods=periods)
    else:
        minutes = policy.kind("checkin").default_minutes
        body = catalog_text("nudge.checkin_body", locale, name=name, minutes=minutes)
    last = (
        catalog_text("nudge.last_dialogue", locale, subtle=True, date=c.last_dialogue.isoformat())
        if c.last_dialogue
        else catalog_text("nudge.never_talked", locale, subtle=True)
    )
    employee_id = c.about.id if c.about else ""
    blocks = [
        body,
        last,
        *_questions("nudge.questions", "checkin", locale, _round(c)),
        *_carry_over(c, locale),
    ]
    log = _log_button(employee_id, "checkin", t("nudge.log_talk", locale))
    return _message(title, blocks, [log, *_choices(c, locale)])


def _heads_up(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    manager = c.manager.name if c.manager else "?"
    title = t("nudge.heads_up_title", locale, manager=manager)
    blocks = [
        catalog_text("nudge.heads_up_body", locale),
        *_questions("nudge.think_about", "checkin", locale, _round(c)),
        *_carry_over(c, locale, "nudge.your_actions"),
    ]
    return _message(title, blocks, _choices(c, locale))


def _goal(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.goal is not None
    goal, name = c.goal, c.about.name if c.about else "?"
    extra: list[Element] = []
    if c.nudge.role == "manager":
        title = t("nudge.goal_title_manager", locale, name=name, goal=goal.title)
        key = "nudge.goal_body_manager" if goal.measure.strip() else "nudge.goal_body_manager_open"
        body = catalog_text(key, locale, measure=goal.measure, due=goal.due_on.isoformat())
        label = t("nudge.log_talk", locale)
        extra = [_log_button(goal.employee_id, "goal_clarification", label)]
    else:
        manager = c.manager.name if c.manager else "?"
        title = t("nudge.goal_title_employee", locale, goal=goal.title)
        body = catalog_text("nudge.goal_body_employee", locale, manager=manager)
    blocks = [body, *_questions("nudge.questions", "goal_clarification", locale)]
    return _message(title, blocks, [*extra, *_choices(c, locale)])


def _action(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.action is not None
    action = c.action
    done = ids.execute(ids.DONE, t("nudge.mark_done", locale), n=c.nudge.id, a=action.id)
    done["style"] = "positive"
    when = when_due(action.due_on, c.today or action.due_on, locale)
    if c.nudge.kind == kinds.ACTION_DUE:
        title = t("nudge.action_due_title", locale, text=action.text, when=when)
        created = action.created_at.date().isoformat()
        body = catalog_text("nudge.action_due_body", locale, date=created)
    else:
        title = t("nudge.action_overdue_title", locale, text=action.text, when=when)
        owner = c.names.get(action.owner_id, action.owner_id)
        body = catalog_text("nudge.action_overdue_body", locale, owner=owner)
    return _message(title, [body], [done, *_choices(c, locale)])


def _milestone(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    name = c.milestone.name if c.milestone else "?"
    people = sorted(c.participants, key=lambda p: p.name)
    title = t("nudge.milestone_title", locale, milestone=name)
    names = ", ".join(p.name for p in people)
    blocks = [
        catalog_text("nudge.milestone_body", locale, names=names),
        *_questions("nudge.questions", "milestone_retro", locale),
    ]
    logs = [
        _log_button(p.id, "milestone_retro", t("nudge.log_talk_with", locale, name=p.name))
        for p in people
    ]
    if len(logs) > MAX_LOG_BUTTONS:  # Teams shows a few buttons; the rest in the form's picker
        logs = [_log_button("", "milestone_retro", t("nudge.log_talk", locale))]
    return _message(title, blocks, [*logs, *_choices(c, locale)])


def _self_assessment(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.cycle is not None
    reminder = c.nudge.kind == kinds.SELF_REMINDER
    key = "nudge.self_reminder_title" if reminder else "nudge.self_title"
    title = t(key, locale, cycle=c.cycle.name)
    body_key = "nudge.self_reminder_body" if reminder else "nudge.self_body"
    blocks = [
        catalog_text(body_key, locale, date=c.cycle.review_from.isoformat()),
        *bullets(items("nudge.self_questions", locale)),
    ]
    write = {
        "type": "Action.Submit",
        "title": t("self.open_button", locale),
        "style": "positive",
        "data": ids.open_form(ids.FORM_SELF, c=c.cycle.id),
    }
    return _message(title, blocks, [write, *_choices(c, locale)])


def prep_pack_summary(pack: PrepPack, *, policy: Policy, locale: str) -> list[Element]:
    """The pack's summary: the interview's plan, risks, self-assessment, talking time, the
    agenda, the checklist (the whole pack follows as messages of its own)."""
    name = pack.employee.name
    counts: dict[str, Any] = summary_counts(pack)  # only figures: no style argument
    blocks = [
        literal(interview_line(pack, locale), weight="bolder"),
        catalog_text("prep.summary_counts", locale, **counts),
    ]
    if pack.silent_months:
        months = ", ".join(pack.silent_months)
        blocks.append(literal("⚠️ " + t("prep.silent", locale, months=months), color="warning"))
    blocks.append(literal(t("prep.timeline", locale), weight="bolder"))
    earlier = len(pack.timeline) - TIMELINE_LINES
    if earlier > 0:
        blocks.append(catalog_text("prep.more_talks", locale, count=earlier, subtle=True))
    lines = [
        f"{e.held_on.isoformat()} · {kind_label(policy, e.kind, locale)}"
        for e in pack.timeline[-TIMELINE_LINES:]
    ]
    blocks += bullets(lines) if lines else [catalog_text("prep.no_talks", locale, subtle=True)]
    own = pack.self_assessment
    self_line = (
        t("prep.self_missing", locale)
        if own is None
        else t("prep.self_rating", locale, rating=rating_label(policy, own.rating, locale))
    )
    blocks += [literal(t("prep.self", locale), weight="bolder"), *literals(self_line)]
    blocks += [
        literal(t("prep.share", locale), weight="bolder"),
        *literals(share_text(pack, locale)),
    ]
    blocks.append(literal(t("prep.agenda", locale), weight="bolder"))
    blocks += [literal(f"{n}. {step}") for n, step in enumerate(agenda(pack, locale), 1)]
    checklist = " · ".join(i.format(name=name) for i in items("prep.checklist_items", locale))
    blocks.append(literal(f"{t('prep.checklist', locale)}: {checklist}", subtle=True))
    blocks.append(literal(t("teams.prep_follows", locale), subtle=True))
    return blocks


def interview_date(
    employee_id: str, cycle_id: int | None, name: str, day: str, locale: str
) -> list[Element]:
    """The review interview's day, to pick or move: a date input and its button."""
    picker = {
        "type": "Input.Date",
        "id": ids.INTERVIEW_ON,
        "label": t("self.interview.home_label", locale, name=name),
        "value": day,
    }
    button = ids.execute(
        ids.INTERVIEW_DATE, t("teams.interview_button", locale), e=employee_id, c=cycle_id
    )
    hint = catalog_text("self.interview.home_hint", locale, subtle=True)
    return [picker, hint, {"type": "ActionSet", "actions": [button]}]


def _prep_pack(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.pack is not None
    pack = c.pack
    title = t("prep.title", locale, name=pack.employee.name, cycle=pack.cycle.name)
    body = prep_pack_summary(pack, policy=policy, locale=locale)
    day = pack.interview_on.isoformat()
    body += interview_date(pack.employee.id, pack.cycle.id, pack.employee.name, day, locale)
    return _message(title, body, _choices(c, locale))


def _hr_digest(c: NudgeContent, policy: Policy, locale: str) -> TeamsMessage:
    """The digest without its chart (the sender draws the chart and builds it with one)."""
    assert c.digest is not None
    return digest_card(c.digest, chart=None, locale=locale)


BUILDERS: dict[str, Callable[[NudgeContent, Policy, str], TeamsMessage]] = {
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


def nudge_card(content: NudgeContent, *, policy: Policy, locale: str) -> TeamsMessage:
    """The card for a nudge, in the recipient's language."""
    return BUILDERS[content.nudge.kind](content, policy, locale)


def settled_card(drawn: TeamsMessage | None, note: str, *, locale: str) -> dict[str, Any]:
    """A nudge after a choice: its content drawn again from the database (never from the
    payload), its buttons replaced by what was chosen."""
    body: list[Element] = []
    if drawn is not None:
        last = drawn.parts()[-1].cards[-1]
        body = [e for e in last.get("body") or [] if e.get("type") != "ActionSet"]
    return adaptive_card([*body, literal(note, subtle=True, separator=True)])
