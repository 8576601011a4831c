"""Dialogs (Teams' task modules): a form is asked for (`task/fetch`) and answered with an
Adaptive Card; its submission (`task/submit`) is validated and saved before the answer, so
a problem comes back on the same card, beside its field, with everything typed kept; a saved
form closes the dialog and its notices go out.

A form carries its own id (`f`, drawn when it is first shown and kept through every
re-render), so a retried or doubled submission names the same record: it is saved once,
however often it arrives."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from bot.engine import kinds
from bot.errors import Invalid, NotAllowed, Problem, SaveFailed
from bot.logs import failure
from bot.org import pickers
from bot.org.people import local_today
from bot.records import goals, milestones, talks
from bot.review import answers, interview_record, self_assessment
from bot.teams.app import Answer, Incoming
from handlers.payload import record_id
from handlers.teams import ids, parse
from handlers.teams.cards import answers as answer_cards
from handlers.teams.cards import forms
from handlers.teams.cards.kit import catalog_plain
from handlers.teams.cards.review_form import review_form
from handlers.teams.cards.talk_form import form_title, talk_form
from handlers.teams.notify import announce_recorded
from prompts import t

log = logging.getLogger(__name__)

FORM_ID_LIMIT = 64
FORM_WORDING = {
    "milestone.error.no_name": "teams.milestone_name_required",
    "milestone.error.no_people": "teams.milestone_people_required",
}
DEFAULT_KIND = "checkin"


def _continue(title: str, card: dict[str, Any]) -> Answer:
    return Answer(
        200,
        {"task": {"type": "continue", "value": {"title": title, **answer_cards.attachment(card)}}},
    )


def _message(text: str) -> Answer:
    """Close the dialog's form and show one line instead (a refusal)."""
    return Answer(200, {"task": {"type": "message", "value": text}})


def _form_id(data: dict[str, Any]) -> str:
    given = parse.text_of(data, ids.FORM_ID)[:FORM_ID_LIMIT]
    return given or secrets.token_urlsafe(16)


async def fetch(incoming: Incoming) -> Answer:
    """The form a button asked for, or why not (a refusal closes the dialog with one line)."""
    return await _refusing(incoming, _fetch)


async def submit(incoming: Incoming) -> Answer:
    """A form's submission: saved, shown again with its problems, or refused."""
    return await _refusing(incoming, _submit)


async def _refusing(
    incoming: Incoming, answer: Callable[[Incoming, dict[str, Any]], Awaitable[Answer]]
) -> Answer:
    """Every form's refusals, answered the same way: the reason, in one line."""
    locale = incoming.locale
    if incoming.person is None:
        return _message(t("refusal.not_in_org", locale))
    try:
        return await answer(incoming, parse.data_of(incoming.activity.value))
    except NotAllowed as refused:
        return _message(t(refused.key, locale, **refused.params))


async def _fetch(incoming: Incoming, data: dict[str, Any]) -> Answer:
    locale = incoming.locale
    form = parse.text_of(data, ids.FORM)
    if form == ids.FORM_TALK:
        employee = parse.person_of(data)
        kind = parse.text_of(data, ids.KIND) or DEFAULT_KIND
        if not employee:
            return await _picker(incoming)
        return await _talk_form(incoming, employee, kind, secrets.token_urlsafe(16))
    if form == ids.FORM_GOAL:
        whose = parse.person_of(data) or None
        return await _goal_form(incoming, whose, secrets.token_urlsafe(16))
    if form == ids.FORM_MILESTONE:
        return await _milestone_form(incoming)
    if form == ids.FORM_REVIEW:
        employee = parse.person_of(data)
        return await _review_form(incoming, employee, secrets.token_urlsafe(16))
    if form == ids.FORM_SELF:
        return await _self_form(incoming, record_id(data.get(ids.CYCLE)) or None)
    if form == ids.FORM_DISAGREE:
        review_id = record_id(data.get(ids.REVIEW))
        review = await answers.answerable(
            incoming.deps.engine, review_id=review_id, actor_id=incoming.actor
        )
        card = forms.disagree_form(review.id or 0, locale=locale)
        return _continue(t("review.disagree_modal.title", locale), card)
    return _message(t("teams.form_unknown", locale))


async def _submit(incoming: Incoming, data: dict[str, Any]) -> Answer:
    form = parse.text_of(data, ids.FORM)
    if form == ids.FORM_PICK:
        chosen = parse.person_of(data, ids.PICKED)
        if not chosen:
            return await _picker(incoming, problem=Problem("teams.pick_required"))
        return await _talk_form(incoming, chosen, DEFAULT_KIND, secrets.token_urlsafe(16))
    savers = {
        ids.FORM_TALK: _save_talk,
        ids.FORM_GOAL: _save_goal,
        ids.FORM_MILESTONE: _save_milestone,
        ids.FORM_REVIEW: _save_review,
        ids.FORM_SELF: _save_self,
        ids.FORM_DISAGREE: _disagree,
    }
    save = savers.get(form)
    if save is None:
        return _message(t("teams.form_unknown", incoming.locale))
    return await save(incoming, data)


async def _picker(incoming: Incoming, problem: Problem | None = None) -> Answer:
    locale = incoming.locale
    found = await pickers.pickable_people(incoming.deps.engine, actor_id=incoming.actor, typed="")
    if not found.people and not found.actor.is_hr:
        raise NotAllowed("refusal.no_reports")
    card = answer_cards.picker_card(found.people, locale=locale, problem=problem)
    return _continue(form_title(locale), card)


async def _talk_form(
    incoming: Incoming,
    employee: str,
    kind: str,
    form_id: str,
    *,
    values: dict[str, str] | None = None,
    problems: dict[str, Problem] | None = None,
    note: str | None = None,
) -> Answer:
    deps, locale = incoming.deps, incoming.locale
    ctx = await talks.record_context(
        deps.engine,
        actor_id=incoming.actor,
        employee_id=employee,
        policy=deps.policy,
        now=deps.clock(),
    )
    card = talk_form(
        ctx,
        policy=deps.policy,
        locale=locale,
        kind=kind,
        form_id=form_id,
        values=values,
        problems=problems,
        note=note,
    )
    return _continue(form_title(locale), card)


async def _save_talk(incoming: Incoming, data: dict[str, Any]) -> Answer:
    deps, locale = incoming.deps, incoming.locale
    form_id = _form_id(data)
    values = parse.form_values(data)
    employee = parse.person_of(data)
    kind = values.get(ids.TALK_KIND) or DEFAULT_KIND
    try:
        draft = replace(parse.talk_draft(data), employee_id=employee)
        recorded = await talks.record_talk(
            deps.engine,
            actor_id=incoming.actor,
            draft=draft,
            policy=deps.policy,
            now=deps.clock(),
            key=talks.submission_key(ids.FORM_TALK_KEY, incoming.actor, form_id),
            digest=talks.form_digest(values),
        )
    except Invalid as invalid:
        return await _talk_form(
            incoming, employee, kind, form_id, values=values, problems=invalid.problems
        )
    except SaveFailed:
        failure(log, "saving a talk from Teams failed; the form stays open")
        note = t("error.save_failed", locale)
        return await _talk_form(incoming, employee, kind, form_id, values=values, note=note)
    await announce_recorded(deps, recorded)
    return Answer(200, {})


async def _goal_form(
    incoming: Incoming,
    employee: str | None,
    form_id: str,
    *,
    typed: dict[str, Any] | None = None,
    problems: dict[str, Problem] | None = None,
) -> Answer:
    deps, locale = incoming.deps, incoming.locale
    found = await goals.goal_form(
        deps.engine,
        actor_id=incoming.actor,
        employee_id=employee,
        policy=deps.policy,
        now=deps.clock(),
    )
    card = forms.goal_form(found, locale=locale, form_id=form_id, typed=typed, problems=problems)
    return _continue(t("goal.modal.title", locale), card)


async def _save_goal(incoming: Incoming, data: dict[str, Any]) -> Answer:
    """Save the goal once per form (a retry or a second click finds it), or show the form
    again with each problem beside its field."""
    deps = incoming.deps
    form_id = _form_id(data)
    fixed = parse.person_of(data) or None
    typed = {name: parse.text_of(data, name) for name in ("employee", "title", "measure", "due_on")}
    employee = fixed or parse.person_of(data, "employee")
    try:
        if not employee:
            raise Invalid({"employee": Problem("goal.error.employee_required")})
        due_on = parse.read_day(typed["due_on"], "due_on")
        created = await goals.create_goal(
            deps.engine,
            actor_id=incoming.actor,
            employee_id=employee,
            title=typed["title"],
            measure=typed["measure"],
            due_on=due_on,
            now=deps.clock(),
            policy=deps.policy,
            key=talks.submission_key(ids.FORM_GOAL_KEY, incoming.actor, form_id),
        )
    except Invalid as invalid:
        return await _goal_form(incoming, fixed, form_id, typed=typed, problems=invalid.problems)
    except SaveFailed:
        failure(log, "saving a goal from Teams failed; the form stays open")
        problems = {"title": Problem("goal.error.save_failed")}
        return await _goal_form(incoming, fixed, form_id, typed=typed, problems=problems)
    if created.created:
        deps.kick()  # the proposal to the manager, or the goal to the employee
    elif created.amended and deps.notifier is not None:
        subject = kinds.goal_subject(created.goal.id)
        await deps.notifier.redraw_posted(
            subject=subject, kinds=(kinds.GOAL_PROPOSED, kinds.GOAL_SET)
        )
    return Answer(200, {})


async def _milestone_form(
    incoming: Incoming,
    *,
    typed: dict[str, Any] | None = None,
    problems: dict[str, Problem] | None = None,
) -> Answer:
    deps, locale = incoming.deps, incoming.locale
    found = await pickers.pickable_people(deps.engine, actor_id=incoming.actor, typed="")
    today = local_today(found.actor, deps.policy, deps.clock())
    card = forms.milestone_form(
        found.people, locale=locale, today=today, typed=typed, problems=problems
    )
    return _continue(t("teams.milestone_title", locale), card)


async def _save_milestone(incoming: Incoming, data: dict[str, Any]) -> Answer:
    """Register the milestone (once: the same registration again finds the first) and post
    it in the chat with its "Mark done" button; problems come back beside their fields."""
    deps = incoming.deps
    typed = {name: parse.text_of(data, name) for name in ("name", "participants", "due_on")}
    people = [p[: parse.PERSON_REF_LIMIT] for p in typed["participants"].split(",") if p.strip()]
    try:
        info = await milestones.register_milestone(
            deps.engine,
            actor_id=incoming.actor,
            name=typed["name"],
            participant_ids=people,
            due_on=parse.read_day(typed["due_on"], "due_on"),
            now=deps.clock(),
            policy=deps.policy,
        )
    except Invalid as invalid:
        # the command's wording ("in quotes", "with @") is not the form's
        problems = {
            name: Problem(FORM_WORDING.get(problem.key, problem.key), problem.params)
            for name, problem in invalid.problems.items()
        }
        return await _milestone_form(incoming, typed=typed, problems=problems)
    except NotAllowed as refused:
        problems = {"participants": Problem(refused.key, dict(refused.params))}
        return await _milestone_form(incoming, typed=typed, problems=problems)
    except SaveFailed:
        failure(log, "saving a milestone from Teams failed; the form stays open")
        problems = {"name": Problem("milestone.error.save_failed")}
        return await _milestone_form(incoming, typed=typed, problems=problems)
    if info.first:
        await incoming.reply(forms.milestone_card(info, locale=incoming.locale).activity())
    return Answer(200, {})


async def _review_form(
    incoming: Incoming,
    employee: str,
    form_id: str,
    *,
    typed: dict[str, Any] | None = None,
    problems: dict[str, Problem] | None = None,
    note: str | None = None,
) -> Answer:
    deps, locale = incoming.deps, incoming.locale
    found = await interview_record.review_form(
        deps.engine,
        actor_id=incoming.actor,
        employee_id=employee,
        policy=deps.policy,
        now=deps.clock(),
        platform="teams",
    )
    card = review_form(
        found,
        policy=deps.policy,
        locale=locale,
        form_id=form_id,
        typed=typed,
        problems=problems,
        note=note,
    )
    title = "review.modal.title_edit" if found.existing else "review.modal.title"
    return _continue(t(title, locale), card)


async def _save_review(incoming: Incoming, data: dict[str, Any]) -> Answer:
    """Save the review once per form (edit mode changes the cycle's review), or show the form
    again with each problem beside its field and everything typed kept."""
    deps, locale = incoming.deps, incoming.locale
    form_id = _form_id(data)
    values = parse.review_values(data)
    employee = parse.person_of(data)
    try:
        recorded = await interview_record.record_review(
            deps.engine,
            actor_id=incoming.actor,
            draft=parse.review_draft(data),
            policy=deps.policy,
            now=deps.clock(),
            key=talks.submission_key(ids.FORM_REVIEW_KEY, incoming.actor, form_id),
            digest=talks.form_digest(values),
        )
    except Invalid as invalid:
        return await _review_form(
            incoming, employee, form_id, typed=values, problems=invalid.problems
        )
    except SaveFailed:
        failure(log, "saving a review from Teams failed; the form stays open")
        note = t("review.error.save_failed", locale)
        return await _review_form(incoming, employee, form_id, typed=values, note=note)
    if recorded.fresh:
        deps.kick()  # the summary to the employee, the confirmations
    elif recorded.amended and deps.notifier is not None:
        await deps.notifier.redraw_posted(
            subject=kinds.review_subject(recorded.review.id),
            kinds=(kinds.REVIEW_SUMMARY, kinds.REVIEW_SAVED),
            version=kinds.review_version(recorded.talk.submission_key),
        )
    if (recorded.fresh or recorded.amended) and deps.notifier is not None:
        await deps.notifier.records_changed([recorded.employee.id, recorded.manager.id])
    return Answer(200, {})


async def _self_form(
    incoming: Incoming,
    cycle_id: int | None,
    *,
    typed: dict[str, Any] | None = None,
    problems: dict[str, Problem] | None = None,
    note: str | None = None,
) -> Answer:
    deps, locale = incoming.deps, incoming.locale
    form = await self_assessment.load_form(
        deps.engine,
        employee_id=incoming.actor,
        policy=deps.policy,
        now=deps.clock(),
        cycle_id=cycle_id,
    )
    card = forms.self_form(
        form, policy=deps.policy, locale=locale, typed=typed, problems=problems, note=note
    )
    return _continue(t("self.modal.title", locale), card)


async def _save_self(incoming: Incoming, data: dict[str, Any]) -> Answer:
    """Save draft keeps the dialog open with "Draft saved"; Submit closes it with a line and
    tells the manager (once; a later submission redraws the manager's copy)."""
    deps, locale = incoming.deps, incoming.locale
    cycle_id = record_id(data.get(ids.CYCLE)) or None
    submit = parse.text_of(data, "d") != forms.DRAFT
    texts = {name: parse.text_of(data, name) for name in self_assessment.TEXT_FIELDS}
    typed: dict[str, Any] = {"rating": parse.text_of(data, "rating"), **texts}
    try:
        saved = await self_assessment.save(
            deps.engine,
            employee_id=incoming.actor,
            cycle_id=cycle_id,
            rating=typed["rating"] or None,
            submit=submit,
            policy=deps.policy,
            now=deps.clock(),
            **texts,
        )
    except Invalid as invalid:
        note = t("self.modal.not_saved", locale)
        return await _self_form(
            incoming, cycle_id, typed=typed, problems=invalid.problems, note=note
        )
    except SaveFailed:
        failure(log, "saving a self-assessment from Teams failed; the form stays open")
        note = t("self.error.save_failed", locale)
        return await _self_form(incoming, cycle_id, typed=typed, note=note)
    if not submit:
        return await _self_form(incoming, saved.cycle.id)
    if saved.first_submission:
        deps.kick()  # the manager's notice was written with the submission
        manager = saved.manager.name if saved.manager else None
        key = "self.done.submitted" if manager else "self.done.submitted_no_manager"
        return _message(catalog_plain(key, locale, manager=manager))
    if deps.notifier is not None:
        subject = kinds.assessment_subject(saved.assessment.id)
        await deps.notifier.redraw_posted(subject=subject, kinds=(kinds.SELF_SUBMITTED,))
    return _message(catalog_plain("self.done.updated", locale))


async def _disagree(incoming: Incoming, data: dict[str, Any]) -> Answer:
    """The employee's disagreement with its comment: stored once; HR and the manager told;
    the summary shows it wherever it was sent."""
    deps, locale = incoming.deps, incoming.locale
    review_id = record_id(data.get(ids.REVIEW))
    comment = parse.text_of(data, "comment")
    try:
        response = await answers.respond_to_review(
            deps.engine,
            review_id=review_id,
            actor_id=incoming.actor,
            agree=False,
            comment=comment,
            now=deps.clock(),
        )
    except Invalid as invalid:
        problem = next(iter(invalid.problems.values()))
        card = forms.disagree_form(review_id, locale=locale, typed=comment, problem=problem)
        return _continue(t("review.disagree_modal.title", locale), card)
    if response.first:
        deps.kick()  # HR's and the manager's notices were written with the disagreement
    elif response.amended and deps.notifier is not None:
        version = kinds.review_version(response.record.talk.submission_key)
        subject = kinds.review_subject(response.record.review.id)
        await deps.notifier.redraw_posted(
            subject=subject, kinds=(kinds.REVIEW_DISAGREED,), version=version
        )
    if deps.notifier is not None:
        await deps.notifier.redraw(response.posted)  # the summary, with the answer
    return Answer(200, {})


async def search(incoming: Incoming) -> Answer:
    """A people picker's typeahead: the actor's reports (HR: anyone) whose name matches."""
    value = incoming.activity.value if isinstance(incoming.activity.value, dict) else {}
    typed = str(value.get("queryText") or "")[: pickers.TYPED_LIMIT]
    everyone = value.get("dataset") == ids.EVERYONE_DATASET
    try:
        if everyone:
            people = await pickers.anyone_named(
                incoming.deps.engine, actor_id=incoming.actor, typed=typed
            )
        else:
            found = await pickers.pickable_people(
                incoming.deps.engine, actor_id=incoming.actor, typed=typed
            )
            people = found.people
    except NotAllowed:
        people = []
    results = [{"title": p.name, "value": p.id} for p in people]
    return Answer(
        200,
        {
            "statusCode": 200,
            "type": "application/vnd.microsoft.search.searchResponse",
            "value": {"results": results},
        },
    )
