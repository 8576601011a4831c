"""The smaller dialogs as Adaptive Cards: a goal, the self-assessment (Save draft / Submit) and
the employee's comment when they disagree with a review. As in the record form, every input has
a label in the person's language, and a re-rendered form keeps what was typed with each
problem in red right after its field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import Problem
from bot.org.policy import Policy
from bot.records.goals import MEASURE_LIMIT, TITLE_LIMIT, GoalForm
from bot.records.meeting import ACTION_TEXT_LIMIT
from bot.records.milestones import NAME_LIMIT as MILESTONE_NAME_LIMIT
from bot.records.milestones import MilestoneInfo
from bot.review.interview_record import rating_text
from bot.review.self_assessment import TEXT_FIELDS, TEXT_LIMIT, SelfForm
from handlers.teams import ids
from handlers.teams.cards.kit import (
    Element,
    TeamsMessage,
    adaptive_card,
    catalog_plain,
    catalog_text,
    literal,
    problem_after,
)
from prompts import t
from storage.models import Person

DRAFT, SUBMIT = "draft", "submit"  # the self-assessment's two buttons (data key `d`)


def owner_choices(employee: Person, manager: Person, locale: str) -> list[Element]:
    """Who may own an action of a talk or a review: the employee or their manager."""
    return [
        {"title": t("owner.employee", locale, name=employee.name), "value": "employee"},
        {"title": t("owner.manager", locale, name=manager.name), "value": "manager"},
    ]


def action_inputs(
    n: int,
    *,
    labels: str,
    owners: list[Element],
    shown: Mapping[str, Any],
    problems: Mapping[str, Problem],
    locale: str,
    earliest: date | None = None,
) -> list[Element]:
    """Action row `n` of a talk or a review (text, owner, due date), each problem after its
    input; `labels`: the catalog section of its words (`modal`, `review.modal`)."""
    name = {part: ids.action_field(n, part) for part in ("text", "owner", "due")}
    due: Element = {
        "type": "Input.Date",
        "id": name["due"],
        "label": t(f"{labels}.action_due_label", locale, n=n),
        "value": str(shown.get(name["due"]) or ""),
    }
    if earliest is not None:
        due["min"] = earliest.isoformat()
    inputs: list[Element] = [
        {
            "type": "Input.Text",
            "id": name["text"],
            "label": t(f"{labels}.action_text_label", locale, n=n),
            "placeholder": t(f"{labels}.action_text_placeholder", locale),
            "maxLength": ACTION_TEXT_LIMIT,
            "value": str(shown.get(name["text"]) or ""),
        },
        {
            "type": "Input.ChoiceSet",
            "id": name["owner"],
            "label": t(f"{labels}.action_owner_label", locale, n=n),
            "placeholder": t(f"{labels}.action_owner_placeholder", locale),
            "style": "compact",
            "value": str(shown.get(name["owner"]) or ""),
            "choices": owners,
        },
        due,
    ]
    return [item for element in inputs for item in problem_after(element, problems, locale)]


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def self_form(
    form: SelfForm,
    *,
    policy: Policy,
    locale: str,
    typed: Mapping[str, Any] | None = None,
    problems: Mapping[str, Problem] | None = None,
    note: str | None = None,
) -> Element:
    """The self-assessment, filled with what was saved (or typed)."""
    saved = form.saved
    shown: dict[str, Any] = dict(typed) if typed is not None else {}
    if typed is None and saved is not None:
        shown = {"rating": saved.rating} | {n: getattr(saved, n) for n in TEXT_FIELDS}
    problems = problems or {}
    body: list[Element] = [
        catalog_text(
            "self.modal.intro",
            locale,
            cycle=form.cycle.name,
            date=form.cycle.review_from.isoformat(),
        )
    ]
    if note:
        body.append(literal(note, color="attention", weight="bolder"))
    elif saved is not None and saved.submitted_at is not None:
        when = _when(saved.submitted_at, form.zone)
        body.append(catalog_text("self.modal.status_submitted", locale, subtle=True, when=when))
    elif saved is not None:
        when = _when(saved.updated_at, form.zone)
        body.append(catalog_text("self.modal.status_draft", locale, subtle=True, when=when))
    else:
        body.append(catalog_text("self.modal.status_new", locale, subtle=True))
    scale = range(policy.review.rating_min, policy.review.rating_max + 1)
    rating = shown.get("rating")
    body += problem_after(
        {
            "type": "Input.ChoiceSet",
            "id": "rating",
            "label": t("self.modal.rating_label", locale),
            "placeholder": t("self.modal.rating_placeholder", locale),
            "style": "compact",
            "value": "" if rating is None else str(rating),
            "choices": [{"title": rating_text(policy, r, locale), "value": str(r)} for r in scale],
        },
        problems,
        locale,
    )
    for name in TEXT_FIELDS:
        body += problem_after(
            {
                "type": "Input.Text",
                "id": name,
                "label": t(f"self.modal.{name}_label", locale),
                "placeholder": t(f"self.modal.{name}_placeholder", locale),
                "isMultiline": True,
                "maxLength": TEXT_LIMIT,
                "value": str(shown.get(name) or ""),
            },
            problems,
            locale,
        )
    manager = form.manager.name if form.manager else None
    hint = (
        catalog_text("self.modal.hint", locale, subtle=True, manager=manager)
        if manager
        else catalog_text("self.modal.hint_no_manager", locale, subtle=True)
    )
    body.append(hint)
    cycle = form.cycle.id
    actions: list[Element] = [
        {
            "type": "Action.Submit",
            "title": t("self.modal.submit", locale),
            "style": "positive",
            "data": ids.submit_form(ids.FORM_SELF, c=cycle, d=SUBMIT),
        }
    ]
    if not form.submitted:
        actions.append(
            {
                "type": "Action.Submit",
                "title": t("self.modal.save_draft", locale),
                "data": ids.submit_form(ids.FORM_SELF, c=cycle, d=DRAFT),
            }
        )
    return adaptive_card(body, actions=actions)


def disagree_form(
    review_id: int, *, locale: str, typed: str = "", problem: Problem | None = None
) -> Element:
    """The employee's comment on a review they see otherwise (required)."""
    comment: Element = {
        "type": "Input.Text",
        "id": "comment",
        "label": t("review.disagree_modal.label", locale),
        "placeholder": t("review.disagree_modal.placeholder", locale),
        "isMultiline": True,
        "isRequired": True,
        "maxLength": TEXT_LIMIT,
        "value": typed,
    }
    body = problem_after(comment, {"comment": problem} if problem else {}, locale)
    body.append(catalog_text("review.disagree_modal.hint", locale, subtle=True))
    send = {
        "type": "Action.Submit",
        "title": t("review.disagree_modal.send", locale),
        "data": ids.submit_form(ids.FORM_DISAGREE, r=review_id),
    }
    return adaptive_card(body, actions=[send])


def goal_form(
    form: GoalForm,
    *,
    locale: str,
    form_id: str,
    typed: Mapping[str, Any] | None = None,
    problems: Mapping[str, Problem] | None = None,
) -> Element:
    """A goal for a fixed person, or with a choice of the actor's reports (and "Myself",
    proposed to their manager, when they have one)."""
    typed, problems = dict(typed or {}), dict(problems or {})
    body: list[Element] = []
    if form.employee is None:
        choices = [{"title": p.name, "value": p.id} for p in form.choices if p.id != form.actor.id]
        if form.may_pick_self and form.manager is not None:
            myself = t("goal.modal.myself", locale, manager=form.manager.name)
            choices.insert(0, {"title": myself, "value": form.actor.id})
        body += problem_after(
            {
                "type": "Input.ChoiceSet",
                "id": "employee",
                "label": t("goal.modal.employee_label", locale),
                "placeholder": t("goal.modal.employee_placeholder", locale),
                "style": "filtered",
                "isRequired": True,
                "value": str(typed.get("employee") or ""),
                "choices": choices,
            },
            problems,
            locale,
        )
    elif form.proposal:
        manager = form.manager.name if form.manager else ""
        body.append(catalog_text("goal.modal.proposal", locale, manager=manager))
    else:
        body.append(catalog_text("goal.modal.for", locale, name=form.employee.name))
    body += problem_after(
        {
            "type": "Input.Text",
            "id": "title",
            "label": t("goal.modal.title_label", locale),
            "placeholder": t("goal.modal.title_placeholder", locale),
            "isRequired": True,
            "maxLength": TITLE_LIMIT,
            "value": str(typed.get("title") or ""),
        },
        problems,
        locale,
    )
    body += problem_after(
        {
            "type": "Input.Text",
            "id": "measure",
            "label": t("goal.modal.measure_label", locale),
            "placeholder": t("goal.modal.measure_placeholder", locale),
            "isMultiline": True,
            "isRequired": True,
            "maxLength": MEASURE_LIMIT,
            "value": str(typed.get("measure") or ""),
        },
        problems,
        locale,
    )
    body += problem_after(
        {
            "type": "Input.Date",
            "id": "due_on",
            "label": t("goal.modal.due_label", locale),
            "isRequired": True,
            "min": form.today.isoformat(),
            "value": str(typed.get("due_on") or ""),
        },
        problems,
        locale,
    )
    body.append(catalog_text("goal.modal.clarify_hint", locale, subtle=True))
    employee = form.employee.id if form.employee else None
    save = {
        "type": "Action.Submit",
        "title": t("goal.modal.save", locale),
        "style": "positive",
        "data": ids.submit_form(ids.FORM_GOAL, e=employee, f=form_id),
    }
    return adaptive_card(body, actions=[save])


def milestone_form(
    people: list[Person],
    *,
    locale: str,
    today: date,
    typed: Mapping[str, Any] | None = None,
    problems: Mapping[str, Problem] | None = None,
) -> Element:
    """A project milestone: its name, who takes part (found by name as you type) and,
    optionally, when it is due."""
    typed, problems = dict(typed or {}), dict(problems or {})
    body: list[Element] = []
    body += problem_after(
        {
            "type": "Input.Text",
            "id": "name",
            "label": t("teams.milestone_name", locale),
            "isRequired": True,
            "maxLength": MILESTONE_NAME_LIMIT,
            "value": str(typed.get("name") or ""),
        },
        problems,
        locale,
    )
    body += problem_after(
        {
            "type": "Input.ChoiceSet",
            "id": "participants",
            "label": t("teams.milestone_people", locale),
            "isMultiSelect": True,
            "style": "filtered",
            "isRequired": True,
            "value": str(typed.get("participants") or ""),
            "choices": [{"title": p.name, "value": p.id} for p in people],
            "choices.data": {"type": "Data.Query", "dataset": ids.EVERYONE_DATASET},
        },
        problems,
        locale,
    )
    body += problem_after(
        {
            "type": "Input.Date",
            "id": "due_on",
            "label": t("teams.milestone_due", locale),
            "min": today.isoformat(),
            "value": str(typed.get("due_on") or ""),
        },
        problems,
        locale,
    )
    body.append(catalog_text("milestone.registered.hint", locale, subtle=True))
    save = {
        "type": "Action.Submit",
        "title": t("teams.milestone_save", locale),
        "style": "positive",
        "data": ids.submit_form(ids.FORM_MILESTONE),
    }
    return adaptive_card(body, actions=[save])


def milestone_card(
    info: MilestoneInfo, *, locale: str, done_on: date | None = None
) -> TeamsMessage:
    """A registered milestone with "Mark done", or, once done, the confirmation."""
    milestone = info.milestone
    people = ", ".join(p.name for p in info.participants)
    if done_on is not None:
        body = [
            catalog_text(
                "milestone.done.line", locale, name=milestone.name, date=done_on.isoformat()
            ),
            catalog_text("milestone.registered.people", locale, people=people),
            catalog_text("milestone.done.hint", locale, subtle=True),
        ]
        summary = catalog_plain("milestone.done.text", locale, name=milestone.name)
        return TeamsMessage(summary, [adaptive_card(body)])
    due = (
        catalog_text("milestone.registered.due", locale, date=milestone.due_on.isoformat())
        if milestone.due_on
        else catalog_text("milestone.registered.no_due", locale)
    )
    body = [
        catalog_text("milestone.registered.line", locale, name=milestone.name),
        catalog_text("milestone.registered.people", locale, people=people),
        due,
        catalog_text("milestone.registered.hint", locale, subtle=True),
    ]
    done = ids.execute(
        ids.MILESTONE_DONE, t("milestone.registered.done_button", locale), m=milestone.id
    )
    summary = catalog_plain("milestone.registered.text", locale, name=milestone.name)
    return TeamsMessage(summary, [adaptive_card(body, actions=[done])])
