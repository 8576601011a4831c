""" "My data": everything Cadence keeps about a person as the subject of records, as one JSON
document with a short summary. The person gets it with `/checkin my-data` (Slack) or `my data`
(Teams); HR gets the same with `export-person`. A read by anyone but the person is logged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import NotAllowed
from bot.org.people import local_today
from bot.org.policy import Policy
from bot.privacy import access
from bot.records.export import action_status
from bot.review.interview_record import decisions_of
from storage import privacy, queries
from storage.db import session_scope
from storage.models import Person

FORMAT_VERSION = 1


class SummaryCounts(TypedDict):
    """The parameters of `privacy.my_data.summary`."""

    talks: int
    actions: int
    goals: int
    selves: int
    reviews: int
    reads: int


@dataclass(frozen=True)
class MyData:
    """The document, its counts for the summary, and who it is about; `hr_reads` (the kinds
    whose content HR reads) and `notes_shown` say what the policy is, for the summary."""

    person: Person
    document: dict[str, Any]
    counts: dict[str, int]
    hr_reads: list[str]
    notes_shown: bool

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"

    def file_name(self) -> str:
        return f"cadence-my-data-{self.document['generated_at'][:10]}.json"

    def summary_counts(self) -> SummaryCounts:
        """The parameters of `privacy.my_data.summary`."""
        c = self.counts
        return {
            "talks": c["talks"],
            "actions": c["actions"],
            "goals": c["goals"],
            "selves": c["self_assessments"],
            "reviews": c["reviews"],
            "reads": c["reads"],
        }

    def notes_key(self) -> str | None:
        """What the summary says of private notes (with `notes`: their number), if any."""
        if not self.counts["private_notes"]:
            return None
        return "privacy.my_data.notes_shown" if self.notes_shown else "privacy.my_data.notes_hidden"


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def my_data(
    engine: AsyncEngine,
    *,
    subject_id: str,
    reader: str,
    platform: str,
    policy: Policy,
    now: datetime,
) -> MyData:
    """Everything about `subject_id`, as `reader` may receive it: the subject themself, or an
    operator for HR (logged). Private notes are listed by date, their text only where the
    policy lets the employee read them."""
    async with session_scope(engine) as session:
        person = await queries.get_person(session, subject_id)
        if person is None:
            raise NotAllowed("refusal.not_in_org")
        rows = await privacy.subject_rows(session, subject_id)
        reads = await access.reads_of(session, subject_id)
        accounts = (await queries.accounts_of(session, [subject_id])).get(subject_id, [])
        named = {person.manager_id or ""} | {t.manager_id for t in rows.talks}
        named |= {t.logged_by for t in rows.talks} | {a.owner_id for a in rows.actions}
        named |= {g.set_by for g in rows.goals} | {r.manager_id for r in rows.reviews}
        people = await queries.people_by_ids(session, named - {""})
        await access.record(
            session,
            reader=reader,
            subjects=[subject_id],
            what=access.EXPORT_PERSON,
            platform=platform,
            now=now,
        )
        await session.commit()

    def name(key: str | None) -> str | None:
        if key is None:
            return None
        return (
            person.name
            if key == person.id
            else (people[key].name if key in people else access.FORMER)
        )

    def cycle_name(cycle_id: int) -> str | None:
        cycle = rows.cycles.get(cycle_id)
        return cycle.name if cycle else None

    today = local_today(person, policy, now)  # an action is overdue by the person's calendar
    hr_reads = [k for k, v in policy.talk_kinds.items() if v.hr_reads]
    sees_notes = policy.privacy.employee_sees_private_notes
    talks = [
        {
            "id": t.id,
            "kind": t.kind,
            "family": t.family,
            "held_on": _day(t.held_on),
            "duration_minutes": t.duration_minutes,
            "manager": name(t.manager_id),
            "recorded_by": name(t.logged_by),
            "facts": t.facts,
            "consensus": t.consensus,
            "your_share_of_talking": t.employee_talk_share,
            "acknowledged_at": _day(t.acknowledged_at),
            "private_note": (
                None
                if t.private_note is None
                else (
                    {
                        "exists": True,
                        "written_on": _day(t.created_at.date()),
                        "text": t.private_note,
                    }
                    if sees_notes
                    else {"exists": True, "written_on": _day(t.created_at.date())}
                )
            ),
        }
        for t in rows.talks
    ]
    actions = [
        {
            "talk_id": a.talk_id,
            "text": a.text,
            "owner": name(a.owner_id),
            "due_on": _day(a.due_on),
            "status": action_status(a, today),
            "completed_at": _day(a.completed_at),
        }
        for a in rows.actions
    ]
    goals = [
        {
            "title": g.title,
            "measure": g.measure,
            "due_on": _day(g.due_on),
            "status": g.status,
            "set_by": name(g.set_by),
            "confirmed_at": _day(g.confirmed_at),
            "clarified_at": _day(g.clarified_at),
        }
        for g in rows.goals
    ]
    selves = [
        {
            "cycle": cycle_name(s.cycle_id),
            "rating": s.rating,
            "proudest": s.proudest,
            "redo": s.redo,
            "blockers": s.blockers,
            "support": s.support,
            "other": s.other,
            "submitted_at": _day(s.submitted_at),
        }
        for s in rows.self_assessments
    ]
    reviews = [
        {
            "cycle": cycle_name(r.cycle_id),
            "talk_id": r.talk_id,
            "manager": name(r.manager_id),
            "rating": r.rating,
            "evidence": r.evidence,
            "gaps": r.gaps,
            "next_goals": r.next_goals,
            "development": r.development,
            "decisions": decisions_of(r),
            "decision_note": r.decision_note,
            "your_view": r.employee_view,
            "acknowledged_at": _day(r.acknowledged_at),
            "disagreed_at": _day(r.disagreed_at),
            "disagreement": r.disagreement,
        }
        for r in rows.reviews
    ]
    document: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "generated_at": now.isoformat(),
        "person": {
            "name": person.name,
            "email": person.email,
            "employee_number": person.employee_number,
            "manager": name(person.manager_id),
            "timezone": person.timezone,
            "locale": person.locale,
            "active": person.active,
            "accounts": [{"platform": a.platform, "user_id": a.user_id} for a in accounts],
        },
        "policy": {
            "hr_reads_content_of": hr_reads,
            "hr_reads_private_notes": policy.privacy.hr_reads_private_notes,
            "you_read_private_notes": sees_notes,
        },
        "talks": talks,
        "actions": actions,
        "goals": goals,
        "self_assessments": selves,
        "reviews": reviews,
        "review_interviews": [
            {"cycle": cycle_name(i.cycle_id), "scheduled_on": _day(i.scheduled_on)}
            for i in rows.interviews
        ],
        "leave": [
            {"from": _day(v.starts_on), "to": _day(v.ends_on), "reason": v.reason}
            for v in rows.leaves
        ],
        "who_read_your_records": [
            {"at": r.at.isoformat(), "who": r.reader_name, "what": r.what, "where": r.platform}
            for r in reads
        ],
    }
    counts = {
        "talks": len(talks),
        "private_notes": sum(1 for t in rows.talks if t.private_note is not None),
        "actions": len(actions),
        "goals": len(goals),
        "self_assessments": len(selves),
        "reviews": len(reviews),
        "reads": len(reads),
    }
    return MyData(person, document, counts, hr_reads, sees_notes)
