"""Coverage over the last periods of the check-in rhythm, for HR's digest: per manager (or
team) and for the whole organisation, the share of manager–report pairs that held a dialogue
in each period, the open actions past their date at each period's end, and the pairs whose
status was "escalated" then; and the three numbers that moved most since the last period.

What the database can know, and so what this says:

- **Who reported to whom is today's org chart.** Only the current link is stored, so every
  period counts today's active pairs (an active report of an active manager), each from the
  period in which the report joined Cadence (their row's creation) on. Someone who changed
  manager counts under the new manager in every period; someone who left counts nowhere.
- **A dialogue** is any talk of the dialogue family (every dialogue kind) whose day held falls
  within the period, whoever it was held with.
- **Overdue actions at a period's end**: the report's actions that existed then, were due
  before the day after the period's last day, and were not completed by midnight of that day
  (the policy's zone). For the current period: open actions due before today, as `coverage`
  counts them. An action reopened after being done counts as open all along (a reopening
  clears its completion time).
- **Escalated at a period's end**: `coverage`'s status, evaluated at that end: no dialogue in
  that period nor in the `escalate_after_periods - 1` before it, not skipped by the manager
  that period (talked offline or away; the outbox's rows, which retention may have deleted
  for old periods), and the report was in Cadence before that window began. For the current
  period this is exactly `coverage`'s count.

`group_by="team"`: a pair belongs to its manager's own manager's team (the second-line
manager's organisation); a pair whose manager has no active manager belongs to that manager's
team. The organisation's totals do not depend on the grouping.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.engine import outbox
from bot.org.periods import Period, period_of, previous_period
from bot.org.policy import Policy
from bot.org.worktime import policy_today
from prompts import t
from storage import queries
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, Person

GroupBy = Literal["manager", "team"]
Metric = Literal["share", "overdue", "escalated"]
METRICS: tuple[Metric, ...] = ("share", "overdue", "escalated")  # the tie-break's order
CHANGES_SHOWN = 3


@dataclass(frozen=True)
class PeriodCounts:
    """One group's (or the organisation's) numbers in one period."""

    pairs: int  # pairs that existed in the period
    talked: int  # of those, pairs that held a dialogue in it
    overdue: int  # open actions past their date at the period's end
    escalated: int  # pairs escalated at the period's end

    @property
    def share(self) -> int | None:
        """Pairs that held a dialogue, as a whole percentage; None without pairs."""
        return round(100 * self.talked / self.pairs) if self.pairs else None


@dataclass(frozen=True)
class GroupHistory:
    """A manager's pairs (or a team's) over the periods, oldest first."""

    id: str  # the manager's person key (for a team: its second-line manager's)
    name: str
    counts: tuple[PeriodCounts, ...]


@dataclass(frozen=True)
class CoverageHistory:
    """Coverage over the last periods: `periods` oldest first, the current one last; each
    group's and the totals' `counts` line up with `periods`."""

    as_of: date  # the policy's today when it was drawn
    group_by: GroupBy
    escalate_after_periods: int
    periods: tuple[Period, ...]
    groups: tuple[GroupHistory, ...]  # by name, then id
    totals: tuple[PeriodCounts, ...]


@dataclass(frozen=True)
class Change:
    """One number that moved between the last two periods; `group_id` None is the whole
    organisation. A share is in whole percent, the others are counts."""

    metric: Metric
    group_by: GroupBy
    group_id: str | None
    group: str | None  # the group's name (a person's name: people's text)
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before

    @property
    def shown_before(self) -> str:
        return _shown(self.metric, self.before)

    @property
    def shown_after(self) -> str:
        return _shown(self.metric, self.after)

    def label_in(self, locale: str) -> str:
        """What moved, in `locale`: "Dialogues held, Mia Chen's reports"."""
        return t(f"coverage_digest.change.{self.metric}", locale, group=self.group_in(locale))

    def group_in(self, locale: str) -> str:
        """Whose numbers these are, in `locale`."""
        if self.group is None:
            return t("coverage_digest.whole_org", locale)
        return group_label(self.group_by, self.group, locale)


def group_label(group_by: GroupBy, name: str, locale: str) -> str:
    """A group named for its manager in `locale`: "Mia Chen's reports" or "…'s organisation"."""
    return t(f"coverage_digest.group.{group_by}", locale, name=name)


def _shown(metric: Metric, value: int) -> str:
    return f"{value}%" if metric == "share" else str(value)


def last_periods(today: date, policy: Policy, count: int) -> list[Period]:
    """The `count` periods of the check-in rhythm up to the one containing `today`, oldest
    first."""
    rhythm = policy.cadence.checkin
    found = [period_of(today, rhythm)]
    while len(found) < count:
        found.insert(0, previous_period(found[0], rhythm))
    return found


async def coverage_history(
    engine: AsyncEngine,
    *,
    policy: Policy,
    now: datetime,
    periods: int = 6,
    group_by: GroupBy = "manager",
) -> CoverageHistory:
    """Coverage in each of the last `periods` periods up to `now` (the module's docstring
    says what each number means and what the database cannot know)."""
    if periods < 1:
        raise ValueError("periods must be at least 1")
    today = policy_today(policy, now)
    spans = last_periods(today, policy, periods)
    reach = policy.cadence.escalate_after_periods
    windows = [last_periods(p.start, policy, reach)[0].start for p in spans]
    zone = ZoneInfo(policy.timezone)
    # A past period is read as at midnight after its last day; the current one as at `now`.
    closes = [datetime.combine(p.end + timedelta(days=1), time(), tzinfo=zone) for p in spans]
    closes[-1] = now
    due_before = [p.end + timedelta(days=1) for p in spans]
    due_before[-1] = today

    async with session_scope(engine) as session:
        people = {p.id: p for p in await queries.all_people(session) if p.active}
        reports = sorted((p for p in people.values() if p.manager_id in people), key=lambda p: p.id)
        ids = [p.id for p in reports]
        held, actions = await _dialogues_and_actions(
            session, ids, start=windows[0], end=spans[-1].end, since=closes[0]
        )
        skipped = [await outbox.checkins_skipped(session, p.key) for p in spans]

    dialogue_days: dict[str, list[date]] = defaultdict(list)
    for employee_id, held_on in held:
        dialogue_days[employee_id].append(held_on)
    actions_of: dict[str, list[ActionItem]] = defaultdict(list)
    for action in actions:
        actions_of[action.employee_id].append(action)

    tallies: dict[str, list[list[int]]] = {}
    names: dict[str, str] = {}
    for report in reports:
        head = _group_head(report, people, group_by)
        names[head.id] = head.name
        tally = tallies.setdefault(head.id, [[0, 0, 0, 0] for _ in spans])
        days = dialogue_days.get(report.id, [])
        for i, period in enumerate(spans):
            if report.created_at >= closes[i]:
                continue  # not in Cadence yet
            talked = any(period.start <= d <= period.end for d in days)
            escalated = (
                not talked
                and report.id not in skipped[i]
                and not any(windows[i] <= d <= period.end for d in days)
                and report.created_at.date() < windows[i]
            )
            overdue = sum(
                1
                for a in actions_of.get(report.id, [])
                if _overdue(a, due_before=due_before[i], at=closes[i])
            )
            counts = tally[i]
            counts[0] += 1
            counts[1] += talked
            counts[2] += overdue
            counts[3] += escalated

    groups = tuple(
        sorted(
            (
                GroupHistory(head_id, names[head_id], tuple(PeriodCounts(*c) for c in tally))
                for head_id, tally in tallies.items()
            ),
            key=lambda g: (g.name, g.id),
        )
    )
    totals = tuple(
        PeriodCounts(
            sum(g.counts[i].pairs for g in groups),
            sum(g.counts[i].talked for g in groups),
            sum(g.counts[i].overdue for g in groups),
            sum(g.counts[i].escalated for g in groups),
        )
        for i in range(len(spans))
    )
    return CoverageHistory(today, group_by, reach, tuple(spans), groups, totals)


async def _dialogues_and_actions(
    session: AsyncSession, ids: list[str], *, start: date, end: date, since: datetime
) -> tuple[list[tuple[str, date]], list[ActionItem]]:
    """(employee, day held) of these employees' dialogues held from `start` to `end`, and
    their actions that may have been open and late at some moment from `since` on."""
    days = await queries.dialogue_days_between(session, ids, start=start, end=end)
    actions = await queries.actions_open_or_done_since(session, ids, since=since)
    return days, actions


def _group_head(report: Person, people: dict[str, Person], group_by: GroupBy) -> Person:
    manager = people[report.manager_id]  # type: ignore[index]  # reports have an active manager
    if group_by == "team" and manager.manager_id in people:
        return people[manager.manager_id]
    return manager


def _overdue(action: ActionItem, *, due_before: date, at: datetime) -> bool:
    """Whether an action was open and past its date at the moment `at`."""
    if action.due_on >= due_before or action.created_at > at:
        return False
    if action.status == ActionStatus.DONE:
        return action.completed_at is not None and action.completed_at > at
    return True


def changes(history: CoverageHistory) -> list[Change]:
    """The numbers that moved most between the last two periods, at most three: by absolute
    change (a share's in percentage points against a count's in units), then share, overdue,
    escalated, the whole organisation before a group, then by name and id. A share counts
    only where both periods had pairs; nothing that stayed the same is listed."""
    if len(history.periods) < 2:
        return []
    found: list[Change] = []
    owners: list[tuple[str | None, str | None, tuple[PeriodCounts, ...]]] = [
        (None, None, history.totals),
        *((g.id, g.name, g.counts) for g in history.groups),
    ]
    for group_id, name, counts in owners:
        before, after = counts[-2], counts[-1]
        for metric in METRICS:
            old, new = _value(before, metric), _value(after, metric)
            if old is not None and new is not None and old != new:
                found.append(Change(metric, history.group_by, group_id, name, old, new))
    found.sort(
        key=lambda c: (
            -abs(c.delta),
            METRICS.index(c.metric),
            c.group_id is not None,
            c.group or "",
            c.group_id or "",
        )
    )
    return found[:CHANGES_SHOWN]


def _value(counts: PeriodCounts, metric: Metric) -> int | None:
    if metric == "share":
        return counts.share
    return counts.overdue if metric == "overdue" else counts.escalated
