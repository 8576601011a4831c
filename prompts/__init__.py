"""Every user-facing string and question set, in English and Simplified Chinese.

Catalogs are YAML files under `prompts/<locale>/`; nested keys are joined with dots.
`t("error.facts_required", "zh")` looks a key up, falling back to English.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import yaml

LOCALES = ("en", "zh")
DEFAULT_LOCALE = "en"
_ROOT = Path(__file__).parent


def _flatten(prefix: str, node: object, out: dict[str, object]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = node


@cache
def catalog(locale: str) -> dict[str, object]:
    """All entries of one locale, flattened to dotted keys."""
    out: dict[str, object] = {}
    for path in sorted((_ROOT / locale).glob("*.yaml")):
        _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, out)
    return out


def normalize_locale(value: str | None) -> str | None:
    """Map a Slack locale such as `zh-CN` or `en-US` to a catalog locale, or None."""
    if not value:
        return None
    base = value.replace("_", "-").split("-")[0].lower()
    return base if base in LOCALES else DEFAULT_LOCALE


def _entry(key: str, locale: str) -> object:
    for loc in (locale, DEFAULT_LOCALE):
        value = catalog(loc if loc in LOCALES else DEFAULT_LOCALE).get(key)
        if value is not None:
            return value
    raise KeyError(f"no prompt {key!r}")


def t(key: str, locale: str, **params: object) -> str:
    """The text for `key` in `locale`, with `{placeholders}` filled from `params`."""
    value = _entry(key, locale)
    if not isinstance(value, str):
        raise TypeError(f"prompt {key!r} is not text")
    return value.format(**params) if params else value


def has(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    """Tell whether `key` exists in `locale`'s catalog."""
    return key in catalog(locale)


OUTLINE_SIZE = 4


def items(key: str, locale: str) -> list[str]:
    """A list entry (such as a question set) in `locale`, or an empty list."""
    try:
        value = _entry(key, locale)
    except KeyError:
        return []
    return [str(q) for q in value] if isinstance(value, list) else []


def questions(kind: str, locale: str) -> list[str]:
    """The whole bank of open questions for a kind of talk, or an empty list."""
    return items(f"questions.{kind}", locale)


def outline(kind: str, locale: str, round_: int = 0) -> list[str]:
    """The 3–5 questions of one talk's outline, rotated by `round_` (e.g. the month) so that
    consecutive rounds differ whenever the bank is larger than one outline."""
    bank = questions(kind, locale)
    if len(bank) <= OUTLINE_SIZE:
        return bank
    start = (round_ * OUTLINE_SIZE) % len(bank)
    return [bank[(start + i) % len(bank)] for i in range(OUTLINE_SIZE)]


def weekday(day: date, locale: str) -> str:
    """The day of the week `day` falls on, in `locale`'s words."""
    return items("time.weekdays", locale)[day.weekday()]


def when_due(due: date, today: date, locale: str) -> str:
    """When an action is due, said from `today` (the reader's own date): "due today", "due
    tomorrow (Saturday)", "due Monday 2026-12-07", or "was due 2026-10-17"."""
    days = (due - today).days
    if days < 0:
        return t("time.was_due", locale, date=due.isoformat())
    if days == 0:
        return t("time.due_today", locale)
    if days == 1:
        return t("time.due_tomorrow", locale, weekday=weekday(due, locale))
    return t("time.due_on", locale, weekday=weekday(due, locale), date=due.isoformat())
