"""Notices as Adaptive Cards: what a record owes people (the employee's record with
Acknowledge, the manager's confirmation, goal proposals with Confirm / Decline, decisions,
self-assessments, review summaries with Acknowledge / Disagree, answers, disagreements),
the same content as Slack's, in Teams' idiom."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.engine import kinds
from bot.engine.notice_content import NoticeContent
from bot.org.labels import kind_label
from bot.org.people import zone_of
from bot.org.policy import Policy
from bot.records.talks import Recorded
from bot.review.interview_record import DECISIONS, RecordedReview, decisions_of, rating_text
from bot.review.self_assessment import TEXT_FIELDS
from handlers.teams import ids
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
from handlers.teams.cards.nudges import action_lines
from prompts import t
from storage.models import Goal, Person, Talk


def _section(title: str, text: str) -> list[Element]:
    return [literal(title, weight="bolder"), *literals(text)]


def _record_body(rec: Recorded, policy: Policy, locale: str) -> list[Element]:
    talk = rec.talk
    family = t(f"family.{talk.family}", locale)
    held = catalog_text(
        "record.held",
        locale,
        subtle=True,
        date=talk.held_on.isoformat(),
        minutes=talk.duration_minutes,
        family=family,
    )
    names = {rec.employee.id: rec.employee.name, rec.manager.id: rec.manager.name}
    blocks = [
        held,
        catalog_text("record.facts", locale),
        *literals(talk.facts),
        catalog_text("record.consensus", locale),
        *literals(talk.consensus),
        catalog_text("record.actions", locale),
    ]
    lines = action_lines(rec.actions, names, locale)
    blocks += bullets(lines) if lines else [catalog_text("record.no_actions", locale, subtle=True)]
    if rec.completed:
        blocks.append(catalog_text("record.completed", locale))
        done = [catalog_plain("record.completed_line", locale, text=a.text) for a in rec.completed]
        blocks += [piece for line in done for piece in literals(line)]
    return blocks


def _your_actions(rec: Recorded, owner_id: str, locale: str) -> list[Element]:
    mine = [a for a in rec.actions if a.owner_id == owner_id]
    if not mine:
        return []
    return [
        catalog_text("record.your_actions", locale),
        *bullets([f"{a.text} · {a.due_on.isoformat()}" for a in mine]),
    ]


def acknowledgement(
    talk: Talk, locale: str, *, manager: str
) -> tuple[list[Element], list[Element]]:
    """The end of the employee's record: the prompt and the Acknowledge button, or the
    acknowledgement once given."""
    if talk.acknowledged_at is not None:
        when = talk.acknowledged_at.date().isoformat()
        return [catalog_text("record.acknowledged", locale, separator=True, date=when)], []
    prompt = catalog_text("record.acknowledge_prompt", locale, separator=True, manager=manager)
    button = ids.execute(ids.ACK, t("record.acknowledge", locale), t=talk.id)
    button["style"] = "positive"
    return [prompt], [button]


def employee_record(rec: Recorded, *, policy: Policy, locale: str) -> TeamsMessage:
    """The record the employee receives, with their own actions and Acknowledge."""
    kind, manager = kind_label(policy, rec.talk.kind, locale), rec.manager.name
    tail, buttons = acknowledgement(rec.talk, locale, manager=manager)
    body = [
        heading(t("record.employee_title", locale, kind=kind, manager=manager)),
        *_record_body(rec, policy, locale),
        *_your_actions(rec, rec.employee.id, locale),
        *tail,
    ]
    date = rec.talk.held_on.isoformat()
    summary = catalog_plain("record.employee_text", locale, manager=manager, kind=kind, date=date)
    return TeamsMessage(summary, [adaptive_card(body, actions=buttons)])


def manager_confirmation(rec: Recorded, *, policy: Policy, locale: str) -> TeamsMessage:
    """The manager's confirmation, with the actions they own."""
    kind, employee = kind_label(policy, rec.talk.kind, locale), rec.employee.name
    date = rec.talk.held_on.isoformat()
    body = [
        catalog_text("record.manager_saved", locale, kind=kind, employee=employee, date=date),
        *_your_actions(rec, rec.manager.id, locale),
    ]
    summary = catalog_plain("record.manager_text", locale, kind=kind, employee=employee)
    return TeamsMessage(summary, [adaptive_card(body)])


def _one_line(key: str, locale: str, **params: Any) -> TeamsMessage:
    return TeamsMessage(
        catalog_plain(key, locale, **params), [adaptive_card([catalog_text(key, locale, **params)])]
    )


def _talk_record(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.recorded is not None
    return employee_record(c.recorded, policy=policy, locale=locale)


def _talk_saved(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.recorded is not None
    return manager_confirmation(c.recorded, policy=policy, locale=locale)


def _talk_acknowledged(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.recorded is not None
    talk = c.recorded.talk
    return _one_line(
        "record.manager_acknowledged",
        locale,
        employee=c.recorded.employee.name,
        kind=kind_label(policy, talk.kind, locale),
        date=talk.held_on.isoformat(),
    )


def _goal_body(goal: Goal, locale: str) -> Element:
    return catalog_text(
        "goal.body", locale, title=goal.title, measure=goal.measure, due=goal.due_on.isoformat()
    )


def _goal_proposed(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.goal is not None and c.goal_employee is not None
    goal, employee = c.goal, c.goal_employee
    body = [
        heading(t("goal.proposal.header", locale, employee=employee.name)),
        _goal_body(goal, locale),
    ]
    buttons: list[Element] = []
    if goal.status == "proposed":
        body.append(catalog_text("goal.proposal.prompt", locale, subtle=True))
        confirm = ids.execute(ids.GOAL_CONFIRM, t("goal.proposal.confirm", locale), g=goal.id)
        confirm["style"] = "positive"
        buttons = [
            confirm,
            ids.execute(ids.GOAL_DECLINE, t("goal.proposal.decline", locale), g=goal.id),
        ]
    else:
        status = t(f"goal.status.{goal.status}", locale)
        body.append(catalog_text("goal.proposal.already", locale, subtle=True, status=status))
    summary = t("goal.proposal.header", locale, employee=employee.name)
    return TeamsMessage(summary, [adaptive_card(body, actions=buttons)])


def _goal_set(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.goal is not None and c.goal_by is not None
    by: Person = c.goal_by
    body = [
        heading(t("goal.set.header", locale, by=by.name)),
        _goal_body(c.goal, locale),
        catalog_text("goal.set.next", locale, subtle=True),
    ]
    summary = catalog_plain("goal.set.text", locale, by=by.name, title=c.goal.title)
    return TeamsMessage(summary, [adaptive_card(body)])


def _goal_decided(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.goal is not None and c.goal_by is not None
    outcome = "confirmed" if c.goal.status == "active" else "declined"
    params: dict[str, Any] = {"manager": c.goal_by.name, "title": c.goal.title}
    body = [catalog_text(f"goal.decided.{outcome}", locale, **params)]
    summary = catalog_plain(f"goal.decided.{outcome}_text", locale, **params)
    return TeamsMessage(summary, [adaptive_card(body)])


def _self_submitted(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.saved is not None
    row, name, cycle = c.saved.assessment, c.saved.employee.name, c.saved.cycle.name
    rating = rating_text(policy, row.rating, locale) if row.rating is not None else "—"
    body = [
        heading(t("self.manager.header", locale, name=name, cycle=cycle)),
        catalog_text("self.manager.rating", locale, rating=rating),
    ]
    for name_of_field in TEXT_FIELDS:
        text = getattr(row, name_of_field)
        if text:
            body += _section(t(f"self.modal.{name_of_field}_label", locale), text)
    body.append(catalog_text("self.manager.hint", locale, subtle=True, name=name))
    summary = catalog_plain("self.manager.text", locale, name=name, cycle=cycle)
    return TeamsMessage(summary, [adaptive_card(body)])


def _response(
    rec: RecordedReview, policy: Policy, locale: str
) -> tuple[list[Element], list[Element]]:
    review, zone = rec.review, zone_of(rec.employee, policy)
    if review.acknowledged_at is not None:
        when = review.acknowledged_at.astimezone(zone).date().isoformat()
        return [catalog_text("review.summary.acknowledged", locale, separator=True, date=when)], []
    if review.disagreed_at is not None:
        when = review.disagreed_at.astimezone(zone).date().isoformat()
        said = catalog_text("review.summary.disagreed", locale, separator=True, date=when)
        return [said, *literals(review.disagreement or "", subtle=True)], []
    prompt = catalog_text("review.summary.prompt", locale, separator=True, manager=rec.manager.name)
    acknowledge = ids.execute(ids.REVIEW_ACK, t("review.summary.acknowledge", locale), r=review.id)
    acknowledge["style"] = "positive"
    disagree = {
        "type": "Action.Submit",
        "title": t("review.summary.disagree", locale),
        "data": ids.open_form(ids.FORM_DISAGREE, r=review.id),
    }
    return [prompt], [acknowledge, disagree]


def _review_summary(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.review is not None
    rec = c.review
    review, talk, manager = rec.review, rec.talk, rec.manager.name
    held = talk.held_on.isoformat()
    body = [
        heading(t("review.summary.header", locale, manager=manager)),
        catalog_text(
            "review.summary.held",
            locale,
            subtle=True,
            date=held,
            minutes=talk.duration_minutes,
            cycle=rec.cycle.name,
        ),
    ]
    if rec.edited:
        body.append(catalog_text("review.summary.edited", locale, subtle=True))
    rating = rating_text(policy, review.rating, locale)
    body.append(catalog_text("review.summary.rating", locale, rating=rating))
    body += [catalog_text("review.summary.evidence", locale), *literals(review.evidence)]
    if review.gaps:
        body += [catalog_text("review.summary.gaps", locale), *literals(review.gaps)]
    goals = [line.strip() for line in review.next_goals.splitlines() if line.strip()]
    if goals:
        body += [catalog_text("review.summary.next_goals", locale), *bullets(goals)]
    names = {rec.employee.id: rec.employee.name, rec.manager.id: manager}
    body.append(catalog_text("review.summary.development", locale))
    lines = action_lines(rec.actions, names, locale)
    body += bullets(lines) if lines else [catalog_text("review.summary.no_development", locale)]
    chosen = [t(f"review.decision.{d}", locale) for d in decisions_of(review) if d in DECISIONS]
    if chosen:
        decisions = t("review.summary.list_separator", locale).join(chosen)
        body.append(catalog_text("review.summary.decisions", locale, decisions=decisions))
    if review.employee_view:
        body += [
            catalog_text("review.summary.employee_view", locale),
            *literals(review.employee_view),
        ]
    tail, buttons = _response(rec, policy, locale)
    summary = catalog_plain("review.summary.text", locale, manager=manager, date=held)
    return TeamsMessage(summary, [adaptive_card([*body, *tail], actions=buttons)])


def _review_saved(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.review is not None
    rec = c.review
    key = "review.saved.edited" if rec.edited else "review.saved.created"
    rating = rating_text(policy, rec.review.rating, locale)
    body = [
        catalog_text(key, locale, employee=rec.employee.name, cycle=rec.cycle.name, rating=rating)
    ]
    summary = catalog_plain("review.saved.text", locale, employee=rec.employee.name)
    return TeamsMessage(summary, [adaptive_card(body)])


def _review_acknowledged(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.review is not None
    held = c.review.talk.held_on.isoformat()
    return _one_line(
        "review.acknowledged_notice", locale, employee=c.review.employee.name, date=held
    )


def _review_disagreed(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.review is not None
    rec = c.review
    held, employee = rec.talk.held_on.isoformat(), rec.employee.name
    recorder = rec.recorded_by
    summary = catalog_plain("review.disagreement.text", locale, employee=employee, date=held)
    if c.withheld:  # the policy keeps review content from HR
        withheld = catalog_text(
            "review.disagreement.withheld",
            locale,
            employee=employee,
            date=held,
            recorder=recorder,
            cycle=rec.cycle.name,
        )
        return TeamsMessage(summary, [adaptive_card([withheld])])
    body = [
        catalog_text(
            "review.disagreement.body",
            locale,
            employee=employee,
            date=held,
            recorder=recorder,
            cycle=rec.cycle.name,
            rating=rating_text(policy, rec.review.rating, locale),
        ),
        *literals(rec.review.disagreement or "", subtle=True),
        catalog_text("review.disagreement.next", locale, subtle=True),
    ]
    return TeamsMessage(summary, [adaptive_card(body)])


def _manager_changed(c: NoticeContent, policy: Policy, locale: str) -> TeamsMessage:
    assert c.manager is not None
    if c.previous is not None:
        body = catalog_text(
            "privacy.manager_changed", locale, manager=c.manager.name, previous=c.previous.name
        )
    else:
        body = catalog_text("privacy.manager_changed_first", locale, manager=c.manager.name)
    summary = catalog_plain("privacy.manager_changed_text", locale, manager=c.manager.name)
    return TeamsMessage(summary, [adaptive_card([body])])


BUILDERS: dict[str, Callable[[NoticeContent, Policy, str], TeamsMessage]] = {
    kinds.TALK_RECORD: _talk_record,
    kinds.TALK_SAVED: _talk_saved,
    kinds.TALK_ACKNOWLEDGED: _talk_acknowledged,
    kinds.GOAL_PROPOSED: _goal_proposed,
    kinds.GOAL_SET: _goal_set,
    kinds.GOAL_DECIDED: _goal_decided,
    kinds.SELF_SUBMITTED: _self_submitted,
    kinds.REVIEW_SUMMARY: _review_summary,
    kinds.REVIEW_SAVED: _review_saved,
    kinds.REVIEW_ACKNOWLEDGED: _review_acknowledged,
    kinds.REVIEW_DISAGREED: _review_disagreed,
    kinds.MANAGER_CHANGED: _manager_changed,
}


def notice_card(content: NoticeContent, *, policy: Policy, locale: str) -> TeamsMessage:
    """The card for a notice, in the recipient's language."""
    return BUILDERS[content.nudge.kind](content, policy, locale)
