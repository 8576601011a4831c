"""HR's picture of coverage: the last six periods' numbers per manager (or team) and for the
whole organisation, what moved most, the chart (a PNG of the expected size) and the
self-contained HTML table that says the same numbers."""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import fields
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest

from bot.org.periods import Period
from bot.records.coverage import coverage
from bot.records.coverage_charts import CHART_SIZE_PX, chart_size, coverage_html, coverage_png
from bot.records.coverage_history import (
    Change,
    CoverageHistory,
    GroupHistory,
    PeriodCounts,
    changes,
    coverage_history,
)
from storage.db import session_scope
from storage.models import ActionItem, ActionStatus, Nudge, Person, Talk
from tests.factories import add_people, key

# Monday 9:00 in Shanghai (the policy's zone): the periods are 2026-07 … 2026-12 (monthly).
NOW = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
PERIODS = ["2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
PNG = b"\x89PNG\r\n\x1a\n"
SCRIPT = "<script>alert(1)</script>"

# Dora leads Mia and the manager named like a script; Mia leads Eli, Ann and, from October,
# Nina; the script-named manager leads A$AP.
ORG = [
    dict(slack_id="U0HR", name="Hana Berg", is_hr=True),
    dict(slack_id="U0DORA", name="Dora Diaz"),
    dict(slack_id="U0MGR", name="Mia Chen", manager_id="U0DORA"),
    dict(slack_id="U0SCR", name=SCRIPT, manager_id="U0DORA"),
    dict(slack_id="U0EMP", name="Eli Wang", manager_id="U0MGR"),
    dict(slack_id="U0ANN", name="Ann Lee", manager_id="U0MGR"),
    dict(slack_id="U0ASAP", name="A$AP Rocky", manager_id="U0SCR"),
]


def _at(day: str, hour: int = 2) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def _talk(manager: str, employee: str, held_on: str, *, family: str = "dialogue") -> Talk:
    return Talk(
        kind="checkin" if family == "dialogue" else "review",
        family=family,
        manager_id=key(manager),
        employee_id=key(employee),
        logged_by=key(manager),
        held_on=date.fromisoformat(held_on),
        duration_minutes=20,
        facts="f",
        consensus="c",
        submission_key=f"history-{employee}-{held_on}-{family}",
        created_at=_at(held_on),
    )


def _action(
    talk: Talk, *, due: str, done_at: datetime | None = None, employee: str | None = None
) -> ActionItem:
    return ActionItem(
        talk_id=talk.id,
        employee_id=key(employee) if employee else talk.employee_id,
        owner_id=talk.employee_id,
        text="a step",
        due_on=date.fromisoformat(due),
        status=ActionStatus.DONE if done_at else ActionStatus.OPEN,
        completed_at=done_at,
        created_at=talk.created_at,
    )


@pytest.fixture
async def org(engine):
    """The org above with six periods of dialogues, actions and one skipped check-in."""
    await add_people(engine, ORG)
    async with session_scope(engine) as session:
        joined = datetime(2026, 10, 15, tzinfo=UTC)
        session.add(
            Person(
                id=key("U0NINA"),
                name="Nina Novak",
                manager_id=key("U0MGR"),
                created_at=joined,
                updated_at=joined,
            )
        )
        talks = {
            name: _talk(*args)
            for name, args in {
                "eli_jul": ("U0MGR", "U0EMP", "2026-07-10"),
                "eli_sep": ("U0MGR", "U0EMP", "2026-09-05"),
                "eli_nov": ("U0MGR", "U0EMP", "2026-11-03"),
                "eli_dec": ("U0MGR", "U0EMP", "2026-12-02"),
                "ann_aug": ("U0MGR", "U0ANN", "2026-08-10"),
                "ann_nov": ("U0MGR", "U0ANN", "2026-11-20"),
                "nina_nov": ("U0MGR", "U0NINA", "2026-11-25"),
                "asap_jul": ("U0SCR", "U0ASAP", "2026-07-20"),
                "mia_dec": ("U0DORA", "U0MGR", "2026-12-01"),
            }.items()
        }
        # A review interview is no dialogue: A$AP's October stays without one.
        talks["asap_review"] = _talk("U0SCR", "U0ASAP", "2026-10-10", family="review")
        session.add_all(talks.values())
        await session.flush()
        session.add_all(
            [
                # overdue at the ends of August and September, done in October
                _action(talks["eli_jul"], due="2026-08-15", done_at=_at("2026-10-05")),
                # overdue at November's end, done before today
                _action(talks["eli_nov"], due="2026-11-30", done_at=_at("2026-12-03")),
                # due on October's last day, done at 02:00 on 1 November in Shanghai:
                # overdue at October's end (midnight in the policy's zone), not November's
                _action(talks["ann_aug"], due="2026-10-31", done_at=_at("2026-10-31", 18)),
                _action(talks["ann_aug"], due="2026-12-10"),  # not yet due
                _action(talks["asap_jul"], due="2026-07-25", done_at=_at("2026-07-30")),
                _action(talks["asap_jul"], due="2026-09-10"),  # open: overdue since September
            ]
        )
        # A$AP's manager skipped December's check-in (talked offline): not escalated then.
        session.add(
            Nudge(
                kind="checkin",
                recipient_id=key("U0SCR"),
                subject=key("U0ASAP"),
                period="2026-12",
                due_at=_at("2026-12-01"),
                state="cancelled",
                skip_reason="talked_offline",
                created_at=_at("2026-12-01"),
                updated_at=_at("2026-12-01"),
            )
        )
        await session.commit()


def _shares(history: CoverageHistory, name: str) -> list[int | None]:
    [group] = [g for g in history.groups if g.name == name]
    return [c.share for c in group.counts]


async def test_each_managers_share_of_pairs_with_a_dialogue_in_each_of_six_periods(
    engine, policy, org
):
    history = await coverage_history(engine, policy=policy, now=NOW)

    assert [p.key for p in history.periods] == PERIODS
    assert history.as_of == date(2026, 12, 7)
    assert [g.name for g in history.groups] == [SCRIPT, "Dora Diaz", "Mia Chen"]
    # Nina counts from October, the month she joined; Eli's December talk is in time
    mia = next(g for g in history.groups if g.name == "Mia Chen")
    assert [c.pairs for c in mia.counts] == [2, 2, 2, 3, 3, 3]
    assert [c.talked for c in mia.counts] == [1, 1, 1, 0, 3, 1]
    assert _shares(history, "Mia Chen") == [50, 50, 50, 0, 100, 33]
    assert _shares(history, SCRIPT) == [100, 0, 0, 0, 0, 0]  # a review is no dialogue
    assert _shares(history, "Dora Diaz") == [0, 0, 0, 0, 0, 50]
    assert [c.pairs for c in history.totals] == [5, 5, 5, 6, 6, 6]
    assert [c.share for c in history.totals] == [40, 20, 20, 0, 50, 33]


async def test_overdue_actions_and_escalations_at_each_periods_end(engine, policy, org):
    history = await coverage_history(engine, policy=policy, now=NOW)

    assert [c.overdue for c in history.totals] == [0, 1, 2, 2, 2, 1]
    # escalated: no dialogue in the period nor the one before (escalate_after_periods: 2);
    # Nina, who joined in October, is not escalated while her window started before then;
    # A$AP's December check-in was skipped
    assert [c.escalated for c in history.totals] == [3, 2, 3, 4, 3, 1]
    dora = next(g for g in history.groups if g.name == "Dora Diaz")
    assert [c.escalated for c in dora.counts] == [2, 2, 2, 2, 2, 1]


async def test_the_current_period_says_what_coverage_says_today(engine, policy, org):
    history = await coverage_history(engine, policy=policy, now=NOW)
    rows = await coverage(engine, policy=policy, now=NOW)

    now = history.totals[-1]
    assert now.pairs == len(rows)
    assert now.talked == sum(1 for r in rows if r.status == "ok")
    assert now.overdue == sum(r.overdue_actions for r in rows) == 1
    assert now.escalated == sum(1 for r in rows if r.status == "escalated")


async def test_a_team_is_the_second_line_managers_organisation(engine, policy, org):
    by_team = await coverage_history(engine, policy=policy, now=NOW, group_by="team")
    by_manager = await coverage_history(engine, policy=policy, now=NOW)

    # Mia's and the script-named manager's pairs are Dora's organisation; Dora's own too,
    # as she has no manager above her
    [dora] = by_team.groups
    assert (dora.id, dora.name) == (key("U0DORA"), "Dora Diaz")
    assert dora.counts == by_team.totals == by_manager.totals


async def test_the_three_numbers_that_moved_most_since_the_last_period(engine, policy, org):
    history = await coverage_history(engine, policy=policy, now=NOW)

    moved = changes(history)

    assert [(c.metric, c.group, c.before, c.after) for c in moved] == [
        ("share", "Mia Chen", 100, 33),
        ("share", "Dora Diaz", 0, 50),
        ("share", None, 50, 33),  # the whole organisation
    ]
    assert moved[0].label_in("en") == "Pairs with a dialogue, Mia Chen's reports"
    assert (moved[0].shown_before, moved[0].shown_after) == ("100%", "33%")
    assert moved[2].label_in("zh") == "进行了绩效对话的组合占比，全组织"


def _history(groups: dict[str, list[PeriodCounts]]) -> CoverageHistory:
    periods = tuple(
        Period(key, n, date(2026, n, 1), date(2026, n, 28))
        for n, key in enumerate(["2026-01", "2026-02"], start=1)
    )
    made = tuple(GroupHistory(f"id-{name}", name, tuple(c)) for name, c in groups.items())
    totals = tuple(
        PeriodCounts(
            *(sum(getattr(g.counts[i], f.name) for g in made) for f in fields(PeriodCounts))
        )
        for i in range(2)
    )
    return CoverageHistory(date(2026, 2, 10), "manager", 2, periods, made, totals)


def test_changes_of_the_same_size_keep_a_stable_order():
    # Every group moves by 2 in one number, and so do the totals' escalations (their overdue
    # actions stay at 5).
    history = _history(
        {
            "Zoe": [PeriodCounts(1, 0, 5, 0), PeriodCounts(1, 0, 3, 0)],
            "Abe": [PeriodCounts(1, 0, 0, 2), PeriodCounts(1, 0, 0, 0)],
            "Bea": [PeriodCounts(1, 1, 0, 0), PeriodCounts(1, 1, 2, 0)],
        }
    )

    moved = changes(history)

    # overdue before escalated; the organisation before a group; then by name
    assert [(c.metric, c.group, c.delta) for c in moved] == [
        ("overdue", "Bea", 2),
        ("overdue", "Zoe", -2),
        ("escalated", None, -2),
    ]
    assert changes(history) == moved  # the same data, the same pick


def test_nothing_that_stayed_the_same_is_a_change():
    steady = [PeriodCounts(2, 1, 1, 0), PeriodCounts(2, 1, 1, 0)]
    assert changes(_history({"Ann": steady})) == []


def _png_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk, which always comes first."""
    assert png[:8] == PNG
    length, chunk = struct.unpack(">I4s", png[8:16])
    assert (length, chunk) == (13, b"IHDR")
    return struct.unpack(">II", png[16:24])


async def test_the_chart_is_a_png_of_the_chart_size_and_the_same_data_draws_the_same_bytes(
    engine, policy, org
):
    history = await coverage_history(engine, policy=policy, now=NOW)

    png = coverage_png(history, locale="en")

    assert _png_size(png) == CHART_SIZE_PX == (1200, 800)
    assert coverage_png(history, locale="en") == png
    assert b"matplotlib" not in png  # no version stamp that would change the bytes
    chinese = coverage_png(history, locale="zh")
    assert _png_size(chinese) == CHART_SIZE_PX and chinese != png  # its titles differ
    card = coverage_png(history, locale="en", width_px=600)  # a chat card's copy
    assert _png_size(card) == chart_size(600) == (600, 400) and len(card) < len(png)
    with pytest.raises(ValueError, match="multiple of 12"):
        coverage_png(history, locale="en", width_px=601)


def test_names_with_dollar_signs_are_drawn_as_written_not_as_mathematics():
    # "$\frac{$" is a syntax error to matplotlib's mathtext: drawing it as text must not fail
    many = {f"Manager {n:02d}": [PeriodCounts(2, n % 3, 0, 0)] * 2 for n in range(17)}
    many["$\\frac{$ A$AP$ 王"] = [PeriodCounts(1, 0, 1, 1), PeriodCounts(1, 0, 0, 0)]  # shown first

    png = coverage_png(_history(many), locale="en")

    assert _png_size(png) == CHART_SIZE_PX


def test_the_chart_of_an_org_without_pairs_is_still_a_chart():
    assert _png_size(coverage_png(_history({}), locale="zh")) == CHART_SIZE_PX


class _Tables(HTMLParser):
    """Every table's rows as lists of cell texts, and every src and href."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.links: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


async def _html(engine, policy, locale: str) -> str:
    history = await coverage_history(engine, policy=policy, now=NOW)
    rows = await coverage(engine, policy=policy, now=NOW)
    return coverage_html(history, changes(history), rows, locale=locale, generated_at=NOW)


async def test_the_html_file_says_the_numbers_with_the_chart_inside(engine, policy, org):
    page = await _html(engine, policy, "en")
    found = _Tables()
    found.feed(page)

    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert '<meta charset="utf-8">' in page
    moved, shares, periods, pairs = found.tables
    assert moved[1:] == [
        ["Pairs with a dialogue, Mia Chen's reports", "100%", "33%"],
        ["Pairs with a dialogue, Dora Diaz's reports", "0%", "50%"],
        ["Pairs with a dialogue, the whole organisation", "50%", "33%"],
    ]
    assert shares[0] == ["Manager", *PERIODS]
    mia = next(r for r in shares if r[0] == "Mia Chen's reports")
    assert mia[1:] == ["50% (1/2)", "50% (1/2)", "50% (1/2)", "0% (0/3)", "100% (3/3)", "33% (1/3)"]
    assert periods[0][4:] == ["Open actions past their date", "Without a dialogue for 2 periods"]
    assert [r[4] for r in periods[1:]] == ["0", "1", "2", "2", "2", "1"]  # overdue per period
    assert [r[5] for r in periods[1:]] == ["3", "2", "3", "4", "3", "1"]
    asap = next(r for r in pairs if r[2] == "A$AP Rocky")
    assert asap == ["Talked offline or away", SCRIPT, "A$AP Rocky", "2026-07-20", "1", "1"]
    [chart] = found.links
    assert _png_size(base64.b64decode(chart.removeprefix("data:image/png;base64,"))) == (
        CHART_SIZE_PX
    )


async def test_the_html_file_escapes_peoples_names_and_fetches_nothing(engine, policy, org):
    page = await _html(engine, policy, "en")

    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "A$AP Rocky" in page
    assert "http://" not in page and "https://" not in page
    assert re.findall(r'(?:src|href)="(?!data:image/png;base64,)', page) == []
    assert "<link" not in page and "@import" not in page and "url(" not in page


async def test_the_html_file_in_chinese(engine, policy, org):
    page = await _html(engine, policy, "zh")
    found = _Tables()
    found.feed(page)

    assert '<html lang="zh-Hans">' in page
    assert "<h2>与上个周期相比变化最大的</h2>" in page
    assert "<h2>目前所有上下级组合</h2>" in page
    assert found.tables[1][0] == ["经理", *PERIODS]
    assert [
        "全组织",
        "40% (2/5)",
        "20% (1/5)",
        "20% (1/5)",
        "0% (0/6)",
        "50% (3/6)",
        "33% (2/6)",
    ] in (found.tables[1])


def test_a_change_is_labelled_in_the_readers_language():
    change = Change("overdue", "team", "id-dora", "Dora Diaz", 4, 1)

    assert change.label_in("en") == "Open actions past their date, Dora Diaz's organisation"
    assert change.label_in("zh") == "已过期限的未完成行动，Dora Diaz 的团队"
    assert (change.shown_before, change.shown_after, change.delta) == ("4", "1", -3)
