"""The outbox of nudges: enqueue once per key, claim in small leased batches, record outcomes.

PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, so any number of dispatchers share the table
without sending a row twice; SQLite runs one process. A claimed row carries a short lease that
its dispatcher renews while it is still sending (`renew`): if its process dies, the row is
claimed again once the lease has run out, and is marked `uncertain` (the dead process may have
posted it), so the dispatcher looks for it in Slack before posting it again.

This is the outbox table's query module: every statement on its rows outside the planner's
fixed reads (`snapshot`, `known_keys`) is built here, and services call these functions by
name (storage/queries.py says where SQL lives).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, case, func, or_, select, text, union, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine.kinds import (
    CARRIES_RECORDS,
    CHECKIN,
    base_period,
    follow_up_prefix,
    snoozed_prefix,
)
from storage.db import is_postgres, session_scope
from storage.models import AccessLog, Nudge, NudgeState, Person

LEASE = timedelta(seconds=30)  # the default of `delivery.lease_seconds`
INSERT_CHUNK = 2000  # rows per executemany (SQLite)
ARRAY_CHUNK = 20_000  # rows per INSERT … SELECT FROM unnest (PostgreSQL)


class NudgeSpec(NamedTuple):
    """A nudge the planner wants to exist (a plain tuple: a large pass makes many)."""

    kind: str
    recipient_id: str
    subject: str
    period: str
    due_at: datetime
    about_id: str | None
    role: str
    payload: dict[str, object]

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.recipient_id, self.subject, self.period)


async def enqueue(session: AsyncSession, specs: Iterable[NudgeSpec], now: datetime) -> int:
    """Insert the specs whose key is new; return how many were created.

    A key stored already (by an earlier pass, or by another process meanwhile) is skipped by
    ON CONFLICT DO NOTHING, not counted; of equal keys in `specs` the first one is kept. The
    planner reads the stored keys before planning (`bot.engine.known_keys`), so what reaches here
    is new but for races. PostgreSQL takes each (kind, period) chunk as one `INSERT … SELECT
    FROM unnest(arrays)`: one prepared statement whatever the size, its arrays encoded by the
    driver, so no SQL is compiled per row. SQLite gets one compiled INSERT, run for many rows."""
    by_slot: dict[tuple[str, str], list[NudgeSpec]] = defaultdict(list)
    for spec in specs:
        by_slot[(spec.kind, spec.period)].append(spec)
    postgres = is_postgres(session)
    created = 0
    for (kind, period), group in by_slot.items():
        if postgres:
            for start in range(0, len(group), ARRAY_CHUNK):
                arrays = _arrays(kind, period, group[start : start + ARRAY_CHUNK], now)
                result = await session.execute(_UNNEST_INSERT, arrays)
                created += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]  # an INSERT gives a CursorResult
        else:
            for start in range(0, len(group), INSERT_CHUNK):
                texts = _PayloadTexts()
                rows = [_row(s, now, texts) for s in group[start : start + INSERT_CHUNK]]
                result = await session.execute(_SQLITE_INSERT, rows)
                created += max(result.rowcount or 0, 0)  # type: ignore[attr-defined]  # an INSERT gives a CursorResult
    return created


class _PayloadTexts(dict[int, str]):
    """Payloads as JSON for one chunk of rows, each payload object encoded once (the planner
    shares one payload among many specs). Keyed by the object's id: the specs, and with them
    their payloads, outlive the chunk, so no id is reused meanwhile."""

    def of(self, spec: NudgeSpec) -> str:
        text = self.get(id(spec.payload))
        if text is None:
            text = self[id(spec.payload)] = json.dumps(spec.payload, sort_keys=True, default=str)
        return text


def _row(spec: NudgeSpec, now: datetime, texts: _PayloadTexts) -> dict[str, object]:
    return {
        "kind": spec.kind,
        "recipient_id": spec.recipient_id,
        "subject": spec.subject,
        "period": spec.period,
        "due_at": spec.due_at,
        "about_id": spec.about_id,
        "role": spec.role,
        "state": NudgeState.PENDING.value,
        "attempts": 0,
        "payload": texts.of(spec),
        "created_at": now,
        "updated_at": now,
    }


_SQLITE_INSERT = sqlite_insert(Nudge.__table__).on_conflict_do_nothing()  # type: ignore[attr-defined]  # SQLModel does not declare __table__
_UNNEST_INSERT = text(
    f"INSERT INTO {Nudge.__tablename__} (kind, recipient_id, subject, period, due_at, about_id,"
    " role, state, attempts, payload, created_at, updated_at)"
    " SELECT CAST(:kind AS varchar), r, s, CAST(:period AS varchar), d, a, o,"
    " CAST(:state AS varchar), 0, p, CAST(:now AS timestamptz), CAST(:now AS timestamptz)"
    " FROM unnest(CAST(:recipients AS varchar[]), CAST(:subjects AS varchar[]),"
    " CAST(:due AS timestamptz[]), CAST(:about AS varchar[]), CAST(:roles AS varchar[]),"
    " CAST(:payloads AS text[])) AS t(r, s, d, a, o, p)"
    " ON CONFLICT DO NOTHING"
)


def _arrays(kind: str, period: str, specs: list[NudgeSpec], now: datetime) -> dict[str, object]:
    """The parameters of `_UNNEST_INSERT`: one array per column that varies."""
    if now.tzinfo is None or any(s.due_at.tzinfo is None for s in specs):
        raise ValueError("naive datetime given to a UTC column")
    texts = _PayloadTexts()
    return {
        "kind": kind,
        "period": period,
        "state": NudgeState.PENDING.value,
        "now": now,
        "recipients": [s.recipient_id for s in specs],
        "subjects": [s.subject for s in specs],
        "due": [s.due_at for s in specs],
        "about": [s.about_id for s in specs],
        "roles": [s.role for s in specs],
        "payloads": [texts.of(s) for s in specs],
    }


async def claim(
    engine: AsyncEngine,
    *,
    now: datetime,
    worker: str,
    limit: int,
    lease: timedelta = LEASE,
    kinds: Collection[str] | None = None,
) -> list[Nudge]:
    """Take up to `limit` due rows (and rows whose lease ran out) for this worker, of `kinds`
    (default: every kind). A row taken over from a worker whose lease ran out comes back
    `uncertain`: that worker may have posted it before it died."""
    due = or_(
        and_(col(Nudge.state) == NudgeState.PENDING, col(Nudge.due_at) <= now),
        and_(col(Nudge.state) == NudgeState.SENDING, col(Nudge.lease_until) < now),
    )
    if kinds is not None:
        due = and_(due, col(Nudge.kind).in_(sorted(kinds)))
    ids = (
        select(col(Nudge.id))
        .where(due)
        .order_by(col(Nudge.due_at), col(Nudge.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    statement = (
        update(Nudge)
        .where(col(Nudge.id).in_(ids))
        .values(
            state=NudgeState.SENDING,
            lease_until=now + lease,
            claimed_by=worker,
            updated_at=now,
            # SET reads the row as it was: a row still `sending` is a takeover
            uncertain=case(
                (col(Nudge.state) == NudgeState.SENDING, True), else_=col(Nudge.uncertain)
            ),
            first_claimed_at=func.coalesce(col(Nudge.first_claimed_at), now),
        )
        .returning(Nudge)
        .execution_options(synchronize_session=False)
    )
    async with session_scope(engine) as session:
        claimed = list((await session.execute(statement)).scalars())
        await session.commit()
    return sorted(claimed, key=lambda n: (n.due_at, n.id or 0))


async def renew(engine: AsyncEngine, worker: str, *, until: datetime) -> int:
    """Extend the lease of every row this worker is still sending; how many it holds."""
    statement = (
        update(Nudge)
        .where(col(Nudge.claimed_by) == worker, col(Nudge.state) == NudgeState.SENDING)
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    async with session_scope(engine) as session:
        result = await session.execute(statement)
        await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


async def _finish(
    engine: AsyncEngine,
    nudge_id: int,
    worker: str,
    values: dict[str, object],
    *,
    read: AccessLog | None = None,
) -> bool:
    """Update a row this worker still holds; False if another worker took it over. `read`,
    the access-log row a delivery writes, is added in the same transaction, so it is there
    exactly when the row is marked sent."""
    statement = (
        update(Nudge)
        .where(
            col(Nudge.id) == nudge_id,
            col(Nudge.claimed_by) == worker,
            col(Nudge.state) == NudgeState.SENDING,
        )
        .values(lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    async with session_scope(engine) as session:
        result = await session.execute(statement)
        done = bool(result.rowcount)  # type: ignore[attr-defined]  # an UPDATE: a CursorResult
        if done and read is not None:
            session.add(read)
        await session.commit()
    return done


def _read_by_delivery(nudge: Nudge, platform: str | None, now: datetime) -> AccessLog | None:
    """The access-log row for a message that shows someone's records to another person."""
    if nudge.kind not in CARRIES_RECORDS or nudge.about_id in (None, nudge.recipient_id):
        return None
    return AccessLog(
        at=now,
        reader=nudge.recipient_id,
        subject_id=nudge.about_id,
        what=nudge.kind,
        platform=platform or "slack",
    )


async def mark_sent(
    engine: AsyncEngine,
    nudge: Nudge,
    worker: str,
    *,
    channel: str,
    ts: str,
    text: str,
    now: datetime,
    platform: str | None = None,
) -> bool:
    """Record a delivered nudge, and where: the platform, channel and message."""
    return await _finish(
        engine,
        nudge.id or 0,
        worker,
        {
            "state": NudgeState.SENT,
            "platform": platform,
            "channel": channel,
            "ts": ts,
            "sent_text": text[:300],
            "sent_at": now,
            "updated_at": now,
            "attempts": nudge.attempts + 1,
            "uncertain": False,
        },
        read=_read_by_delivery(nudge, platform, now),
    )


async def reschedule(
    engine: AsyncEngine,
    nudge: Nudge,
    worker: str,
    *,
    due_at: datetime,
    now: datetime,
    error: str | None = None,
    count_attempt: bool = False,
    uncertain: bool | None = None,
) -> bool:
    """Put a row back as pending for later (a closed window, a 429, a failure to retry, a
    paused delivery); `uncertain` records whether this attempt may have reached Slack."""
    values: dict[str, object] = {"state": NudgeState.PENDING, "due_at": due_at, "updated_at": now}
    if error is not None:
        values["last_error"] = error[:2000]
    if count_attempt:
        values["attempts"] = nudge.attempts + 1
    if uncertain is not None:
        values["uncertain"] = uncertain
    return await _finish(engine, nudge.id or 0, worker, values)


async def close(
    engine: AsyncEngine, nudge: Nudge, worker: str, *, state: NudgeState, reason: str, now: datetime
) -> bool:
    """End a row without sending: failed, cancelled (and why)."""
    attempts = nudge.attempts + (1 if state is NudgeState.FAILED else 0)
    return await _finish(
        engine,
        nudge.id or 0,
        worker,
        {"state": state, "last_error": reason[:2000], "attempts": attempts, "updated_at": now},
    )


async def cancel_pending(
    session: AsyncSession,
    *,
    kinds: Sequence[str],
    subject: str,
    reason: str,
    now: datetime,
    recipient_id: str | None = None,
) -> int:
    """Cancel the pending nudges of these kinds about `subject` (the work is done already)."""
    conditions = [
        col(Nudge.kind).in_(kinds),
        col(Nudge.subject) == subject,
        col(Nudge.state) == NudgeState.PENDING,
    ]
    if recipient_id is not None:
        conditions.append(col(Nudge.recipient_id) == recipient_id)
    result = await session.execute(
        update(Nudge)
        .where(*conditions)
        .values(state=NudgeState.CANCELLED, last_error=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


MOVE_CHUNK = 5000  # employees per look-up (SQLite allows 32,766 parameters)


async def move_to_new_managers(
    session: AsyncSession, new_managers: dict[str, str], now: datetime
) -> tuple[int, int]:
    """Give each employee's new manager (`new_managers`: employee → manager) the pending
    manager nudges about them; one whose key the new manager holds already is cancelled.
    Returns (moved, cancelled)."""
    moved = cancelled = 0
    employees = list(new_managers)
    for start in range(0, len(employees), MOVE_CHUNK):
        rows = await session.execute(
            select(Nudge).where(
                col(Nudge.state) == NudgeState.PENDING,
                col(Nudge.role) == "manager",
                col(Nudge.about_id).in_(employees[start : start + MOVE_CHUNK]),
            )
        )
        for nudge in rows.scalars().all():
            new_manager = new_managers[nudge.about_id or ""]
            if nudge.recipient_id == new_manager:
                continue
            taken = await session.execute(
                select(col(Nudge.id)).where(
                    col(Nudge.kind) == nudge.kind,
                    col(Nudge.recipient_id) == new_manager,
                    col(Nudge.subject) == nudge.subject,
                    col(Nudge.period) == nudge.period,
                )
            )
            if taken.first() is None:
                nudge.recipient_id, nudge.updated_at = new_manager, now
                moved += 1
            else:
                nudge.state, nudge.last_error = NudgeState.CANCELLED, "manager changed"
                nudge.updated_at = now
                cancelled += 1
            await session.flush()
    return moved, cancelled


async def failed(engine: AsyncEngine, *, limit: int = 500) -> list[Nudge]:
    """Nudges that ran out of attempts, newest first."""
    async with session_scope(engine) as session:
        rows = await session.execute(
            select(Nudge)
            .where(col(Nudge.state) == NudgeState.FAILED)
            .order_by(col(Nudge.updated_at).desc(), col(Nudge.id).desc())
            .limit(limit)
        )
        return list(rows.scalars())


# -- look-ups and changes by key, subject or person (for the services) -----------------------------


async def rows_about(session: AsyncSession, *, kind: str, subject: str) -> list[Nudge]:
    """Every row of one kind about `subject`, in any state."""
    rows = await session.execute(
        select(Nudge).where(col(Nudge.kind) == kind, col(Nudge.subject) == subject)
    )
    return list(rows.scalars())


async def holds(
    session: AsyncSession, *, kinds: Sequence[str], subject: str, recipient_id: str
) -> bool:
    """Whether the outbox holds a row of these kinds about `subject` for `recipient_id`, in
    any state (the recipient was asked)."""
    asked = select(col(Nudge.id)).where(
        col(Nudge.kind).in_(kinds),
        col(Nudge.subject) == subject,
        col(Nudge.recipient_id) == recipient_id,
    )
    return (await session.execute(asked.limit(1))).first() is not None


async def posted_rows(
    session: AsyncSession,
    *,
    kinds: Sequence[str],
    subject: str,
    role: str,
    recipient_id: str | None = None,
    period: str | None = None,
) -> list[Nudge]:
    """The rows of these kinds about `subject` that became a Slack message (their channel and
    ts are stored), oldest first."""
    query = select(Nudge).where(
        col(Nudge.kind).in_(kinds),
        col(Nudge.subject) == subject,
        col(Nudge.role) == role,
        col(Nudge.state) == NudgeState.SENT,
        col(Nudge.channel).is_not(None),
        col(Nudge.ts).is_not(None),
    )
    if recipient_id is not None:
        query = query.where(col(Nudge.recipient_id) == recipient_id)
    if period is not None:
        query = query.where(col(Nudge.period) == period)
    rows = await session.execute(query.order_by(col(Nudge.id)))
    return list(rows.scalars())


async def snoozes_of(session: AsyncSession, nudge: Nudge) -> int:
    """How many snoozed returns of this nudge's first planned row are stored."""
    base = base_period(nudge.period)
    count = await session.execute(
        select(func.count()).where(
            col(Nudge.kind) == nudge.kind,
            col(Nudge.recipient_id) == nudge.recipient_id,
            col(Nudge.subject) == nudge.subject,
            # literal: a cycle's name (a cycle nudge's period) may hold `_` or `%`
            col(Nudge.period).startswith(follow_up_prefix(base), autoescape=True),
        )
    )
    return int(count.scalar_one())


async def mark_snoozed(session: AsyncSession, nudge_id: int | None, *, now: datetime) -> bool:
    """Mark a nudge snoozed unless it was; True if this did (one conditional update: of two
    clicks at once only one snoozes)."""
    result = await session.execute(
        update(Nudge)
        .where(
            col(Nudge.id) == nudge_id,
            (col(Nudge.skip_reason).is_(None)) | (col(Nudge.skip_reason) != "snoozed"),
        )
        .values(skip_reason="snoozed", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


async def snoozed_return(session: AsyncSession, nudge: Nudge) -> Nudge | None:
    """The first snoozed return of this nudge stored after it, if any."""
    later = await session.execute(
        select(Nudge)
        .where(
            col(Nudge.kind) == nudge.kind,
            col(Nudge.recipient_id) == nudge.recipient_id,
            col(Nudge.subject) == nudge.subject,
            col(Nudge.period).startswith(
                snoozed_prefix(base_period(nudge.period)), autoescape=True
            ),
            col(Nudge.id) > (nudge.id or 0),
        )
        .order_by(col(Nudge.id))
        .limit(1)
    )
    return later.scalars().first()


async def pending_follow_ups(
    session: AsyncSession, nudge: Nudge, *, kinds: Sequence[str], recipient_id: str
) -> list[Nudge]:
    """`recipient_id`'s pending rows of these kinds about the nudge's subject, for its first
    planned period or a snoozed return of it."""
    base = base_period(nudge.period)
    rows = await session.execute(
        select(Nudge).where(
            col(Nudge.kind).in_(kinds),
            col(Nudge.recipient_id) == recipient_id,
            col(Nudge.subject) == nudge.subject,
            col(Nudge.state) == NudgeState.PENDING,
            (col(Nudge.period) == base)
            | col(Nudge.period).startswith(follow_up_prefix(base), autoescape=True),
        )
    )
    return list(rows.scalars())


async def checkins_skipped(session: AsyncSession, period: str) -> set[str]:
    """The employees whose manager skipped this period's check-in (or its snoozed return)
    because they talked offline or were away."""
    rows = await session.execute(
        select(col(Nudge.subject)).where(
            col(Nudge.kind) == CHECKIN,
            col(Nudge.role) == "manager",  # the manager's word, never the employee's
            (col(Nudge.period) == period)
            | col(Nudge.period).startswith(follow_up_prefix(period), autoescape=True),
            col(Nudge.skip_reason).in_(("talked_offline", "on_leave")),
        )
    )
    return set(rows.scalars())


async def cancel_for_person(
    session: AsyncSession, person_id: str, *, reason: str, now: datetime
) -> int:
    """Cancel the pending rows to or about a person; returns how many."""
    result = await session.execute(
        update(Nudge)
        .where(
            col(Nudge.state) == NudgeState.PENDING,
            (col(Nudge.recipient_id) == person_id) | (col(Nudge.about_id) == person_id),
        )
        .values(state=NudgeState.CANCELLED, last_error=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


async def cancel_for_inactive_people(session: AsyncSession, *, now: datetime) -> int:
    """Cancel the pending rows to or about people who left the org chart; returns how many."""
    pending, left = col(Nudge.state) == NudgeState.PENDING, col(Person.active).is_(False)
    # from the few who left to their pending rows, through the partial indexes
    to_gone = select(col(Nudge.id)).join(Person, col(Person.id) == col(Nudge.recipient_id))
    about_gone = select(col(Nudge.id)).join(Person, col(Person.id) == col(Nudge.about_id))
    ids = union(to_gone.where(pending, left), about_gone.where(pending, left))
    cancelled = await session.execute(
        update(Nudge)
        .where(col(Nudge.id).in_(ids))
        .values(state=NudgeState.CANCELLED, last_error="person left the org chart", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(cancelled.rowcount or 0)  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult


# -- listings (the command line, the demo) ---------------------------------------------------------


def _listed(*, failed: bool, pending: bool, person_id: str | None) -> list[ColumnElement[bool]]:
    """The filters of `latest` and `count_listed`."""
    where: list[ColumnElement[bool]] = []
    if failed:
        where.append(col(Nudge.state) == NudgeState.FAILED)
    if pending:
        where.append(col(Nudge.state).in_((NudgeState.PENDING, NudgeState.SENDING)))
    if person_id is not None:
        where.append(or_(col(Nudge.recipient_id) == person_id, col(Nudge.about_id) == person_id))
    return where


async def latest(
    session: AsyncSession,
    *,
    limit: int,
    failed: bool = False,
    pending: bool = False,
    person_id: str | None = None,
) -> list[Nudge]:
    """The rows due last, at most `limit`: only failed ones, only pending (or being sent)
    ones, or all; only those to or about `person_id` when given."""
    query = select(Nudge).order_by(col(Nudge.due_at).desc(), col(Nudge.id).desc()).limit(limit)
    for where in _listed(failed=failed, pending=pending, person_id=person_id):
        query = query.where(where)
    return list((await session.execute(query)).scalars())


async def count_listed(
    session: AsyncSession,
    *,
    failed: bool = False,
    pending: bool = False,
    person_id: str | None = None,
) -> int:
    """How many rows `latest` would list without its limit."""
    query = select(func.count()).select_from(Nudge)
    for where in _listed(failed=failed, pending=pending, person_id=person_id):
        query = query.where(where)
    return int((await session.execute(query)).scalar_one())


# The reason a row waits because its recipient has no account on a platform served (set by
# the dispatcher; the row stays pending).
UNREACHABLE = "unreachable: no account on a platform served"


async def count_unreachable(session: AsyncSession) -> int:
    """How many pending rows wait for their recipient to be reachable."""
    query = select(func.count()).where(
        col(Nudge.state) == NudgeState.PENDING, col(Nudge.last_error) == UNREACHABLE
    )
    return int((await session.execute(query)).scalar_one())


async def unreachable_pairs(session: AsyncSession) -> set[tuple[str, str]]:
    """(recipient, about) of the pending rows waiting for their recipient to be reachable."""
    query = select(col(Nudge.recipient_id), col(Nudge.about_id)).where(
        col(Nudge.state) == NudgeState.PENDING,
        col(Nudge.last_error) == UNREACHABLE,
        col(Nudge.about_id).is_not(None),
    )
    return {(to, str(about)) for to, about in (await session.execute(query)).all()}


async def all_sent(session: AsyncSession) -> list[Nudge]:
    """Every row sent, in the order they were stored."""
    query = select(Nudge).where(col(Nudge.state) == NudgeState.SENT).order_by(col(Nudge.id))
    return list((await session.execute(query)).scalars())


async def first_due(session: AsyncSession) -> datetime | None:
    """When the first pending row is due, if any is."""
    query = select(col(Nudge.due_at)).where(col(Nudge.state) == NudgeState.PENDING)
    return (await session.execute(query.order_by(col(Nudge.due_at)).limit(1))).scalar()


async def every_row(session: AsyncSession) -> list[Nudge]:
    """Every row, by when it was sent, then in the order they were stored."""
    query = select(Nudge).order_by(col(Nudge.sent_at), col(Nudge.id))
    return list((await session.execute(query)).scalars())


# -- what /metrics reports -----------------------------------------------------------------------


async def count_by_state_and_kind(session: AsyncSession) -> dict[tuple[str, str], int]:
    """How many rows each (state, kind) has: one GROUP BY over the table."""
    query = select(col(Nudge.state), col(Nudge.kind), func.count()).group_by(
        col(Nudge.state), col(Nudge.kind)
    )
    return {(state, kind): int(n) for state, kind, n in (await session.execute(query)).all()}
