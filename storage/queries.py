"""Queries, keyword-only and side-effect free beyond add/flush; services commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import case, col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ActionItem, ActionStatus, Person, ProcessedEvent, Talk


async def get_person(session: AsyncSession, slack_id: str) -> Person | None:
    """The person with this Slack id, active or not."""
    return await session.get(Person, slack_id)


async def people_by_ids(session: AsyncSession, ids: Iterable[str]) -> dict[str, Person]:
    """People keyed by Slack id."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = await session.exec(select(Person).where(col(Person.slack_id).in_(wanted)))
    return {p.slack_id: p for p in rows}


async def all_people(session: AsyncSession) -> list[Person]:
    """Everyone in the org chart."""
    rows = await session.exec(select(Person).order_by(col(Person.slack_id)))
    return list(rows)


async def reports_of(
    session: AsyncSession, manager_id: str, *, offset: int = 0, limit: int | None = None
) -> list[Person]:
    """A manager's active direct reports, by name."""
    query = (
        select(Person)
        .where(Person.manager_id == manager_id, col(Person.active).is_(True))
        .order_by(func.lower(Person.name), col(Person.slack_id))
        .offset(offset)
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.exec(query))


LIKE_ESCAPE = "\\"


def like_literal(text: str) -> str:
    """`text` as part of a LIKE pattern that matches it literally (its `%`, `_` and `\\`
    escaped); use with `escape=LIKE_ESCAPE`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contains(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, literally."""
    return f"%{like_literal(text)}%"


async def people_matching(
    session: AsyncSession, text: str, *, manager_id: str | None, limit: int
) -> list[Person]:
    """Active people whose name contains `text` (literally, ignoring case), by name; only a
    manager's direct reports when `manager_id` is given."""
    query = select(Person).where(
        col(Person.active).is_(True),
        func.lower(Person.name).like(func.lower(_contains(text)), escape=LIKE_ESCAPE),
    )
    if manager_id is not None:
        query = query.where(Person.manager_id == manager_id)
    query = query.order_by(func.lower(Person.name), col(Person.slack_id)).limit(limit)
    return list(await session.exec(query))


async def count_reports(session: AsyncSession, manager_id: str) -> int:
    """How many active direct reports a manager has."""
    query = select(func.count()).where(
        Person.manager_id == manager_id,
        col(Person.active).is_(True),
    )
    return (await session.exec(query)).one()


async def people_named(session: AsyncSession, handle: str) -> list[Person]:
    """Active people whose name (spaces ignored) or email local part equals `handle`,
    literally: `%`, `_` and the escape character in `handle` match only themselves."""
    handle = handle.lower()
    squashed_name = func.replace(func.lower(Person.name), " ", "")
    email = func.lower(Person.email)
    query = select(Person).where(
        col(Person.active).is_(True),
        or_(squashed_name == handle, email.startswith(f"{handle}@", autoescape=True)),
    )
    return list(await session.exec(query))


async def talk_by_submission(session: AsyncSession, key: str) -> Talk | None:
    """The talk saved from the submission with this key, if any."""
    rows = await session.exec(select(Talk).where(Talk.submission_key == key))
    return rows.first()


async def actions_of_talks(session: AsyncSession, talk_ids: Sequence[int]) -> list[ActionItem]:
    """The action items created in these talks, in creation order."""
    if not talk_ids:
        return []
    query = (
        select(ActionItem).where(col(ActionItem.talk_id).in_(talk_ids)).order_by(col(ActionItem.id))
    )
    return list(await session.exec(query))


async def open_actions_about(session: AsyncSession, employee_id: str) -> list[ActionItem]:
    """Open action items from the employee's talks, earliest due first."""
    query = (
        select(ActionItem)
        .where(ActionItem.employee_id == employee_id, ActionItem.status == ActionStatus.OPEN)
        .order_by(col(ActionItem.due_on), col(ActionItem.id))
    )
    return list(await session.exec(query))


async def open_actions_owned_by(session: AsyncSession, owner_id: str) -> list[ActionItem]:
    """Open action items someone owns, earliest due first."""
    query = (
        select(ActionItem)
        .where(ActionItem.owner_id == owner_id, ActionItem.status == ActionStatus.OPEN)
        .order_by(col(ActionItem.due_on), col(ActionItem.id))
    )
    return list(await session.exec(query))


async def latest_talks(session: AsyncSession, employee_ids: Sequence[str]) -> dict[str, Talk]:
    """Each employee's most recent talk (by date held, then by id)."""
    if not employee_ids:
        return {}
    ranked = (
        select(
            col(Talk.id),
            func.row_number()
            .over(
                partition_by=Talk.employee_id,
                order_by=(col(Talk.held_on).desc(), col(Talk.id).desc()),
            )
            .label("rank"),
        )
        .where(col(Talk.employee_id).in_(employee_ids))
        .subquery()
    )
    query = select(Talk).join(ranked, ranked.c.id == Talk.id).where(ranked.c.rank == 1)
    return {t.employee_id: t for t in await session.exec(query)}


async def action_counts(
    session: AsyncSession, employee_ids: Sequence[str], today: date
) -> dict[str, tuple[int, int]]:
    """(open, overdue) action item counts per employee."""
    if not employee_ids:
        return {}
    overdue = func.sum(case((ActionItem.due_on < today, 1), else_=0))
    query = (
        select(col(ActionItem.employee_id), func.count(), overdue)
        .where(
            col(ActionItem.employee_id).in_(employee_ids),
            ActionItem.status == ActionStatus.OPEN,
        )
        .group_by(col(ActionItem.employee_id))
    )
    rows = (await session.exec(query)).all()
    return {emp: (int(n), int(late or 0)) for emp, n, late in rows}


async def talks_about(
    session: AsyncSession, employee_id: str, *, limit: int | None = None
) -> list[Talk]:
    """An employee's talks, newest first."""
    query = (
        select(Talk)
        .where(Talk.employee_id == employee_id)
        .order_by(col(Talk.held_on).desc(), col(Talk.id).desc())
    )
    if limit is not None:
        query = query.limit(limit)
    return list(await session.exec(query))


async def talks_for_export(
    session: AsyncSession, *, employee_id: str | None = None, since: date | None = None
) -> list[Talk]:
    """Talks in held order, optionally for one employee and from a date on."""
    query = select(Talk).order_by(col(Talk.held_on), col(Talk.id))
    if employee_id is not None:
        query = query.where(Talk.employee_id == employee_id)
    if since is not None:
        query = query.where(Talk.held_on >= since)
    return list(await session.exec(query))


async def claim_event(session: AsyncSession, event_id: str, now: datetime) -> bool:
    """Record an Events API delivery; False when it was handled before."""
    try:
        async with session.begin_nested():
            session.add(ProcessedEvent(event_id=event_id, received_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True
