"""Block Kit for the self-assessment and the interview date: the modal, its confirmation, the
manager's notice, the nudge's button, and the date pickers of the prep pack and App Home."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.engine.nudge_content import NudgeContent
from bot.org.policy import Policy
from bot.review.interview_days import InterviewSet
from bot.review.self_assessment import TEXT_FIELDS, TEXT_LIMIT, Saved, SelfForm
from handlers.slack import ids
from handlers.slack.blocks import kit
from handlers.slack.blocks.messages import Message
from prompts import t
from storage.models import SelfAssessment


def _when(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


def rating_label(policy: Policy, rating: int, locale: str) -> str:
    """A rating with HR's label in `locale` ("4 · Exceeds expectations")."""
    labels = policy.review.rating_labels.get(rating, {})
    label = labels.get(locale) or labels.get("en")  # type: ignore[call-overload]
    return (
        t("self.modal.rating_option", locale, rating=rating, label=label) if label else str(rating)
    )


def _rating_input(value: object, policy: Policy, locale: str) -> kit.Block:
    scale = range(policy.review.rating_min, policy.review.rating_max + 1)
    options = [kit.option(rating_label(policy, r, locale), str(r)) for r in scale]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.VALUE,
        "placeholder": kit.plain(t("self.modal.rating_placeholder", locale), kit.PLACEHOLDER_LIMIT),
        "options": options,
    }
    chosen = next((o for o in options if o["value"] == str(value)), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return kit.input_block(
        ids.SELF_RATING, t("self.modal.rating_label", locale), element, optional=True
    )


def _text_input(name: str, value: str, locale: str) -> kit.Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.VALUE,
        "multiline": True,
        "max_length": TEXT_LIMIT,
        "placeholder": kit.plain(
            t(f"self.modal.{name}_placeholder", locale), kit.PLACEHOLDER_LIMIT
        ),
    }
    if value:
        # Slack stops typing at max_length, so only a forged payload is longer; the field's
        # error says so, and Slack refuses an initial value over the limit.
        element["initial_value"] = value[:TEXT_LIMIT]
    return kit.input_block(
        ids.self_block(name), t(f"self.modal.{name}_label", locale), element, optional=True
    )


def _saved_answers(saved: SelfAssessment | None) -> dict[str, Any]:
    if saved is None:
        return {}
    return {"rating": saved.rating} | {name: getattr(saved, name) for name in TEXT_FIELDS}


def _status(form: SelfForm, locale: str, note: str | None) -> kit.Block:
    saved = form.saved
    text: object
    if note:
        text = note  # our own words, from the listener; plain text is escaped
    elif saved is not None and saved.submitted_at is not None:
        when = _when(saved.submitted_at, form.zone)
        text = kit.md("self.modal.status_submitted", locale, when=when)
    elif saved is not None:
        text = kit.md("self.modal.status_draft", locale, when=_when(saved.updated_at, form.zone))
    else:
        text = kit.md("self.modal.status_new", locale)
    return kit.context(text, block_id=ids.SELF_STATUS)


def self_modal(
    form: SelfForm,
    *,
    policy: Policy,
    locale: str,
    note: str | None = None,
    errors: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The self-assessment modal, filled with what was saved (or `typed`, when a draft could
    not be saved).

    The modal's own button is **Submit** (it closes the modal and tells the manager), and a
    **Save draft** button in the form stores the answers without closing or sharing them,
    redrawing the modal with "Draft saved at …" (or the problems under their fields). Two
    buttons are what people know from any form with drafts; a "keep as draft" checkbox next
    to Submit would be easy to overlook and send an unfinished text to the manager. Once
    submitted, Save draft goes away: submitting again saves changes, still until the review
    is recorded. `note` replaces the status line; `errors` (by block id) go under fields."""
    manager = form.manager.name if form.manager else None
    shown = typed if typed is not None else _saved_answers(form.saved)
    intro = kit.md(
        "self.modal.intro", locale, cycle=form.cycle.name, date=form.cycle.review_from.isoformat()
    )
    blocks: list[kit.Block] = [
        *kit.sections(intro),
        _status(form, locale, note),
        _rating_input(shown.get("rating"), policy, locale),
    ]
    blocks += [_text_input(name, str(shown.get(name) or ""), locale) for name in TEXT_FIELDS]
    for block_id, problem in (errors or {}).items():
        at = next((i for i, b in enumerate(blocks) if b.get("block_id") == block_id), None)
        if at is not None:
            error = kit.md("self.modal.field_error", locale, problem=problem)
            blocks[at + 1 : at + 1] = kit.contexts(error)
    if not form.submitted:
        save = kit.button(t("self.modal.save_draft", locale), ids.SELF_SAVE_DRAFT, "draft")
        blocks.append(kit.actions(save, block_id=ids.SELF_SAVE_DRAFT))
    hint = (
        kit.md("self.modal.hint", locale, manager=manager)
        if manager
        else kit.md("self.modal.hint_no_manager", locale)
    )
    blocks += kit.contexts(hint)
    return kit.modal(
        ids.SELF_MODAL,
        t("self.modal.title", locale),
        blocks,
        submit=t("self.modal.submit", locale),
        close=t("self.modal.close", locale),
        private_metadata=ids.self_metadata(form.cycle.id),
    )


def notice_view(text: str, *, locale: str) -> dict[str, Any]:
    """The modal reduced to one message (after Submit, or when it can no longer be edited);
    `text` is `kit.md` output, or plain text, which is escaped."""
    return {
        "type": "modal",
        "title": kit.plain(t("self.modal.title", locale), kit.TITLE_LIMIT),
        "close": kit.plain(t("self.modal.close", locale), kit.TITLE_LIMIT),
        "blocks": kit.sections(text),
    }


def submitted_view(saved: Saved, *, locale: str) -> dict[str, Any]:
    """What the modal turns into after Submit."""
    manager = saved.manager.name if saved.manager else None
    if not saved.first_submission:
        text = kit.md("self.done.updated", locale)
    elif manager:
        text = kit.md("self.done.submitted", locale, manager=manager)
    else:
        text = kit.md("self.done.submitted_no_manager", locale)
    return notice_view(text, locale=locale)


def manager_notice(saved: Saved, *, policy: Policy, locale: str) -> Message:
    """The manager's DM when a report submits their self-assessment."""
    row, name, cycle = saved.assessment, saved.employee.name, saved.cycle.name
    rating = rating_label(policy, row.rating, locale) if row.rating is not None else "—"
    blocks: list[kit.Block] = [
        kit.header(t("self.manager.header", locale, name=name, cycle=cycle)),
        *kit.sections(kit.md("self.manager.rating", locale, rating=rating)),
    ]
    for field in TEXT_FIELDS:
        text = getattr(row, field)
        if text:
            label = t(f"self.modal.{field}_label", locale)
            blocks += kit.sections(kit.lines(kit.bold(label), text))
    blocks += kit.contexts(kit.md("self.manager.hint", locale, name=name))
    return Message(kit.md("self.manager.text", locale, name=name, cycle=cycle), blocks)


def open_button(cycle_id: int | None, locale: str) -> dict[str, Any]:
    """The self-assessment nudge's button that opens the modal."""
    value = ids.self_open_value(cycle_id)
    return kit.button(t("self.open_button", locale), ids.SELF_OPEN, value, style="primary")


def _picker(
    employee_id: str, cycle_id: int | None, locale: str, initial: date | None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "datepicker",
        "action_id": ids.interview_date_action(employee_id, cycle_id),
        "placeholder": kit.plain(t("self.interview.placeholder", locale), kit.PLACEHOLDER_LIMIT),
    }
    if initial is not None:
        element["initial_date"] = initial.isoformat()
    return element


def interview_picker(
    c: NudgeContent, locale: str, *, initial: date | None = None
) -> dict[str, Any]:
    """The prep pack's "Interview date" picker (an element of its actions row), showing the
    pack's interview day unless `initial` is given."""
    employee_id = c.about.id if c.about else c.nudge.about_id or ""
    pack = getattr(c, "pack", None)
    cycle = c.cycle or (pack.cycle if pack is not None else None)
    if initial is None and pack is not None:
        initial = pack.interview_on
    return _picker(employee_id, cycle.id if cycle else None, locale, initial)


def interview_home_block(
    employee_id: str,
    name: str,
    locale: str,
    *,
    cycle_id: int | None = None,
    initial: date | None = None,
) -> kit.Block:
    """A report's row in App Home: the review interview's day, to pick or move. An input
    block that dispatches its action (Home tabs allow them), so picking a date saves it."""
    return kit.input_block(
        ids.interview_date_block(employee_id),
        t("self.interview.home_label", locale, name=name),
        _picker(employee_id, cycle_id, locale, initial),
        optional=True,
        hint=t("self.interview.home_hint", locale),
        dispatch=True,
    )


def interview_set_message(done: InterviewSet, *, locale: str) -> Message:
    """The confirmation after an interview day is set (the prep pack's moment in the
    actor's own time)."""
    name, day = done.employee.name, done.interview.scheduled_on.isoformat()
    if done.prep_due is not None:
        due = _when(done.prep_due, done.zone)
        text = kit.md("self.interview.set", locale, name=name, date=day, due=due)
    else:
        text = kit.md("self.interview.set_no_prep", locale, name=name, date=day)
    return Message(text, kit.sections(text))
