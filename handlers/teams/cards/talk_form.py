"""The record form as an Adaptive Card, shown in a Teams dialog (`task/fetch`): the same fields
as Slack's modal, each input labelled in the manager's language. When a submission has
problems the same card comes back with everything typed kept as each input's `value` and the
problem in a red TextBlock right after its field (Teams shows an input's `errorMessage` only
for its own client-side checks, never for the bot's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from bot.errors import Problem
from bot.org.labels import kind_definition, kind_label
from bot.org.policy import Policy
from bot.records.meeting import MAX_MINUTES, TEXT_LIMIT
from bot.records.talks import MAX_ACTIONS, RecordContext
from handlers.teams import ids
from handlers.teams.cards.forms import action_inputs, owner_choices
from handlers.teams.cards.kit import adaptive_card, literal, plain, problem, problem_after
from prompts import outline, t
from storage.models import TalkShare

SHOWN_ROWS = 1  # action rows open at first; the rest open with "Add another action"
COMPLETED_SHOWN = 20  # earlier open actions offered to tick (the rest come up next time)


def talk_form(
    ctx: RecordContext,
    *,
    policy: Policy,
    locale: str,
    kind: str,
    form_id: str,
    values: Mapping[str, Any] | None = None,
    problems: Mapping[str, Problem] | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The record form for one pair. `values`: what was typed (a re-render keeps it);
    `problems`: field name → problem, each shown right after its field; `note`: a problem
    with the whole form, shown at the top (not saved yet, not allowed any more)."""
    typed = dict(values or {})
    problems = dict(problems or {})
    today = ctx.today
    body: list[dict[str, Any]] = []
    if note:
        body.append(problem(note))
    body.append(literal(t("teams.form_with", locale, name=ctx.employee.name), weight="bolder"))
    chosen = str(typed.get(ids.TALK_KIND) or kind)
    if chosen not in policy.dialogue_kinds():
        chosen = policy.dialogue_kinds()[0]
    body += problem_after(
        {
            "type": "Input.ChoiceSet",
            "id": ids.TALK_KIND,
            "label": t("modal.kind_label", locale),
            "isRequired": True,
            "style": "compact",
            "value": chosen,
            "choices": [
                {"title": kind_label(policy, k, locale), "value": k}
                for k in policy.dialogue_kinds()
            ],
        },
        problems,
        locale,
    )
    definition = kind_definition(policy, chosen, locale)
    if definition:
        body.append(plain(definition, subtle=True))
    body += problem_after(
        {
            "type": "Input.Date",
            "id": ids.TALK_HELD_ON,
            "label": t("modal.held_on_label", locale),
            "isRequired": True,
            "max": today.isoformat(),
            "value": str(typed.get(ids.TALK_HELD_ON) or today.isoformat()),
        },
        problems,
        locale,
    )
    body += problem_after(
        {
            "type": "Input.Number",
            "id": ids.TALK_MINUTES,
            "label": t("modal.minutes_label", locale),
            "min": 1,
            "max": MAX_MINUTES,
            "value": _number(typed.get(ids.TALK_MINUTES), policy.kind(chosen).default_minutes),
        },
        problems,
        locale,
    )
    hints = outline(chosen, locale)
    if hints:
        body.append(plain(t("teams.form_questions", locale), subtle=True, weight="bolder"))
        body += [plain(f"• {q}", subtle=True) for q in hints]
    for name in (ids.TALK_FACTS, ids.TALK_CONSENSUS):
        body += problem_after(
            {
                "type": "Input.Text",
                "id": name,
                "label": t(f"modal.{name}_label", locale),
                "placeholder": t(f"modal.{name}_placeholder", locale),
                "isMultiline": True,
                "isRequired": True,
                "maxLength": TEXT_LIMIT,
                "value": str(typed.get(name) or ""),
            },
            problems,
            locale,
        )
    body.append(plain(t("teams.form_actions", locale), weight="bolder", separator=True))
    body += _action_rows(ctx, locale, typed, problems)
    body += _completed(ctx, locale, typed)
    body += problem_after(
        {
            "type": "Input.ChoiceSet",
            "id": ids.TALK_SHARE,
            "label": t("modal.share_label", locale, name=ctx.employee.name),
            "style": "expanded",
            "value": str(typed.get(ids.TALK_SHARE) or ""),
            "choices": [
                {"title": t(f"share.{s.value}", locale), "value": s.value} for s in TalkShare
            ],
        },
        problems,
        locale,
    )
    body.append(plain(t("modal.share_hint", locale), subtle=True))
    body += problem_after(
        {
            "type": "Input.Text",
            "id": ids.TALK_PRIVATE_NOTE,
            "label": t("modal.private_label", locale),
            "isMultiline": True,
            "maxLength": TEXT_LIMIT,
            "value": str(typed.get(ids.TALK_PRIVATE_NOTE) or ""),
        },
        problems,
        locale,
    )
    body.append(plain(t("modal.private_hint", locale), subtle=True))
    save = {
        "type": "Action.Submit",
        "title": t("modal.save", locale),
        "style": "positive",
        "data": ids.submit_form(ids.FORM_TALK, e=ctx.employee.id, f=form_id),
    }
    return adaptive_card(body, actions=[save])


def _number(raw: object, default: int) -> int | str:
    text = str(raw).strip() if raw is not None else ""
    if not text:
        return default
    return int(text) if text.isdigit() and len(text) < 7 else text


def _action_rows(
    ctx: RecordContext, locale: str, typed: Mapping[str, Any], problems: Mapping[str, Problem]
) -> list[dict[str, Any]]:
    """Up to five action rows (text, owner, due date). The first is open; each further row
    opens with "Add another action" (a toggle, no round trip), and a re-rendered form opens
    every row that holds something or a problem."""
    owners = owner_choices(ctx.employee, ctx.manager, locale)
    rows: list[dict[str, Any]] = []
    for n in range(1, MAX_ACTIONS + 1):
        names = [ids.action_field(n, part) for part in ("text", "owner", "due")]
        used = any(typed.get(name) or name in problems for name in names)
        items = action_inputs(
            n,
            labels="modal",
            owners=owners,
            shown=typed,
            problems=problems,
            locale=locale,
            earliest=ctx.today,
        )
        visible = n <= SHOWN_ROWS or used
        rows.append(
            {
                "type": "Container",
                "id": ids.talk_action_row(n),
                "isVisible": visible,
                "items": items,
            }
        )
    hidden = [ids.talk_action_row(n) for n, row in enumerate(rows, start=1) if not row["isVisible"]]
    if hidden:
        # one click opens the next row; Teams toggles the targets in order
        rows.append(
            {
                "type": "ActionSet",
                "actions": [
                    {
                        "type": "Action.ToggleVisibility",
                        "title": t("modal.add_action", locale),
                        "targetElements": [{"elementId": hidden[0], "isVisible": True}],
                    }
                ],
            }
        )
    return rows


def _completed(ctx: RecordContext, locale: str, typed: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The earlier open actions to tick as done (their text in full: a choice's title wraps)."""
    if not ctx.open_actions:
        return []
    names = {ctx.employee.id: ctx.employee.name, ctx.manager.id: ctx.manager.name}
    shown = ctx.open_actions[:COMPLETED_SHOWN]
    choices = [
        {
            "title": t(
                "teams.completed_choice",
                locale,
                text=item.text,
                due=item.due_on.isoformat(),
                owner=names.get(item.owner_id, item.owner_id),
            ),
            "value": str(item.id),
        }
        for item in shown
    ]
    found: list[dict[str, Any]] = [
        {
            "type": "Input.ChoiceSet",
            "id": ids.TALK_COMPLETED,
            "label": t("modal.completed_label", locale),
            "isMultiSelect": True,
            "style": "expanded",
            "wrap": True,
            "value": str(typed.get(ids.TALK_COMPLETED) or ""),
            "choices": choices,
        },
        plain(t("modal.completed_hint", locale), subtle=True),
    ]
    hidden = len(ctx.open_actions) - len(shown)
    if hidden > 0:
        found.append(plain(t("modal.completed_more", locale, count=hidden), subtle=True))
    return found


def form_title(locale: str) -> str:
    """The dialog's title."""
    return t("modal.title", locale)


__all__ = ["date", "form_title", "talk_form"]
