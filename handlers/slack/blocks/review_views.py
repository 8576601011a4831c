"""Block Kit for the review interview (绩效面谈): the record modal, the employee's summary
with Acknowledge / Disagree, the disagreement modal and the notices. Visibly not a dialogue."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.org.labels import kind_definition
from bot.org.people import zone_of
from bot.org.policy import Policy
from bot.records.meeting import ACTION_TEXT_LIMIT, MAX_MINUTES, TEXT_LIMIT
from bot.review.interview_record import (
    DECISIONS,
    MAX_DEVELOPMENT,
    RecordedReview,
    ReviewForm,
    decisions_of,
    rating_text,
)
from handlers.slack import ids
from handlers.slack.blocks import kit
from handlers.slack.blocks.messages import Message, action_lines
from prompts import t
from storage.models import Review

_FORM_TAIL = 5  # the review modal's blocks after the action rows: divider, decisions, date,
# minutes, the employee's view


def _text(
    block_id: str, locale: str, name: str, initial: str, *, optional: bool = True, **extra: Any
) -> kit.Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.VALUE,
        "multiline": True,
        "max_length": TEXT_LIMIT,
        "placeholder": kit.plain(
            t(f"review.modal.{name}_placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    if initial:
        element["initial_value"] = initial
    label = t(f"review.modal.{name}_label", locale)
    return kit.input_block(block_id, label, element, optional=optional, **extra)


def review_modal(form: ReviewForm, *, policy: Policy, locale: str) -> dict[str, Any]:
    """The review record form; prefilled (edit mode) when the cycle has a review already."""
    review, talk, name = form.existing, form.talk, form.employee.name
    intro = "review.modal.intro_edit" if review else "review.modal.intro"
    options = [
        kit.option(rating_text(policy, r, locale), str(r))
        for r in range(policy.review.rating_min, policy.review.rating_max + 1)
    ]
    rating: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.VALUE,
        "options": options,
        "placeholder": kit.plain(
            t("review.modal.rating_placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    if review is not None:
        rating["initial_option"] = next(o for o in options if o["value"] == str(review.rating))
    due = form.goals_due.isoformat()
    blocks: list[kit.Block] = [
        *kit.sections(kit.md(intro, locale, name=name, cycle=form.cycle.name)),
        *kit.contexts(kind_definition(policy, form.kind, locale)),
        kit.context(kit.md("review.modal.not_dialogue", locale)),
        kit.input_block(ids.REVIEW_RATING, t("review.modal.rating_label", locale), rating),
        _text(
            ids.REVIEW_EVIDENCE,
            locale,
            "evidence",
            review.evidence if review else "",
            optional=False,
        ),
        _text(ids.REVIEW_GAPS, locale, "gaps", review.gaps if review else ""),
        _text(
            ids.REVIEW_NEXT_GOALS,
            locale,
            "next_goals",
            review.next_goals if review else "",
            hint=t("review.modal.next_goals_hint", locale, due=due),
        ),
        kit.divider(),
        kit.section(kit.md("review.modal.actions_header", locale)),
    ]
    rows = [block for n in range(1, MAX_DEVELOPMENT + 1) for block in _action_row(n, form, locale)]
    if form.actions:
        recorded = [kit.join(" · ", [f"• {a.text}", a.due_on.isoformat()]) for a in form.actions]
        blocks += kit.listing(
            kit.md("review.modal.recorded_actions", locale),
            recorded,
            max_blocks=kit.VIEW_BLOCKS - len(blocks) - len(rows) - _FORM_TAIL,
            more=lambda count: kit.md("review.modal.more_actions", locale, count=count),
        )
    blocks += rows
    blocks.append(kit.divider())
    if form.decisions_shown:
        blocks.append(_decisions_input(decisions_of(review) if review else [], locale))
    held_on = talk.held_on if talk else form.today
    minutes = talk.duration_minutes if talk else policy.kind(form.kind).default_minutes
    blocks += [
        kit.input_block(
            ids.REVIEW_HELD_ON,
            t("review.modal.held_on_label", locale),
            {"type": "datepicker", "action_id": ids.VALUE, "initial_date": held_on.isoformat()},
        ),
        kit.input_block(
            ids.REVIEW_MINUTES,
            t("review.modal.minutes_label", locale),
            {
                "type": "number_input",
                "action_id": ids.VALUE,
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(MAX_MINUTES),
                "initial_value": str(minutes),
            },
        ),
        _text(
            ids.REVIEW_EMPLOYEE_VIEW,
            locale,
            "employee_view",
            review.employee_view if review else "",
        ),
    ]
    return kit.modal(
        ids.REVIEW_MODAL,
        t("review.modal.title_edit" if review else "review.modal.title", locale),
        blocks,
        submit=t("review.modal.save", locale),
        close=t("review.modal.cancel", locale),
        private_metadata=ids.review_metadata(form.employee.id, review.id if review else None),
    )


def _action_row(n: int, form: ReviewForm, locale: str) -> list[kit.Block]:
    owners = [
        kit.option(t("owner.employee", locale, name=form.employee.name), "employee"),
        kit.option(t("owner.manager", locale, name=form.manager.name), "manager"),
    ]
    text = {
        "type": "plain_text_input",
        "action_id": ids.VALUE,
        "max_length": ACTION_TEXT_LIMIT,
        "placeholder": kit.plain(
            t("review.modal.action_text_placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    owner = {
        "type": "static_select",
        "action_id": ids.VALUE,
        "options": owners,
        "placeholder": kit.plain(
            t("review.modal.action_owner_placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    due = {"type": "datepicker", "action_id": ids.VALUE}
    return [
        kit.input_block(
            ids.review_block(f"action_{n}_{part}"),
            t(f"review.modal.action_{part}_label", locale, n=n),
            element,
            optional=True,
        )
        for part, element in (("text", text), ("owner", owner), ("due", due))
    ]


def _decisions_input(chosen: list[str], locale: str) -> kit.Block:
    options = [kit.option(t(f"review.decision.{d}", locale), d) for d in DECISIONS]
    element: dict[str, Any] = {"type": "checkboxes", "action_id": ids.VALUE, "options": options}
    initial = [o for o in options if o["value"] in chosen]
    if initial:
        element["initial_options"] = initial
    hint = t("review.modal.decisions_hint", locale)
    label = t("review.modal.decisions_label", locale)
    return kit.input_block(ids.REVIEW_DECISIONS, label, element, optional=True, hint=hint)


def _titled(title_key: str, body: str, locale: str) -> list[kit.Block]:
    return kit.sections(kit.lines(kit.md(title_key, locale), body))


def review_summary(rec: RecordedReview, *, policy: Policy, locale: str) -> Message:
    """The employee's copy of the review, ending with Acknowledge / Disagree or the answer
    (long text is split over blocks, and over several messages when it must be: the answer
    is always in the last one)."""
    review, talk, manager = rec.review, rec.talk, rec.manager.name
    held = talk.held_on.isoformat()
    rating = rating_text(policy, review.rating, locale)
    blocks: list[kit.Block] = [
        kit.header(t("review.summary.header", locale, manager=manager)),
        *kit.contexts(
            kit.md(
                "review.summary.held",
                locale,
                date=held,
                minutes=talk.duration_minutes,
                cycle=rec.cycle.name,
            )
        ),
        *([kit.context(kit.md("review.summary.edited", locale))] if rec.edited else []),
        *kit.sections(kit.md("review.summary.rating", locale, rating=rating)),
        *_titled("review.summary.evidence", review.evidence, locale),
    ]
    if review.gaps:
        blocks += _titled("review.summary.gaps", review.gaps, locale)
    goals = [line.strip() for line in review.next_goals.splitlines() if line.strip()]
    if goals:
        blocks += _titled("review.summary.next_goals", "\n".join(f"• {g}" for g in goals), locale)
    names = {rec.employee.id: rec.employee.name, rec.manager.id: manager}
    blocks += kit.listing(
        kit.md("review.summary.development", locale),
        action_lines(rec.actions, names, locale),
        empty=kit.md("review.summary.no_development", locale),
    )
    chosen = [t(f"review.decision.{d}", locale) for d in decisions_of(review) if d in DECISIONS]
    if chosen:
        separator = t("review.summary.list_separator", locale)
        decisions = separator.join(chosen)
        blocks += kit.sections(kit.md("review.summary.decisions", locale, decisions=decisions))
    if review.employee_view:
        blocks += _titled("review.summary.employee_view", review.employee_view, locale)
    blocks += [kit.divider(), *_response_blocks(rec, policy, locale)]
    text = kit.md("review.summary.text", locale, manager=manager, date=held)
    return Message(text, blocks)


def summary_update(
    rec: RecordedReview, *, policy: Policy, locale: str
) -> tuple[Message, list[Message]]:
    """The employee's summary redrawn with their answer: the post that replaces the one with
    the buttons, and any posts to add after it (a long comment can need one more)."""
    unanswered = Review(
        **{**rec.review.model_dump(), "acknowledged_at": None, "disagreed_at": None}
    )
    before = review_summary(replace(rec, review=unanswered), policy=policy, locale=locale)
    return review_summary(rec, policy=policy, locale=locale).replacing(before)


def _response_blocks(rec: RecordedReview, policy: Policy, locale: str) -> list[kit.Block]:
    review, zone = rec.review, zone_of(rec.employee, policy)
    if review.acknowledged_at is not None:
        when = review.acknowledged_at.astimezone(zone).date().isoformat()
        return [kit.context(kit.md("review.summary.acknowledged", locale, date=when))]
    if review.disagreed_at is not None:
        when = review.disagreed_at.astimezone(zone).date().isoformat()
        said = kit.md("review.summary.disagreed", locale, date=when)
        return kit.sections(kit.lines(said, kit.quote(review.disagreement or "")))
    value = str(review.id)
    prompt = kit.md("review.summary.prompt", locale, manager=rec.manager.name)
    return [
        *kit.sections(prompt),
        kit.actions(
            kit.button(
                t("review.summary.acknowledge", locale),
                ids.REVIEW_ACKNOWLEDGE,
                value,
                style="primary",
            ),
            kit.button(t("review.summary.disagree", locale), ids.REVIEW_DISAGREE, value),
            block_id=ids.REVIEW_RESPONSE_BLOCK,
        ),
    ]


def saved_notice(rec: RecordedReview, *, policy: Policy, locale: str) -> Message:
    """The recorder's (and the manager's) confirmation."""
    key = "review.saved.edited" if rec.edited else "review.saved.created"
    body = kit.md(
        key,
        locale,
        employee=rec.employee.name,
        cycle=rec.cycle.name,
        rating=rating_text(policy, rec.review.rating, locale),
    )
    text = kit.md("review.saved.text", locale, employee=rec.employee.name)
    return Message(text, kit.sections(body))


def acknowledged_notice(rec: RecordedReview, *, locale: str) -> Message:
    """Tell the manager the employee acknowledged the review."""
    text = kit.md(
        "review.acknowledged_notice",
        locale,
        employee=rec.employee.name,
        date=rec.talk.held_on.isoformat(),
    )
    return Message(text, kit.sections(text))


def disagreement_notice(
    rec: RecordedReview, *, policy: Policy, locale: str, withheld: bool = False
) -> Message:
    """Tell HR and the manager that the employee disagrees, with their comment (not where
    the policy keeps review content from HR: `withheld`)."""
    held, employee = rec.talk.held_on.isoformat(), rec.employee.name
    recorder = rec.recorded_by
    text = kit.md("review.disagreement.text", locale, employee=employee, date=held)
    if withheld:
        params = {"employee": employee, "date": held, "recorder": recorder, "cycle": rec.cycle.name}
        return Message(text, kit.sections(kit.md("review.disagreement.withheld", locale, **params)))
    body = kit.md(
        "review.disagreement.body",
        locale,
        employee=employee,
        date=held,
        recorder=recorder,
        cycle=rec.cycle.name,
        rating=rating_text(policy, rec.review.rating, locale),
    )
    blocks = [
        *kit.sections(kit.lines(body, kit.quote(rec.review.disagreement or ""))),
        kit.context(kit.md("review.disagreement.next", locale)),
    ]
    return Message(text, blocks)


def disagree_modal(review_id: int, *, locale: str) -> dict[str, Any]:
    """A small modal for the employee's comment (required). It carries the review's id
    only: which message shows the answer is the outbox's to say, not the modal's."""
    element = {
        "type": "plain_text_input",
        "action_id": ids.VALUE,
        "multiline": True,
        "max_length": TEXT_LIMIT,
        "placeholder": kit.plain(
            t("review.disagree_modal.placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    block = kit.input_block(
        ids.REVIEW_COMMENT,
        t("review.disagree_modal.label", locale),
        element,
        hint=t("review.disagree_modal.hint", locale),
    )
    return kit.modal(
        ids.REVIEW_DISAGREE_MODAL,
        t("review.disagree_modal.title", locale),
        [block],
        submit=t("review.disagree_modal.send", locale),
        close=t("review.disagree_modal.cancel", locale),
        private_metadata=ids.disagree_metadata(review_id),
    )


def usage(locale: str) -> Message:
    """How to call `/checkin review`."""
    text = kit.md("review.usage", locale)
    return Message(text, kit.sections(text))
