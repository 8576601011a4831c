"""The access log: a row each time someone other than the subject reads a person's records.

A row says who read, whose records, what (one of the read paths below, or the kind of
message that carried them), when and on which platform, with at most some counts; never any
content. Rows are only added; retention removes old ones and erasure unlinks the erased."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import privacy, queries
from storage.db import session_scope

# The read paths (`what`); a delivered message that shows someone's records is logged under
# its own outbox kind (CARRIES_RECORDS).
EXPORT = "export"  # `export`: HR's export of talks
EXPORT_PERSON = "export_person"  # `export-person`: everything about one person
PREP_PACK_BUILT = "prep_pack"  # `prep-pack` on the command line (sent: the outbox kind)
HOME = "home"  # App Home / the Teams home card listing a manager's reports
REVIEW_FORM = "review_form"  # the review interview's form, opened with the cycle's records
AUDIT = "audit"  # `audit`: who read this person's records
ERASE = "erase"  # `erase`: the erasure itself (no subject: it is gone)

# Messages that show someone's records to another person are logged by the outbox when it
# marks them sent (kinds.CARRIES_RECORDS).

CLI = "cli"
FORMER = privacy.FORMER_NAME  # what an erased reader becomes, and anyone no longer known


def operator(login: str) -> str:
    """The reader an operator's command is logged as."""
    return f"operator:{login}"[:80]


async def record(
    session: AsyncSession,
    *,
    reader: str,
    subjects: Iterable[str | None],
    what: str,
    platform: str,
    now: datetime,
    detail: str | None = None,
) -> int:
    """Add a row per subject read by someone else, in one statement (the caller commits);
    how many."""
    rows = [
        {
            "at": now,
            "reader": reader,
            "subject_id": subject,
            "what": what,
            "platform": platform,
            "detail": detail[:200] if detail else None,
        }
        for subject in dict.fromkeys(subjects)  # once each, in order
        if subject is not None and subject != reader
    ]
    await privacy.add_reads(session, rows)
    return len(rows)


async def record_daily(
    session: AsyncSession,
    *,
    reader: str,
    subjects: list[str],
    what: str,
    platform: str,
    now: datetime,
) -> int:
    """`record`, at most once a day per reader, subject and kind of read: for views drawn
    again and again (App Home is redrawn whenever a record changes)."""
    seen = await privacy.logged_since(
        session, reader=reader, subjects=subjects, what=what, since=now - timedelta(days=1)
    )
    fresh = [s for s in subjects if s not in seen]
    return await record(
        session, reader=reader, subjects=fresh, what=what, platform=platform, now=now
    )


async def log(
    engine: AsyncEngine,
    *,
    reader: str,
    subjects: Iterable[str | None],
    what: str,
    platform: str,
    now: datetime,
    detail: str | None = None,
) -> int:
    """`record` in its own transaction."""
    async with session_scope(engine) as session:
        added = await record(
            session,
            reader=reader,
            subjects=subjects,
            what=what,
            platform=platform,
            now=now,
            detail=detail,
        )
        await session.commit()
    return added


@dataclass(frozen=True)
class Read:
    """One row of the log as people read it."""

    at: datetime
    reader: str  # the reader's key or operator name
    reader_name: str  # their name, or the operator, or "Former employee"
    what: str
    platform: str
    detail: str | None


async def reads_of(
    session: AsyncSession, subject_id: str, *, since: datetime | None = None
) -> list[Read]:
    """Who read this person's records, oldest first."""
    rows = await privacy.access_rows(session, subject_id, since=since)
    people = await queries.people_by_ids(session, {r.reader for r in rows})
    return [
        Read(
            r.at,
            r.reader,
            people[r.reader].name if r.reader in people else r.reader,
            r.what,
            r.platform,
            r.detail,
        )
        for r in rows
    ]
