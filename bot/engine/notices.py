"""Notices: the messages the product owes someone because of a record (the talk's record DM,
a confirmation, an acknowledgement, a goal proposal, a review summary, a disagreement).

A notice is written to the outbox in the same transaction as the record it announces, so
a crash after the commit loses nothing: the dispatcher sends it at once, whatever the hour
(only nudges wait for working hours), and again after a restart if it was never sent. A
notice carries only ids; its words are read from the database when it is sent, in the
recipient's language. The outbox's unique key (kind, recipient, subject, version) makes
owing the same notice twice a no-op, so a retried or double-clicked submission cannot
send it twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine.kinds import NOTICE_KINDS, ONCE
from bot.engine.outbox import NudgeSpec, enqueue, posted_rows
from storage.models import Nudge

ROLE = "notice"  # the role of every notice's row (a nudge's is manager, employee or owner)


async def owe(
    session: AsyncSession,
    *,
    kind: str,
    recipient_id: str,
    subject: str,
    payload: dict[str, object],
    now: datetime,
    about_id: str | None = None,
    version: str = ONCE,
) -> int:
    """Write a notice into the outbox, due now; the caller commits with the record. Owing a
    notice already owed (same kind, recipient, subject, version) adds nothing. Returns how
    many rows were created (0 or 1)."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"not a notice kind: {kind}")
    spec = NudgeSpec(kind, recipient_id, subject, version, now, about_id, ROLE, payload)
    return await enqueue(session, [spec], now)


async def posted(
    session: AsyncSession,
    *,
    kinds: tuple[str, ...],
    subject: str,
    recipient_id: str | None = None,
    version: str | None = None,
) -> list[Nudge]:
    """The notices of these kinds about `subject` that were sent, oldest first: each keeps the
    channel and ts of the Slack message it became, the only place the bot updates later
    (never a channel or ts taken from a payload)."""
    return await posted_rows(
        session,
        kinds=kinds,
        subject=subject,
        role=ROLE,
        recipient_id=recipient_id,
        period=version,
    )
