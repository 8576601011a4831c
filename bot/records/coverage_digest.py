"""HR's weekly digest: coverage at a glance (this period's numbers, the last six periods as a
chart, the three numbers that changed most) and the full table as one HTML file. HR's alone:
a manager or employee who asks gets a refusal."""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import NotAllowed
from bot.org.policy import Policy
from bot.org.worktime import policy_today
from bot.records.coverage import PairCoverage, coverage

if TYPE_CHECKING:
    from bot.records.coverage_history import Change, CoverageHistory
from storage import queries
from storage.db import session_scope


class SummaryCounts(TypedDict, total=False):
    """The parameters of `hr_digest.summary` (none for `hr_digest.no_pairs`)."""

    share: int
    talked: int
    pairs: int
    overdue: int
    escalated: int


class ChangeShown(TypedDict):
    """The parameters of one `hr_digest.change` line."""

    label: str
    before: str
    after: str


@dataclass(frozen=True)
class CoverageDigest:
    """What the digest shows, as of `at`: every pair now, their history, what changed."""

    at: datetime
    pairs: list[PairCoverage]
    history: CoverageHistory
    changes: list[Change]

    @property
    def talked(self) -> int:
        """Pairs that held a dialogue this period."""
        return sum(1 for p in self.pairs if p.status == "ok")

    @property
    def share(self) -> int:
        """That, as a whole percentage of every pair (0 with no pairs)."""
        return round(100 * self.talked / len(self.pairs)) if self.pairs else 0

    @property
    def overdue(self) -> int:
        return sum(p.overdue_actions for p in self.pairs)

    @property
    def escalated(self) -> int:
        return sum(1 for p in self.pairs if p.status == "escalated")

    def summary(self) -> tuple[str, SummaryCounts]:
        """The summary line's catalog key and its numbers, as every platform says it."""
        if not self.pairs:
            return "hr_digest.no_pairs", {}
        return "hr_digest.summary", {
            "share": self.share,
            "talked": self.talked,
            "pairs": len(self.pairs),
            "overdue": self.overdue,
            "escalated": self.escalated,
        }

    def moved(self, locale: str) -> list[ChangeShown]:
        """The parameters of each `hr_digest.change` line, in `locale`."""
        return [
            {"label": c.label_in(locale), "before": c.shown_before, "after": c.shown_after}
            for c in self.changes
        ]


async def coverage_digest(
    engine: AsyncEngine, *, reader_id: str, policy: Policy, now: datetime
) -> CoverageDigest:
    """The digest at `now` for `reader_id`, who must be in HR (NotAllowed otherwise)."""
    async with session_scope(engine) as session:
        reader = await queries.get_person(session, reader_id)
    if reader is None or not reader.active:
        raise NotAllowed("refusal.not_in_org")
    if not reader.is_hr:
        raise NotAllowed("hr_digest.hr_only")
    from bot.records.coverage_history import changes, coverage_history

    pairs = await coverage(engine, policy=policy, now=now)
    history = await coverage_history(
        engine, policy=policy, now=now, group_by=policy.hr_digest.group_by
    )
    return CoverageDigest(now, pairs, history, changes(history))


def file_name(digest: CoverageDigest, policy: Policy) -> str:
    """The full table's file name: the day it shows, in the policy's zone."""
    return f"cadence-coverage-{policy_today(policy, digest.at).isoformat()}.html"


async def chart_png(digest: CoverageDigest, *, locale: str) -> bytes:
    """The chart as PNG, drawn off the event loop (drawing takes a moment)."""
    from bot.records.coverage_charts import coverage_png

    return await asyncio.to_thread(coverage_png, digest.history, locale=locale)


async def full_table_html(digest: CoverageDigest, *, locale: str) -> str:
    """The full table with the charts, one self-contained HTML file, drawn off the loop."""
    from bot.records.coverage_charts import coverage_html

    return await asyncio.to_thread(
        coverage_html,
        digest.history,
        digest.changes,
        digest.pairs,
        locale=locale,
        generated_at=digest.at,
    )


# A chart inside a Teams card travels in the card (a data URI): Teams keeps a message under
# about 28 KB, so the card's copy is small, few-coloured, and left out when still too big.
CARD_CHART_WIDTH = 600
CARD_CHART_BYTES = 10_000


def _card_copy(png: bytes) -> bytes | None:
    """A 32-colour copy of a chart drawn narrow, or None if even that is over the budget."""
    from PIL import Image  # matplotlib's own dependency

    with Image.open(io.BytesIO(png)) as drawn:
        small = drawn.convert("RGB")
    out = io.BytesIO()
    small.quantize(colors=32).save(out, format="PNG", optimize=True)
    found = out.getvalue()
    return found if len(found) <= CARD_CHART_BYTES else None


async def card_chart_png(digest: CoverageDigest, *, locale: str) -> bytes | None:
    """The chart small enough to go inside a chat card, or None when it cannot be."""
    from bot.records.coverage_charts import coverage_png

    png = await asyncio.to_thread(
        coverage_png, digest.history, locale=locale, width_px=CARD_CHART_WIDTH
    )
    return await asyncio.to_thread(_card_copy, png)
