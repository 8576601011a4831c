"""Calendar periods: the check-in rhythm's periods and the appraisal cycles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.org.policy import CheckinRhythm, Cycles

WEEKS_ANCHOR = date(2024, 1, 1)  # a Monday: "every N weeks" blocks count from here
CYCLE_MONTHS = {"quarterly": 3, "half_year": 6, "annual": 12}


@dataclass(frozen=True)
class Period:
    """One period of the check-in rhythm, e.g. `2026-11`, `2026-Q4`, `w2026-11-16`."""

    key: str
    index: int
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def period_of(day: date, rhythm: CheckinRhythm) -> Period:
    """The period of the rhythm that contains `day`."""
    if rhythm.every == "month":
        start = day.replace(day=1)
        return Period(
            start.strftime("%Y-%m"),
            day.year * 12 + day.month,
            start,
            _add_months(start, 1) - timedelta(days=1),
        )
    if rhythm.every == "quarter":
        quarter = (day.month - 1) // 3
        start = date(day.year, quarter * 3 + 1, 1)
        return Period(
            f"{day.year}-Q{quarter + 1}",
            day.year * 4 + quarter,
            start,
            _add_months(start, 3) - timedelta(days=1),
        )
    length = 7 * rhythm.weeks
    index = (day - WEEKS_ANCHOR).days // length
    start = WEEKS_ANCHOR + timedelta(days=index * length)
    return Period(f"w{start.isoformat()}", index, start, start + timedelta(days=length - 1))


def previous_period(period: Period, rhythm: CheckinRhythm) -> Period:
    """The period just before `period`."""
    return period_of(period.start - timedelta(days=1), rhythm)


@dataclass(frozen=True)
class CycleSpan:
    """An appraisal cycle computed from the policy."""

    name: str
    starts_on: date
    ends_on: date
    review_from: date
    review_to: date


def cycle_name(start: date, cadence: str) -> str:
    """`2026-Q1`, `2026-H2` or `2026`, by the cycle's first month."""
    if cadence == "quarterly":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    if cadence == "half_year":
        return f"{start.year}-H{(start.month - 1) // 6 + 1}"
    return str(start.year)


def policy_cycles(policy_cycles: Cycles, around: date, *, ahead: int = 1) -> list[CycleSpan]:
    """The policy's cycle containing `around` (or the first one), the one before and `ahead`
    after, each with its review window right after its end."""
    months = CYCLE_MONTHS[policy_cycles.cadence]
    first = policy_cycles.first_start
    elapsed = (around.year - first.year) * 12 + around.month - first.month
    current = max(0, elapsed // months if around >= first else 0)
    spans = []
    for n in range(max(0, current - 1), current + ahead + 1):
        start = _add_months(first.replace(day=1), n * months)
        end = _add_months(start, months) - timedelta(days=1)
        review_to = end + timedelta(days=policy_cycles.review_window_days)
        spans.append(
            CycleSpan(
                cycle_name(start, policy_cycles.cadence),
                start,
                end,
                end + timedelta(days=1),
                review_to,
            )
        )
    return spans
