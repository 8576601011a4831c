"""HR's picture of coverage: the chart (a PNG, drawn with matplotlib's object API on the Agg
canvas: never pyplot, whose global figures are not safe across threads) and the full table as
one self-contained HTML file with the chart inside. Both are drawn from a `CoverageHistory`
and say the same numbers; the same data always gives the same bytes."""

from __future__ import annotations

import base64
import html
import io
import warnings
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from statistics import mean

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, fontManager
from matplotlib.ticker import MaxNLocator

from bot.records.coverage import PairCoverage
from bot.records.coverage_history import Change, CoverageHistory, GroupHistory, group_label
from prompts import t

CHART_SIZE_PX = (1200, 800)  # width, height of the chart as drawn by default
CHART_INCHES = (12, 8)  # the layout's size: a smaller chart is the same layout at a lower dpi
MAX_GROUPS_SHOWN = 15  # the heatmap's rows; the HTML table lists every group
NAME_CHARS = 28  # a name longer than this is cut on the chart (the table has it whole)

# Families that draw Chinese, the first installed one used; DejaVu Sans (matplotlib's own)
# draws the rest. Without any of them Chinese glyphs come out as boxes: install one where the
# bot runs (Debian: fonts-noto-cjk, or the smaller fonts-wqy-microhei).
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "Droid Sans Fallback",
)
LATIN_FAMILY = "DejaVu Sans"

SHARE_COLOURS = colormaps["Blues"].with_extremes(bad="#eeeeee")  # no judging red or green
BAR_COLOUR = "#4a6fa5"


@cache
def cjk_font() -> str | None:
    """The installed family that draws Chinese on the charts, if there is one."""
    installed = {font.name for font in fontManager.ttflist}
    return next((family for family in CJK_FAMILIES if family in installed), None)


def _font(size: float) -> FontProperties:
    """Text that may be Chinese or a person's name: the CJK family first when installed
    (regular weight: the CJK families installed by Debian have no bold)."""
    families = [f for f in (cjk_font(), LATIN_FAMILY) if f]
    return FontProperties(family=families, size=size)


def neediest_first(history: CoverageHistory) -> list[GroupHistory]:
    """The groups in the order the chart and the table show them: the lowest share this
    period first, then the lowest over the periods, then by name and id."""

    def need(group: GroupHistory) -> tuple[float, float, str, str]:
        shares = [c.share for c in group.counts if c.share is not None]
        now = group.counts[-1].share
        return (
            now if now is not None else 101.0,
            mean(shares) if shares else 101.0,
            group.name,
            group.id,
        )

    return sorted(history.groups, key=need)


def _short(name: str) -> str:
    flat = " ".join(name.split())  # a newline in a name would break the axis
    return flat if len(flat) <= NAME_CHARS else flat[: NAME_CHARS - 1] + "…"


def chart_size(width_px: int) -> tuple[int, int]:
    """The chart's size in pixels when drawn `width_px` wide (a multiple of 12: whole dots
    per inch, so the PNG is exactly this size)."""
    if width_px <= 0 or width_px % CHART_INCHES[0]:
        raise ValueError(f"a chart's width is a positive multiple of {CHART_INCHES[0]} px")
    return width_px, width_px * CHART_INCHES[1] // CHART_INCHES[0]


def coverage_png(
    history: CoverageHistory, *, locale: str, width_px: int = CHART_SIZE_PX[0]
) -> bytes:
    """The chart: share of pairs with a dialogue per period for the neediest groups (a
    heatmap), overdue actions and escalations per period (bars); CHART_SIZE_PX by default,
    as PNG. A narrower one (a chat card's: 600) is the same layout drawn at a lower dpi,
    crisper and smaller than a copy scaled down."""
    # A glyph no installed font has (Chinese without a CJK font, an emoji in a name) is drawn
    # as a box and warned about once per glyph per chart: a flood in the logs that nobody can
    # act on per chart (`cjk_font()` says once whether Chinese can be drawn). Added on every
    # call, not at import: whoever resets the filters (a test runner) does not bring it back.
    warnings.filterwarnings(
        "ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning
    )
    dpi = chart_size(width_px)[0] // CHART_INCHES[0]
    figure = Figure(figsize=CHART_INCHES, dpi=dpi)
    FigureCanvasAgg(figure)
    figure.set_layout_engine("constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=(3, 2))
    figure.suptitle(
        t("hr_digest.chart_title", locale, date=history.as_of.isoformat()),
        fontproperties=_font(15),
        parse_math=False,
        usetex=False,
    )
    _draw_shares(figure.add_subplot(grid[0, :]), history, locale)
    periods = [p.key for p in history.periods]
    _draw_bars(
        figure.add_subplot(grid[1, 0]),
        periods,
        [c.overdue for c in history.totals],
        t("coverage_digest.chart.overdue", locale),
    )
    _draw_bars(
        figure.add_subplot(grid[1, 1]),
        periods,
        [c.escalated for c in history.totals],
        t("coverage_digest.chart.escalated", locale, periods=history.escalate_after_periods),
    )
    out = io.BytesIO()
    # No "Software" entry (matplotlib's version): the same numbers give the same bytes.
    figure.savefig(out, format="png", dpi=dpi, metadata={"Software": None})
    return out.getvalue()


def _title(axes: Axes, text: str) -> None:
    axes.set_title(text, fontproperties=_font(12), parse_math=False, usetex=False, loc="left")


def _draw_shares(axes: Axes, history: CoverageHistory, locale: str) -> None:
    groups = neediest_first(history)
    shown = groups[:MAX_GROUPS_SHOWN]
    title = t("coverage_digest.chart.shares", locale)
    if len(groups) > len(shown):
        more = t(
            "coverage_digest.chart.and_more",
            locale,
            shown=len(shown),
            more=len(groups) - len(shown),
        )
        title = f"{title} · {more}"
    _title(axes, title)
    if not shown:
        axes.set_axis_off()
        axes.text(
            0.5,
            0.5,
            t("coverage_digest.chart.no_pairs", locale),
            ha="center",
            va="center",
            fontproperties=_font(12),
            parse_math=False,
            usetex=False,
            transform=axes.transAxes,
        )
        return
    shares = np.ma.masked_invalid(
        np.array(
            [[np.nan if c.share is None else c.share for c in g.counts] for g in shown],
            dtype=float,
        )
    )
    axes.imshow(shares, cmap=SHARE_COLOURS, vmin=0, vmax=100, aspect="auto")
    size = 10 if len(shown) <= 8 else 8
    for row, group in enumerate(shown):
        for column, counts in enumerate(group.counts):
            share = counts.share
            axes.text(
                column,
                row,
                "–" if share is None else f"{share}%",
                ha="center",
                va="center",
                fontsize=size,
                color="white" if share is not None and share >= 60 else "#222222",
                parse_math=False,
                usetex=False,
            )
    axes.set_xticks(range(len(history.periods)), labels=[p.key for p in history.periods])
    axes.set_yticks(
        range(len(shown)),
        labels=[_short(g.name) for g in shown],
        fontproperties=_font(size + 1),
        parse_math=False,
        usetex=False,
    )
    axes.set_ylabel(
        t(f"coverage_digest.group_heading.{history.group_by}", locale),
        fontproperties=_font(10),
        parse_math=False,
        usetex=False,
    )
    axes.tick_params(length=0)


def _draw_bars(axes: Axes, periods: list[str], values: list[int], title: str) -> None:
    _title(axes, title)
    bars = axes.bar(periods, values, color=BAR_COLOUR)
    axes.bar_label(bars, labels=[str(v) for v in values], padding=2)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, max(1, *values) * 1.2)  # room for the numbers above the bars
    axes.spines[["top", "right"]].set_visible(False)


# -- the HTML file ---------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
.of { color: #666; font-size: 0.85em; }
.note { color: #555; }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _row(cells: Sequence[str], *, css: str = "") -> str:
    opening = f'<tr class="{css}">' if css else "<tr>"
    return opening + "".join(cells) + "</tr>"


def _th(text: str) -> str:
    return f"<th>{_e(text)}</th>"


def _td(text: object, *, number: bool = False) -> str:
    return f'<td class="n">{_e(text)}</td>' if number else f"<td>{_e(text)}</td>"


def _table(head: Sequence[str], rows: Sequence[str]) -> str:
    header = _row([_th(h) for h in head])
    return f"<table><thead>{header}</thead><tbody>{''.join(rows)}</tbody></table>"


def _share_cell(talked: int, pairs: int, share: int | None) -> str:
    if share is None:
        return '<td class="n">–</td>'
    return f'<td class="n">{share}% <span class="of">({talked}/{pairs})</span></td>'


def coverage_html(
    history: CoverageHistory,
    changes: Sequence[Change],
    rows: Sequence[PairCoverage],
    *,
    locale: str,
    generated_at: datetime,
) -> str:
    """One HTML5 file, nothing fetched from anywhere: the chart (embedded PNG), what moved
    most, the share per group and period, each period's totals, and every pair today."""
    col = "coverage_digest.col."
    periods = [p.key for p in history.periods]
    title = t("hr_digest.file_title", locale, date=history.as_of.isoformat())
    chart = base64.b64encode(coverage_png(history, locale=locale)).decode("ascii")
    width, height = CHART_SIZE_PX
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-Hans" if locale == "zh" else "en"}">',
        '<head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>",
        "<body>",
        f"<h1>{_e(title)}</h1>",
        '<p class="note">'
        + _e(
            t(
                "coverage_digest.html.generated",
                locale,
                moment=f"{generated_at:%Y-%m-%d %H:%M (UTC%:z)}",
            )
        )
        + "</p>",
        f'<img src="data:image/png;base64,{chart}" width="{width}" height="{height}"'
        f' alt="{_e(t("hr_digest.chart_alt", locale))}">',
        f"<h2>{_e(t('coverage_digest.html.changes', locale))}</h2>",
    ]
    if changes:
        parts.append(
            _table(
                [t(col + "change", locale), t(col + "before", locale), t(col + "after", locale)],
                [
                    _row(
                        [
                            _td(c.label_in(locale)),
                            _td(c.shown_before, number=True),
                            _td(c.shown_after, number=True),
                        ]
                    )
                    for c in changes
                ],
            )
        )
    else:
        parts.append(f"<p>{_e(t('hr_digest.no_changes', locale))}</p>")

    parts.append(f"<h2>{_e(t('coverage_digest.chart.shares', locale))}</h2>")
    share_rows = [
        _row(
            [_td(t("coverage_digest.html.whole_org", locale))]
            + [_share_cell(c.talked, c.pairs, c.share) for c in history.totals],
            css="total",
        ),
        *(
            _row(
                [_td(group_label(history.group_by, g.name, locale))]
                + [_share_cell(c.talked, c.pairs, c.share) for c in g.counts]
            )
            for g in neediest_first(history)
        ),
    ]
    parts.append(
        _table(
            [t(f"coverage_digest.group_heading.{history.group_by}", locale), *periods], share_rows
        )
    )

    parts.append(f"<h2>{_e(t('coverage_digest.html.periods', locale))}</h2>")
    parts.append(
        _table(
            [
                t(col + "period", locale),
                t(col + "pairs", locale),
                t(col + "talked", locale),
                t(col + "share", locale),
                t(col + "overdue", locale),
                t(col + "escalated", locale, periods=history.escalate_after_periods),
            ],
            [
                _row(
                    [
                        _td(key),
                        _td(c.pairs, number=True),
                        _td(c.talked, number=True),
                        _td("–" if c.share is None else f"{c.share}%", number=True),
                        _td(c.overdue, number=True),
                        _td(c.escalated, number=True),
                    ]
                )
                for key, c in zip(periods, history.totals, strict=True)
            ],
        )
    )

    parts.append(f"<h2>{_e(t('coverage_digest.html.pairs', locale))}</h2>")
    never = t("coverage_digest.html.never", locale)
    parts.append(
        _table(
            [
                t(col + "status", locale),
                t(col + "manager", locale),
                t(col + "report", locale),
                t(col + "last_dialogue", locale),
                t(col + "open_actions", locale),
                t(col + "overdue_actions", locale),
            ],
            [
                _row(
                    [
                        _td(t(f"coverage_digest.status.{r.status}", locale)),
                        _td(r.manager),
                        _td(r.employee),
                        _td(r.last_dialogue.isoformat() if r.last_dialogue else never),
                        _td(r.open_actions, number=True),
                        _td(r.overdue_actions, number=True),
                    ]
                )
                for r in rows
            ],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
