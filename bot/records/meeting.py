"""What a talk and a review interview share on their forms: the date held, the length in
minutes and the actions (what, who, by when), checked once for both, with the same error keys
(`error.*` in prompts/), so a dialogue and a review refuse the same input in the same words."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.errors import Problem
from bot.text import is_blank

TEXT_LIMIT = 3000  # Slack's plain_text_input maximum
ACTION_TEXT_LIMIT = 500
MIN_MINUTES, MAX_MINUTES = 1, 480

Owner = Literal["manager", "employee"]


@dataclass(frozen=True)
class ActionDraft:
    """One action row of a form, as typed."""

    text: str = ""
    owner: Owner | None = None
    due_on: date | None = None

    @property
    def is_blank(self) -> bool:
        return is_blank(self.text) and self.owner is None and self.due_on is None


def held_problems(held_on: date | None, minutes: str | None, *, today: date) -> dict[str, Problem]:
    """Problems with when the meeting was held (`held_on`: not missing, not after `today`) and
    how long it took (`minutes`: empty, or a whole number in range)."""
    problems: dict[str, Problem] = {}
    if held_on is None:
        problems["held_on"] = Problem("error.held_on_required")
    elif held_on > today:
        problems["held_on"] = Problem("error.held_on_future")
    minutes = (minutes or "").strip()
    if minutes and (not minutes.isdigit() or not MIN_MINUTES <= int(minutes) <= MAX_MINUTES):
        problems["minutes"] = Problem("error.minutes_range", {"max": MAX_MINUTES})
    return problems


def action_problems(actions: Sequence[ActionDraft], *, today: date) -> dict[str, Problem]:
    """Problems with the actions as typed, keyed `action_<n>_text`, `action_<n>_owner` and
    `action_<n>_due` (n from 1); a row left wholly blank is no action and no problem."""
    problems: dict[str, Problem] = {}
    for n, action in enumerate(actions, start=1):
        if action.is_blank:
            continue
        text = action.text.strip()
        if is_blank(text):
            problems[f"action_{n}_text"] = Problem("error.action_text_required")
        elif len(text) > ACTION_TEXT_LIMIT:
            problems[f"action_{n}_text"] = Problem("error.too_long", {"limit": ACTION_TEXT_LIMIT})
        if action.owner is None:
            problems[f"action_{n}_owner"] = Problem("error.action_owner_required")
        if action.due_on is None:
            problems[f"action_{n}_due"] = Problem("error.action_due_required")
        elif action.due_on < today:
            problems[f"action_{n}_due"] = Problem("error.action_due_past")
    return problems
