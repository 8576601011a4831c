"""Erasure: the right to have one's records deleted (`erase --person`, and retention for
people who left). Everything about the person goes in one transaction; what they wrote about
others stays, signed as a former employee; the erasure is logged with its counts only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import NotAllowed
from bot.org.people import local_today
from bot.org.policy import Policy
from bot.privacy import access
from storage import privacy, queries
from storage.db import session_scope
from storage.models import AccessLog
from storage.privacy import ErasurePlan


class ReviewInProgress(Exception):
    """The person's review is under way; erasing needs `--force`."""

    def __init__(self, cycle: str) -> None:
        super().__init__(cycle)
        self.cycle = cycle


@dataclass(frozen=True)
class Erasure:
    """What erasing one person deleted (or, in a dry run, would delete)."""

    name: str
    plan: ErasurePlan
    done: bool

    def lines(self) -> list[str]:
        """The plan, one line per kind of row, for the operator."""
        verb = "erased" if self.done else "would erase"
        out = [f"{verb}: {self.name}"]
        out += [f"  delete {n:>6}  {label}" for label, n in self.plan.deleted.items() if n]
        out += [
            f"  keep   {n:>6}  {label}, signed as a former employee"
            for label, n in self.plan.relinked.items()
            if n
        ]
        if self.plan.scrubbed_messages:
            out.append(
                f"  clear  {self.plan.scrubbed_messages:>6}  others' messages that name them"
            )
        if self.plan.reports:
            out.append(
                f"  note: {self.plan.reports} people report to them and will have no manager"
                " until the next import-org"
            )
        return out

    def counts(self) -> str:
        """The access log's detail: counts by kind, nothing identifying."""
        parts = [f"{k.split()[0]}={n}" for k, n in self.plan.deleted.items() if n]
        return " ".join(parts)[:200]


async def erase_person(
    engine: AsyncEngine,
    *,
    person_id: str,
    reader: str,
    platform: str,
    policy: Policy,
    now: datetime,
    dry_run: bool,
    force: bool,
    progress: Callable[[int, int], None] | None = None,
) -> Erasure:
    """Erase `person_id` (NotAllowed when unknown, ReviewInProgress unless `force`);
    `progress` hears how far the erasure's statements have got."""
    async with session_scope(engine) as session:
        person = await queries.get_person(session, person_id)
        if person is None or person.id == privacy.FORMER_KEY:
            raise NotAllowed("refusal.not_in_org")
        under_way = await privacy.review_in_progress(
            session, person.id, local_today(person, policy, now)
        )
        if under_way is not None and not force:
            raise ReviewInProgress(under_way)
        plan = await privacy.erasure_plan(session, person)
        erasure = Erasure(person.name, plan, done=not dry_run)
        if dry_run:
            return erasure
        if not await privacy.erase(session, person, now=now, progress=progress):
            await session.rollback()
            raise NotAllowed("refusal.not_in_org")  # erased meanwhile, by another run
        session.add(
            AccessLog(
                at=now,
                reader=reader,
                subject_id=None,
                what=access.ERASE,
                platform=platform,
                detail=erasure.counts(),
            )
        )
        await session.commit()
    return erasure
