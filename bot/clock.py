"""The one place that reads the wall clock; everything else is handed `now`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time, UTC and time-zone aware."""
    return datetime.now(UTC)
