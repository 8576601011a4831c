"""What every platform's payloads share, read the same way on each: a day written
YYYY-MM-DD, a record id, and `Unreadable` for what is not in the expected form. Pure: no
platform SDK, no database."""

from __future__ import annotations

import re
from datetime import date

# What could not be read is echoed back, shortened visibly: it is a hint, not a record.
ECHO_LIMIT = 100
# Record ids are PostgreSQL integers: anything larger names no record.
MAX_ID = 2**31 - 1
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Unreadable(Exception):
    """What was sent is not in the expected form; `key` is the prompt explaining why (with
    what could not be read, shortened, in `params`)."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = {name: _shortened(str(value), ECHO_LIMIT) for name, value in params.items()}


def day(raw: object) -> date | None:
    """A day written YYYY-MM-DD (as date pickers send it and the commands ask for it), or
    None when none was given; `Unreadable` for anything else (`20261215` and `2026-W50` too,
    which Python would take)."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    try:
        if _ISO_DAY.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise Unreadable("error.bad_date", value=raw)


def record_id(raw: object) -> int:
    """A record's id as a payload carries it (a button's value, routing data), or 0."""
    if isinstance(raw, bool):
        return 0
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else 0
    text = str(raw if raw is not None else "")
    readable = text.isascii() and text.isdigit() and len(text) <= 10  # not "²", "١٢"
    return int(text) if readable and int(text) <= MAX_ID else 0
