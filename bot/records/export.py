"""Export recorded talks with their action items, as JSON or CSV.

Review interviews (family `review`) are talks too; every talk carries the review fields
(`rating`, `decisions`, `employee_view`, `acknowledged`), empty for dialogues."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.review.interview_record import decisions_of
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, Review, Talk

TALK_FIELDS = (
    "id",
    "kind",
    "family",
    "manager_id",
    "employee_id",
    "held_on",
    "duration_minutes",
    "facts",
    "consensus",
    "employee_talk_share",
)
REVIEW_FIELDS = ("rating", "decisions", "employee_view", "acknowledged")


def action_status(action: ActionItem, today: date) -> str:
    """'done', 'open', or 'overdue' (open and due before today)."""
    if action.status == ActionStatus.OPEN and action.due_on < today:
        return "overdue"
    return str(action.status)


def _action(action: ActionItem, today: date) -> dict[str, Any]:
    return {
        "id": action.id,
        "text": action.text,
        "owner_id": action.owner_id,
        "due_on": action.due_on.isoformat(),
        "status": action_status(action, today),
    }


def _talk(
    talk: Talk, review: Review | None, actions: list[dict[str, Any]], include_private: bool
) -> dict[str, Any]:
    row: dict[str, Any] = {field: getattr(talk, field) for field in TALK_FIELDS}
    row["held_on"] = talk.held_on.isoformat()
    row["rating"] = review.rating if review else None
    row["decisions"] = decisions_of(review) if review else []
    row["employee_view"] = review.employee_view if review else None
    row["acknowledged"] = talk.acknowledged_at is not None or bool(
        review and review.acknowledged_at
    )
    if include_private:
        row["private_note"] = talk.private_note
    row["actions"] = actions
    return row


async def export_talks(
    engine: AsyncEngine,
    *,
    employee_id: str | None,
    since: date | None,
    include_private: bool,
    today: date,
) -> dict[str, Any]:
    """Talks in held order with their actions and review fields, in three queries whatever
    the number of talks."""
    async with session_scope(engine) as session:
        talks = await queries.talks_for_export(session, employee_id=employee_id, since=since)
        talk_ids = [t.id for t in talks if t.id]
        actions = await queries.actions_of_talks(session, talk_ids)
        reviews = await queries.reviews_of_talks(session, talk_ids)
    by_talk: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for action in actions:
        by_talk[action.talk_id].append(_action(action, today))
    return {
        "talks": [
            _talk(t, reviews.get(t.id or 0), by_talk[t.id or 0], include_private) for t in talks
        ]
    }


def to_json(data: dict[str, Any]) -> str:
    """Pretty JSON, non-ASCII kept readable, ending in a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# A cell starting with one of these is a formula to Excel, LibreOffice or Google Sheets
# (`=HYPERLINK(…)` sends data away, `+cmd|…` runs a program): OWASP's rule for CSV injection.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: object) -> str:
    """The cell as text, with a leading `'` when a spreadsheet would read it as a formula."""
    text = str(cell)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(data: dict[str, Any]) -> str:
    """RFC 4180 CSV, one row per talk; `decisions` and `actions` hold JSON lists and
    `acknowledged` is `true` or `false`. Every cell is spreadsheet-safe (`spreadsheet_safe`);
    the JSON export keeps people's text verbatim."""
    talks = data["talks"]
    columns = [*TALK_FIELDS, *REVIEW_FIELDS]
    if any("private_note" in talk for talk in talks):
        columns.append("private_note")
    columns.append("actions")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")  # RFC 4180 CRLF
    writer.writeheader()
    for talk in talks:
        row = {key: "" if talk.get(key) is None else talk.get(key) for key in columns}
        row["decisions"] = json.dumps(talk.get("decisions", []), ensure_ascii=False)
        row["acknowledged"] = "true" if talk.get("acknowledged") else "false"
        row["actions"] = json.dumps(talk.get("actions", []), ensure_ascii=False)
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    return out.getvalue()
