"""What App Home shows: a manager's reports at a glance, an employee's own record."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.org.people import local_today
from bot.org.policy import Policy
from bot.privacy import access
from bot.review.cycles import review_cycle
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, Person, Talk

PAGE_SIZE = 15


@dataclass(frozen=True)
class ReportRow:
    """One report on the manager's page."""

    person: Person
    last_talk: Talk | None
    open_actions: int
    overdue_actions: int
    interview_on: date | None = None


@dataclass(frozen=True)
class Overview:
    """Everything a person's Home tab shows."""

    person: Person | None
    today: date
    reports: list[ReportRow]
    page: int
    pages: int
    talks: list[Talk]
    open_actions: list[ActionItem]
    names: dict[str, str]
    cycle_id: int | None = None


async def overview(
    engine: AsyncEngine,
    *,
    user_id: str,
    policy: Policy,
    now: datetime,
    platform: str,
    page: int = 1,
) -> Overview:
    """A page of the user's reports (if any) and their own talks and open actions; the
    reports shown are in the access log, once a day each (`platform`: where it is shown)."""
    async with session_scope(engine) as session:
        person = await queries.get_person(session, user_id)
        today = local_today(person, policy, now)
        if person is None or not person.active:
            return Overview(None, today, [], 1, 1, [], [], {})
        total = await queries.count_reports(session, user_id)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(1, page), pages)
        reports = await queries.reports_of(
            session, user_id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        ids = [p.id for p in reports]
        last = await queries.latest_talks(session, ids)
        counts = await queries.action_counts(session, ids, today)
        cycle = await review_cycle(session, today) if ids else None
        interviews = await queries.interview_dates(session, cycle.id or 0, ids) if cycle else {}
        talks = await queries.talks_about(session, user_id, limit=5)
        actions = await queries.open_actions_about(session, user_id)
        others = {t.manager_id for t in talks} | {a.owner_id for a in actions}
        names = {p.id: p.name for p in (await queries.people_by_ids(session, others)).values()}
        if await access.record_daily(
            session, reader=user_id, subjects=ids, what=access.HOME, platform=platform, now=now
        ):
            await session.commit()
    names[person.id] = person.name
    rows = [
        ReportRow(p, last.get(p.id), *counts.get(p.id, (0, 0)), interviews.get(p.id))
        for p in reports
    ]
    for talk in talks:
        talk.private_note = None  # the employee's own view never carries the manager's note
    cycle_id = cycle.id if cycle is not None else None
    return Overview(person, today, rows, page, pages, talks, actions, names, cycle_id)
