"""Export recorded talks with their action items, as JSON or CSV.

Review interviews (family `review`) are talks too; every talk carries the review fields
(`rating`, `decisions`, `employee_view`, `acknowledged`), empty for dialogues.

People: `manager_id`, `employee_id` and an action's `owner_id` are the person's Slack user
id where they have one (what the export always gave), else their person key. Each talk also
names its manager and employee in full: in JSON as `manager` and `employee` objects (`key`,
`name`, `email`, `employee_number`, `slack_id`, `teams_id`), in CSV as flat columns
(`manager_key`, `manager_name`, …) after every earlier column; an action adds `owner_key`.

HR reads a kind's content only where the policy lets it (`hr_reads_content`): for the other
kinds `facts`, `consensus` and the review fields are empty and `content_withheld` is true;
dates, kinds, actions and acknowledgements stay. Every employee exported is in the access
log."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.privacy import access
from bot.review.interview_record import decisions_of
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, ChatIdentity, Person, Platform, Review, Talk

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
REVIEW_FIELDS = ("rating", "decisions", "employee_view", "acknowledged", "content_withheld")
PERSON_FIELDS = ("key", "name", "email", "employee_number", "slack_id", "teams_id")
# after every earlier column, so that a reader by position still finds them where they were
PEOPLE_COLUMNS = tuple(
    f"{role}_{field}" for role in ("manager", "employee") for field in PERSON_FIELDS
)


class _People:
    """The people an export names, with their chat accounts."""

    def __init__(self, people: dict[str, Person], accounts: dict[str, list[ChatIdentity]]):
        self.rows: dict[str, dict[str, str | None]] = {}
        for key, person in people.items():
            mine = accounts.get(key, [])
            self.rows[key] = {
                "key": key,
                "name": person.name,
                "email": person.email,
                "employee_number": person.employee_number,
                **{f"{p.value}_id": _first(mine, p) for p in Platform},
            }

    def public_id(self, key: str) -> str:
        """What `manager_id`, `employee_id` and `owner_id` hold: the Slack id, else the key."""
        return (self.rows.get(key) or {}).get("slack_id") or key

    def person(self, key: str) -> dict[str, str | None]:
        """Everything the export says about a person: `PERSON_FIELDS`."""
        row = self.rows.get(key) or {"key": key}
        return {field: row.get(field) for field in PERSON_FIELDS}


def _first(accounts: list[ChatIdentity], platform: Platform) -> str | None:
    return next((i.user_id for i in accounts if i.platform == platform), None)


def action_status(action: ActionItem, today: date) -> str:
    """'done', 'open', or 'overdue' (open and due before today)."""
    if action.status == ActionStatus.OPEN and action.due_on < today:
        return "overdue"
    return str(action.status)


def _action(action: ActionItem, today: date, people: _People) -> dict[str, Any]:
    return {
        "id": action.id,
        "text": action.text,
        "owner_id": people.public_id(action.owner_id),
        "owner_key": action.owner_id,
        "due_on": action.due_on.isoformat(),
        "status": action_status(action, today),
    }


def _talk(
    talk: Talk,
    review: Review | None,
    actions: list[dict[str, Any]],
    include_private: bool,
    people: _People,
    readable: bool,
) -> dict[str, Any]:
    row: dict[str, Any] = {field: getattr(talk, field) for field in TALK_FIELDS}
    row["manager_id"] = people.public_id(talk.manager_id)
    row["employee_id"] = people.public_id(talk.employee_id)
    row["manager"] = people.person(talk.manager_id)
    row["employee"] = people.person(talk.employee_id)
    row["held_on"] = talk.held_on.isoformat()
    row["rating"] = review.rating if review else None
    row["decisions"] = decisions_of(review) if review else []
    row["employee_view"] = review.employee_view if review else None
    row["acknowledged"] = talk.acknowledged_at is not None or bool(
        review and review.acknowledged_at
    )
    row["content_withheld"] = not readable
    if not readable:
        row.update(facts=None, consensus=None, rating=None, decisions=[], employee_view=None)
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
    reads_content: Callable[[str, str], bool],
    reader: str,
    now: datetime,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Talks in held order with their actions and review fields, and the people they name,
    in five queries whatever the number of talks; a kind's content only where
    `reads_content(kind, family)`. Each employee exported is logged as read by `reader`."""
    async with session_scope(engine) as session:
        talks = await queries.talks_for_export(session, employee_id=employee_id, since=since)
        talk_ids = [t.id for t in talks if t.id]
        actions = await queries.actions_of_talks(session, talk_ids)
        reviews = await queries.reviews_of_talks(session, talk_ids)
        named = {t.manager_id for t in talks} | {t.employee_id for t in talks}
        named |= {a.owner_id for a in actions}
        people = _People(
            await queries.people_by_ids(session, named), await queries.accounts_of(session, named)
        )
        await access.record(
            session,
            reader=reader,
            subjects=[t.employee_id for t in talks],
            what=access.EXPORT,
            platform=access.CLI,
            now=now,
        )
        await session.commit()
    by_talk: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for action in actions:
        by_talk[action.talk_id].append(_action(action, today, people))
    rows = []
    for done, t in enumerate(talks, start=1):
        rows.append(
            _talk(
                t,
                reviews.get(t.id or 0),
                by_talk[t.id or 0],
                include_private,
                people,
                reads_content(t.kind, t.family),
            )
        )
        if progress is not None:
            progress(done, len(talks))
    return {"talks": rows}


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
    columns += ["actions", *PEOPLE_COLUMNS]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")  # RFC 4180 CRLF
    writer.writeheader()
    for talk in talks:
        row = {key: "" if talk.get(key) is None else talk.get(key) for key in columns}
        row["decisions"] = json.dumps(talk.get("decisions", []), ensure_ascii=False)
        row["acknowledged"] = "true" if talk.get("acknowledged") else "false"
        row["content_withheld"] = "true" if talk.get("content_withheld") else "false"
        row["actions"] = json.dumps(talk.get("actions", []), ensure_ascii=False)
        for role in ("manager", "employee"):
            for field, value in (talk.get(role) or {}).items():
                row[f"{role}_{field}"] = "" if value is None else value
        writer.writerow({key: spreadsheet_safe(value) for key, value in row.items()})
    return out.getvalue()
