"""Slack payloads → typed inputs for the domain; nothing here decides anything."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.records.talks import MAX_ACTIONS, ActionDraft, TalkDraft
from bot.text import clean
from handlers.slack import ids
from storage.models import TalkShare

_ESCAPED_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_RAW_USER = re.compile(r"^([UW][A-Z0-9]{6,})$")


@dataclass(frozen=True)
class CheckinCommand:
    """What `/checkin …` asked for."""

    action: Literal["help", "pick", "open", "goal", "milestone", "self", "review", "unknown"]
    user_id: str | None = None
    handle: str | None = None
    rest: str = ""


def checkin_command(text: str | None) -> CheckinCommand:
    """Read the text after `/checkin`: nothing, `help`, or a person (`<@U1|a>`, `<@U1>`, `@a`)."""
    text = clean(text or "")
    words = text.split()
    if not words:
        return CheckinCommand("pick")
    first = words[0]
    if first.lower() in ("help", "帮助", "?"):
        return CheckinCommand("help")
    if first.lower() in ("goal", "milestone", "self", "review"):
        rest = text.strip()[len(first) :].strip()
        return CheckinCommand(first.lower(), rest=rest)  # type: ignore[arg-type]
    if match := _ESCAPED_USER.match(first):
        return CheckinCommand("open", user_id=match.group(1))
    if first.startswith("@") and len(first) > 1:
        return CheckinCommand("open", handle=first[1:])
    if match := _RAW_USER.match(first):
        return CheckinCommand("open", user_id=match.group(1))
    return CheckinCommand("unknown")


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The routing data a modal carries (never trusted for access)."""
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _value(values: dict[str, Any], block_id: str, action_id: str = ids.VALUE) -> dict[str, Any]:
    return (values.get(block_id) or {}).get(action_id) or {}


def _text(values: dict[str, Any], block_id: str) -> str:
    return clean(_value(values, block_id).get("value") or "")


def _date(values: dict[str, Any], block_id: str) -> date | None:
    raw = _value(values, block_id).get("selected_date")
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _selected(values: dict[str, Any], block_id: str, action_id: str = ids.VALUE) -> str | None:
    option = _value(values, block_id, action_id).get("selected_option")
    return option.get("value") if option else None


def selected_kind(view: dict[str, Any], default: str) -> str:
    """The kind currently chosen in the record form."""
    values = view.get("state", {}).get("values", {})
    return _selected(values, ids.KIND, ids.KIND_SELECT) or default


def picked_user(view: dict[str, Any]) -> str | None:
    """The person chosen in the picker modal."""
    values = view.get("state", {}).get("values", {})
    element = _value(values, ids.EMPLOYEE, ids.PICK_REPORT) or _value(values, ids.EMPLOYEE)
    return element.get("selected_user") or (element.get("selected_option") or {}).get("value")


def talk_draft(view: dict[str, Any], employee_id: str) -> TalkDraft:
    """The record form's state as a draft."""
    values = view.get("state", {}).get("values", {})
    actions = []
    for n in range(1, MAX_ACTIONS + 1):
        owner = _selected(values, ids.action_block(n, "owner"))
        actions.append(
            ActionDraft(
                text=_text(values, ids.action_block(n, "text")),
                owner=owner if owner in ("manager", "employee") else None,  # type: ignore[arg-type]
                due_on=_date(values, ids.action_block(n, "due")),
            )
        )
    completed = [
        int(o["value"])
        for o in _value(values, ids.COMPLETED).get("selected_options") or []
        if str(o.get("value", "")).isdigit()
    ]
    share = _selected(values, ids.TALK_SHARE)
    return TalkDraft(
        employee_id=employee_id,
        kind=_selected(values, ids.KIND, ids.KIND_SELECT) or "",
        held_on=_date(values, ids.HELD_ON),
        minutes=_text(values, ids.MINUTES),
        facts=_text(values, ids.FACTS),
        consensus=_text(values, ids.CONSENSUS),
        actions=tuple(actions),
        completed_action_ids=tuple(completed),
        talk_share=TalkShare(share) if share in TalkShare._value2member_map_ else None,
        private_note=_text(values, ids.PRIVATE_NOTE),
    )


def error_block(field_name: str) -> str:
    """The block id that shows a problem with a draft field (they share names)."""
    return field_name
