"""Retention: records kept no longer than the policy says (app.yaml `retention`), deleted
daily in small batches, counted by kind (never named), and people who left erased after the
grace period. `retention --dry-run` counts exactly what `--apply` deletes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.errors import NotAllowed
from bot.org.policy import Policy
from bot.org.worktime import policy_today
from bot.privacy.erasure import erase_person
from storage import retention as rows
from storage.models import AccessLog, Nudge, Talk

log = logging.getLogger(__name__)

# The kinds a report counts, in the order they are deleted.
NOTES = "private notes"
DIALOGUES = "dialogues"
DIALOGUE_ACTIONS = "their actions"
REVIEWS = "reviews"
REVIEW_ACTIONS = "review actions"
SELF_ASSESSMENTS = "self-assessments"
INTERVIEWS = "interview dates"
MESSAGES = "delivered messages"
ACCESS_ROWS = "access log rows"
LEAVERS = "people who left, erased"


@dataclass
class RetentionReport:
    """How many of each kind went (or, in a dry run, would go)."""

    applied: bool
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """A small table for the operator: each kind and its count, headed by what was done."""
        verb = "deleted" if self.applied else "would delete"
        width = max(len(kind) for kind in [*self.counts, "kind"])
        out = [f"{'kind':<{width}}  {verb:>12}"]
        out += [f"{kind:<{width}}  {n:>12}" for kind, n in self.counts.items()]
        if not any(self.counts.values()):
            out.append("nothing is past its time")
        return out


@dataclass(frozen=True)
class _Limits:
    """The first date or moment each kind is kept from, at `now`."""

    dialogues: date
    reviews: date
    notes: date
    messages: datetime
    access: datetime
    leavers: datetime

    @classmethod
    def at(cls, policy: Policy, now: datetime) -> _Limits:
        keep, today = policy.retention, policy_today(policy, now)
        return cls(
            dialogues=today - timedelta(days=keep.dialogue_records_days),
            reviews=today - timedelta(days=keep.review_records_days),
            notes=today - timedelta(days=keep.private_notes_days),
            messages=now - timedelta(days=keep.delivered_nudges_days),
            access=now - timedelta(days=keep.access_log_days),
            leavers=now - timedelta(days=keep.leavers_grace_days),
        )


async def retention(
    engine: AsyncEngine,
    *,
    policy: Policy,
    now: datetime,
    apply: bool,
    reader: str,
    platform: str,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionReport:
    """Delete (with `apply`) or count what the policy no longer keeps at `now`; erasures are
    logged in the access log as `reader` on `platform`. `progress` hears how many of the
    kinds are done."""
    limits, batch = _Limits.at(policy, now), policy.retention.batch_size
    step = _Steps(progress, total=len(KINDS_IN_ORDER))
    # Read before anything goes, in both modes, so both erase the same people.
    leaving = await rows.leavers(engine, limits.leavers)
    # In this order, so that a dry run's counts are what applying deletes: notes first (a
    # note on a talk deleted next is counted once, as a note), leavers last (their erasure
    # takes whatever of theirs is left, and is counted by person).
    counts = (
        await _delete(engine, limits, batch, step) if apply else await _count(engine, limits, step)
    )
    counts[LEAVERS] = await _erase(
        engine, leaving, policy=policy, now=now, apply=apply, reader=reader, platform=platform
    )
    step()
    report = RetentionReport(apply, counts)
    verb = "deleted" if apply else "would delete"
    for kind, n in report.counts.items():
        log.info("retention %s: %s %s", verb, n, kind)
    return report


async def _count(engine: AsyncEngine, limits: _Limits, step: _Steps) -> dict[str, int]:
    """What `_delete` would delete, counted (nothing changes)."""
    counts = {NOTES: await rows.count(engine, Talk, rows.old_notes(limits.notes))}
    step()
    counts[DIALOGUES] = await rows.count(engine, Talk, rows.old_dialogues(limits.dialogues))
    counts[DIALOGUE_ACTIONS] = await rows.count_dialogue_actions(engine, limits.dialogues)
    step()
    counts |= _review_counts(await rows.count_review_rows(engine, limits.reviews))
    step()
    counts[MESSAGES] = await rows.count(engine, Nudge, rows.delivered_before(limits.messages))
    step()
    counts[ACCESS_ROWS] = await rows.count(engine, AccessLog, rows.logged_before(limits.access))
    step()
    return counts


async def _delete(engine: AsyncEngine, limits: _Limits, batch: int, step: _Steps) -> dict[str, int]:
    """Delete what is past its time, `batch` rows per transaction; what each kind lost."""
    counts = {NOTES: await rows.clear_notes(engine, limits.notes, batch)}
    step()
    counts[DIALOGUES], counts[DIALOGUE_ACTIONS] = await rows.delete_dialogues(
        engine, limits.dialogues, batch
    )
    step()
    counts |= _review_counts(await rows.delete_reviews(engine, limits.reviews, batch))
    step()
    counts[MESSAGES] = await rows.delete_rows(
        engine, Nudge, col(Nudge.id), rows.delivered_before(limits.messages), batch
    )
    step()
    counts[ACCESS_ROWS] = await rows.delete_rows(
        engine, AccessLog, col(AccessLog.id), rows.logged_before(limits.access), batch
    )
    step()
    return counts


# The steps `progress` counts: notes, dialogues, reviews, messages, the log, leavers.
KINDS_IN_ORDER = (NOTES, DIALOGUES, REVIEWS, MESSAGES, ACCESS_ROWS, LEAVERS)


class _Steps:
    """Tells `progress` (when given) each time one more of `total` steps is done."""

    def __init__(self, progress: Callable[[int, int], None] | None, *, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def _review_counts(found: rows.ReviewRows) -> dict[str, int]:
    return {
        REVIEWS: found.reviews,
        REVIEW_ACTIONS: found.actions,
        SELF_ASSESSMENTS: found.self_assessments,
        INTERVIEWS: found.interviews,
    }


async def _erase(
    engine: AsyncEngine,
    people: list[str],
    *,
    policy: Policy,
    now: datetime,
    apply: bool,
    reader: str,
    platform: str,
) -> int:
    """Erase (or, without `apply`, plan the erasure of) these leavers, each in its own
    transaction; how many were (or would be) erased."""
    erased = 0
    for person_id in people:
        try:
            await erase_person(
                engine,
                person_id=person_id,
                reader=reader,
                platform=platform,
                policy=policy,
                now=now,
                dry_run=not apply,
                force=True,  # they left: a review under way ends with them
            )
        except NotAllowed:  # erased meanwhile (another replica's run)
            continue
        erased += 1
    return erased
