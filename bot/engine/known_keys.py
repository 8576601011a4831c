"""Which nudges the outbox holds already, read before planning so the planner skips them.

A steady planning pass wants almost only nudges that exist: this period's check-ins, the
review's self-assessments and prep packs. Knowing their keys up front lets the planner pass
over them with one set look-up each, instead of working out a moment and a payload for every
one and comparing afterwards. Keys are read in two ways, both bounded by what is live now:
per (kind, period) for the kinds planned for everyone (check-ins, cycle end), and per
subject for the kinds planned per goal, action or milestone, whose periods never change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import bindparam, text
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine.kinds import SEPARATOR, member
from storage.db import is_postgres
from storage.models import Nudge

Slot = tuple[str, str]  # (kind, period)
_NONE: frozenset[str] = frozenset()


@dataclass
class KnownKeys:
    """The stored keys, per (kind, period), as "recipient subject" strings."""

    by_slot: dict[Slot, set[str]] = field(default_factory=dict)

    def slot(self, kind: str, period: str) -> set[str] | frozenset[str]:
        """The stored keys of one (kind, period), for a loop that looks up many."""
        return self.by_slot.get((kind, period), _NONE)

    def has(self, kind: str, recipient_id: str, subject: str, period: str) -> bool:
        """Whether a nudge with this key is stored."""
        return member(recipient_id, subject) in self.slot(kind, period)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self.by_slot.values())


_KEY = f"recipient_id || '{SEPARATOR}' || subject"
_SLOT = f"FROM {Nudge.__tablename__} WHERE kind = :kind AND period = :period"
# PostgreSQL hands a slot's keys over as one array, decoded by the driver in one go.
_BY_SLOT_PG = text(f"SELECT array_agg({_KEY}) {_SLOT}")
_BY_SLOT = text(f"SELECT {_KEY} {_SLOT}")
_BY_SUBJECT = text(
    f"SELECT kind, period, {_KEY} FROM {Nudge.__tablename__}"
    " WHERE kind IN :kinds AND subject IN :subjects"
).bindparams(bindparam("kinds", expanding=True), bindparam("subjects", expanding=True))
SUBJECT_CHUNK = 5000  # subjects per query (SQLite allows 32,766 parameters)


async def load_known_keys(
    session: AsyncSession,
    *,
    slots: Iterable[Slot],
    kinds: Sequence[str],
    subjects: Sequence[str],
) -> KnownKeys:
    """The stored keys of these slots, and of these kinds about these subjects."""
    known = KnownKeys()
    postgres = is_postgres(session)
    by_slot = _BY_SLOT_PG if postgres else _BY_SLOT
    for kind, period in dict.fromkeys(slots):
        rows = await session.execute(by_slot, {"kind": kind, "period": period})
        keys = (rows.scalar_one() or ()) if postgres else rows.scalars()
        known.by_slot[(kind, period)] = set(keys)
    for start in range(0, len(subjects) if kinds else 0, SUBJECT_CHUNK):
        chunk = list(subjects[start : start + SUBJECT_CHUNK])
        rows = await session.execute(_BY_SUBJECT, {"kinds": list(kinds), "subjects": chunk})
        for kind, period, key in rows:
            known.by_slot.setdefault((kind, period), set()).add(key)
    return known
