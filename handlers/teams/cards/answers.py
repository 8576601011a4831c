"""Answers in a person's chat or dialog that are not records: a refusal, the card that opens
the record form, the picker of whom a talk was with."""

from __future__ import annotations

from typing import Any

from bot.errors import Problem
from handlers.teams import ids
from handlers.teams.cards.kit import (
    ADAPTIVE_CARD,
    EMPHASIS,
    Element,
    TeamsMessage,
    adaptive_card,
    catalog_plain,
    catalog_text,
    plain,
)
from handlers.teams.cards.kit import problem as problem_block
from prompts import items, t
from storage.models import Person


def attachment(card: dict[str, Any]) -> dict[str, Any]:
    """A dialog's `card` field: the Adaptive Card as a Bot Framework attachment."""
    return {"card": {"contentType": ADAPTIVE_CARD, "content": card}}


def refusal(key: str, locale: str, **params: Any) -> TeamsMessage:
    """Why not, in one card (what was named in it shown literally)."""
    card = adaptive_card([catalog_text(key, locale, **params)])
    return TeamsMessage(catalog_plain(key, locale, **params), [card])


def help_card(locale: str, *, unknown: bool = False, welcome: bool = False) -> TeamsMessage:
    """What Cadence does and what to type (the answer to `help`, to something it did not
    understand, and the welcome once the app is installed)."""
    body = []
    if welcome:
        body.append(catalog_text("teams.welcome", locale, size="medium"))
    if unknown:
        body.append(catalog_text("command.unknown", locale))
    body.append(catalog_text("teams.help_title", locale))
    lines = items("teams.help", locale)
    body += [_line(line) for line in lines]
    body.append(catalog_text("teams.help_more", locale, subtle=True))
    summary = catalog_plain("teams.welcome" if welcome else "teams.help_title", locale)
    return TeamsMessage(summary, [adaptive_card(body)])


def _line(line: str) -> Element:
    """One line of the catalog's own help (no parameters): its `code` in monospace."""
    runs: list[Element] = [{"type": "TextRun", "text": "• "}]
    for piece in EMPHASIS.split(line):
        if piece.startswith("`") and piece.endswith("`") and len(piece) > 2:
            runs.append({"type": "TextRun", "text": piece[1:-1], "fontType": "monospace"})
        elif piece:
            runs.append({"type": "TextRun", "text": piece})
    return {"type": "RichTextBlock", "inlines": runs}


def opener_card(what: str, locale: str, opens: dict[str, object]) -> TeamsMessage:
    """A line and the button that opens a form (`what`: `log_talk`, `goal`, `milestone`,
    `self`, `review`): Teams opens a dialog only from a click."""
    intro = t(f"teams.{what}_intro", locale)
    button = {"type": "Action.Submit", "title": t(f"teams.{what}_button", locale), "data": opens}
    return TeamsMessage(intro, [adaptive_card([plain(intro)], actions=[button])])


def picker_card(
    people: list[Person], *, locale: str, problem: Problem | None = None
) -> dict[str, Any]:
    """Whom the talk was with: the actor's reports (HR: anyone), the first ones listed and
    the rest found as they type."""
    picker: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "id": ids.PICKED,
        "label": t("modal.pick_label", locale),
        "placeholder": t("modal.pick_placeholder", locale),
        "isRequired": True,
        "style": "filtered",
        "choices": [{"title": p.name, "value": p.id} for p in people],
        "choices.data": {"type": "Data.Query", "dataset": ids.PEOPLE_DATASET},
    }
    body: list[dict[str, Any]] = [picker]
    if problem is not None:
        body.append(problem_block(t(problem.key, locale, **problem.params)))
    next_button = {
        "type": "Action.Submit",
        "title": t("modal.next", locale),
        "data": ids.submit_form(ids.FORM_PICK),
    }
    return adaptive_card(body, actions=[next_button])
