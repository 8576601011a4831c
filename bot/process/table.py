"""Plain-text tables for the operator's terminal: a header, columns as wide as their widest
cell (a Chinese character takes two columns), numbers aligned right."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[object]], *, width: int = 40) -> list[str]:
    """The lines of a table; a cell wider than `width` columns is cut with an ellipsis, so one
    long name cannot push every other column off the screen."""
    cells = [[_cut(_text(value), width) for value in row] for row in rows]
    right = [
        bool(rows) and all(isinstance(row[i], int) for row in rows) for i in range(len(header))
    ]
    widths = [max([columns(h), *(columns(row[i]) for row in cells)]) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        padded = []
        for value, w, numeric in zip(values, widths, right, strict=True):
            gap = " " * (w - columns(value))
            padded.append(gap + value if numeric else value + gap)
        return "  ".join(padded).rstrip()

    return [line(list(header)), *(line(row) for row in cells)]


def columns(text: str) -> int:
    """How many terminal columns `text` takes: wide (East Asian) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _text(value: object) -> str:
    return "" if value is None else " ".join(str(value).split())  # no line breaks in a cell


def _cut(text: str, width: int) -> str:
    if columns(text) <= width:
        return text
    out = ""
    for char in text:
        if columns(out + char) > width - 1:
            break
        out += char
    return out + "…"
