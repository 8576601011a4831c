"""Retention: records kept no longer than the policy says (app.yaml `retention`), deleted
daily in small batches, counted by kind (never named), and people who left erased after the
grace period. `retention --dry-run` counts exactly what `--apply` deletes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from bot.errors import NotAllowed
from bot.org.policy import Policy
from bot.org.worktime import policy_today
from bot.privacy.erasure import erase_person
from storage import retention as rows
from storage.models import AccessLog, Nudge, Talk

log = logging.getLogger(__name__)


@dataclass
class RetentionReport:
    """How many of each kind went (or, in a dry run, would go)."""

    applied: bool
    counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        verb = "deleted" if self.applied else "would delete"
        return [f"{n:>8}  {kind}" for kind, n in self.counts.items()] + [
            f"({verb})" if any(self.counts.values()) else "nothing is past its time"
        ]


async def retention(
    engine: AsyncEngine,
    *,
    policy: Policy,
    now: datetime,
    apply: bool,
    reader: str,
    platform: str,
) -> RetentionReport:
    """Delete (with `apply`) or count what the policy no longer keeps at `now`; erasures are
    logged as `reader` on `platform`."""
    keep, today = policy.retention, policy_today(policy, now)
    dialogues_before = today - timedelta(days=keep.dialogue_records_days)
    reviews_before = today - timedelta(days=keep.review_records_days)
    notes_before = today - timedelta(days=keep.private_notes_days)
    sent_before = now - timedelta(days=keep.delivered_nudges_days)
    logged_before = now - timedelta(days=keep.access_log_days)
    left_before = now - timedelta(days=keep.leavers_grace_days)
    batch = keep.batch_size
    report = RetentionReport(apply)
    counts = report.counts
    # In this order, so that a dry run's counts are what applying deletes: notes first (a
    # note on a talk deleted next is counted once, as a note), leavers last (their erasure
    # takes whatever of theirs is left).
    leaving = await rows.leavers(engine, left_before)
    if apply:
        counts["private notes"] = await rows.clear_notes(engine, notes_before, batch)
        counts["dialogues"], counts["their actions"] = await rows.delete_dialogues(
            engine, dialogues_before, batch
        )
        counts |= await rows.delete_reviews(engine, reviews_before, batch)
        counts["delivered messages"] = await rows.delete_rows(
            engine, Nudge, col(Nudge.id), rows.delivered_before(sent_before), batch
        )
        counts["access log rows"] = await rows.delete_rows(
            engine, AccessLog, col(AccessLog.id), rows.logged_before(logged_before), batch
        )
        counts["people who left, erased"] = await _erase(
            engine, leaving, policy, now, reader, platform
        )
    else:
        counts["private notes"] = await rows.count(engine, Talk, rows.old_notes(notes_before))
        counts["dialogues"] = await rows.count(engine, Talk, rows.old_dialogues(dialogues_before))
        counts["their actions"] = await rows.count_dialogue_actions(engine, dialogues_before)
        counts |= await rows.count_review_rows(engine, reviews_before)
        counts["delivered messages"] = await rows.count(
            engine, Nudge, rows.delivered_before(sent_before)
        )
        counts["access log rows"] = await rows.count(
            engine, AccessLog, rows.logged_before(logged_before)
        )
        counts["people who left, erased"] = len(leaving)
    for kind, n in counts.items():
        log.info("retention %s: %s %s", "deleted" if apply else "would delete", n, kind)
    return report


async def _erase(
    engine: AsyncEngine,
    people: list[str],
    policy: Policy,
    now: datetime,
    reader: str,
    platform: str,
) -> int:
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
                dry_run=False,
                force=True,  # they left: a review under way ends with them
            )
        except NotAllowed:  # erased meanwhile (another replica's run)
            continue
        erased += 1
    return erased
