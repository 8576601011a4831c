"""The review interview's record (绩效面谈) as an Adaptive Card in a Teams dialog: the same
fields as Slack's (rating, evidence, gaps and causes, next cycle's goals, development actions,
decisions where the policy links the review to them, date, minutes, the employee's view),
prefilled when the cycle's review is being edited, each problem beside its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.errors import Problem
from bot.org.labels import kind_definition
from bot.org.policy import Policy
from bot.records.meeting import MAX_MINUTES, TEXT_LIMIT
from bot.review.interview_record import (
    DECISIONS,
    MAX_DEVELOPMENT,
    ReviewForm,
    decisions_of,
    rating_text,
)
from handlers.teams import ids
from handlers.teams.cards.forms import action_inputs, owner_choices
from handlers.teams.cards.kit import Element, adaptive_card, catalog_text, literal, problem_after
from prompts import t

TEXTS = ("evidence", "gaps", "next_goals", "employee_view")


def _saved(form: ReviewForm) -> dict[str, Any]:
    review, talk = form.existing, form.talk
    if review is None:
        return {}
    shown: dict[str, Any] = {name: getattr(review, name) for name in TEXTS}
    shown["rating"] = str(review.rating)
    shown["decisions"] = ",".join(decisions_of(review))
    if talk is not None:
        shown["held_on"], shown["minutes"] = talk.held_on.isoformat(), talk.duration_minutes
    return shown


def review_form(
    form: ReviewForm,
    *,
    policy: Policy,
    locale: str,
    form_id: str,
    typed: Mapping[str, Any] | None = None,
    problems: Mapping[str, Problem] | None = None,
    note: str | None = None,
) -> Element:
    """The record form of one review interview."""
    shown = dict(typed) if typed is not None else _saved(form)
    problems = dict(problems or {})
    review, name = form.existing, form.employee.name
    intro = "review.modal.intro_edit" if review else "review.modal.intro"
    body: list[Element] = []
    if note:
        body.append(literal(note, color="attention", weight="bolder"))
    body.append(catalog_text(intro, locale, name=name, cycle=form.cycle.name))
    definition = kind_definition(policy, form.kind, locale)
    if definition:
        body.append(literal(definition, subtle=True))
    body.append(catalog_text("review.modal.not_dialogue", locale, subtle=True))
    scale = range(policy.review.rating_min, policy.review.rating_max + 1)
    body += problem_after(
        {
            "type": "Input.ChoiceSet",
            "id": "rating",
            "label": t("review.modal.rating_label", locale),
            "placeholder": t("review.modal.rating_placeholder", locale),
            "style": "compact",
            "isRequired": True,
            "value": str(shown.get("rating") or ""),
            "choices": [{"title": rating_text(policy, r, locale), "value": str(r)} for r in scale],
        },
        problems,
        locale,
    )
    for text in ("evidence", "gaps", "next_goals"):
        body += _text(text, shown, problems, locale, required=text == "evidence")
    body.append(
        catalog_text(
            "review.modal.next_goals_hint", locale, subtle=True, due=form.goals_due.isoformat()
        )
    )
    body.append(catalog_text("review.modal.actions_header", locale, separator=True))
    if form.actions:
        body.append(catalog_text("review.modal.recorded_actions", locale, subtle=True))
        body += [literal(f"• {a.text} · {a.due_on.isoformat()}", subtle=True) for a in form.actions]
    owners = owner_choices(form.employee, form.manager, locale)
    for n in range(1, MAX_DEVELOPMENT + 1):
        body += action_inputs(
            n, labels="review.modal", owners=owners, shown=shown, problems=problems, locale=locale
        )
    if form.decisions_shown:
        body += problem_after(
            {
                "type": "Input.ChoiceSet",
                "id": "decisions",
                "label": t("review.modal.decisions_label", locale),
                "isMultiSelect": True,
                "style": "expanded",
                "value": str(shown.get("decisions") or ""),
                "choices": [
                    {"title": t(f"review.decision.{d}", locale), "value": d} for d in DECISIONS
                ],
            },
            problems,
            locale,
        )
        body.append(catalog_text("review.modal.decisions_hint", locale, subtle=True))
    minutes = shown.get("minutes") or policy.kind(form.kind).default_minutes
    body += problem_after(
        {
            "type": "Input.Date",
            "id": "held_on",
            "label": t("review.modal.held_on_label", locale),
            "isRequired": True,
            "max": form.today.isoformat(),
            "value": str(shown.get("held_on") or form.today.isoformat()),
        },
        problems,
        locale,
    )
    body += problem_after(
        {
            "type": "Input.Number",
            "id": "minutes",
            "label": t("review.modal.minutes_label", locale),
            "min": 1,
            "max": MAX_MINUTES,
            "value": int(minutes) if str(minutes).isdigit() else minutes,
        },
        problems,
        locale,
    )
    body += _text("employee_view", shown, problems, locale)
    save = {
        "type": "Action.Submit",
        "title": t("review.modal.save", locale),
        "style": "positive",
        "data": ids.submit_form(
            ids.FORM_REVIEW,
            e=form.employee.id,
            r=review.id if review else None,
            f=form_id,
        ),
    }
    return adaptive_card(body, actions=[save])


def _text(
    name: str,
    shown: Mapping[str, Any],
    problems: Mapping[str, Problem],
    locale: str,
    *,
    required: bool = False,
) -> list[Element]:
    return problem_after(
        {
            "type": "Input.Text",
            "id": name,
            "label": t(f"review.modal.{name}_label", locale),
            "placeholder": t(f"review.modal.{name}_placeholder", locale),
            "isMultiline": True,
            "isRequired": required,
            "maxLength": TEXT_LIMIT,
            "value": str(shown.get(name) or ""),
        },
        problems,
        locale,
    )
