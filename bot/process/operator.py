"""What every operator command shares: exit codes, errors in an operator's words, the migrated
database, the people it names, the dates and moments it reads, who the operator is in the
access log, and progress on a terminal."""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import system_clock
from bot.errors import NotAllowed
from bot.privacy.access import operator
from bot.process.config import Settings
from prompts import t
from storage import migrate, queries, sealing
from storage.db import make_engine, session_scope

PERSON_HELP = "a Slack or Teams user id, an employee number, an email or a person key"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class OperatorError(Exception):
    """What the operator asked cannot be done. The message says why in an operator's words
    (the catalog's words speak to a chat user); `main` prints it and exits 1."""


class UnknownPerson(OperatorError):
    """A command names someone the org chart does not hold."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"nobody in the org chart is {ref!r} ({PERSON_HELP})")


def refusal(refused: NotAllowed, *, locale: str, named: str | None) -> OperatorError:
    """A domain refusal as an operator reads it: "not in the org chart" names who was asked
    for; any other says the catalog's words, which are the rule that refused."""
    if refused.key == "refusal.not_in_org" and named is not None:
        return UnknownPerson(named)
    return OperatorError(t(refused.key, locale, **refused.params))


async def with_engine(settings: Settings) -> AsyncEngine:
    """The database, migrated, once the data key is known to open it."""
    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        await sealing.verify(engine, required=False, now=system_clock())
    except BaseException:
        await engine.dispose()
        raise
    return engine


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """`with_engine`'s database for the length of a command, disposed after."""
    engine = await with_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


async def resolve_person(engine: AsyncEngine, ref: str) -> str:
    """The key of the person an operator names (see PERSON_HELP); `UnknownPerson` if the org
    chart has nobody by that name."""
    async with session_scope(engine) as session:
        person = await queries.person_named_by(session, ref)
    if person is None:
        raise UnknownPerson(ref)
    return person.id


async def resolve_optional(engine: AsyncEngine, ref: str | None) -> str | None:
    """`resolve_person` for an option that may be left out."""
    return None if ref is None else await resolve_person(engine, ref)


def day(text: str) -> date:
    """An argparse type: a calendar date as YYYY-MM-DD, refused in plain words."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-31"
        ) from None


def moment(text: str) -> datetime:
    """An argparse type: an ISO-8601 moment that says its offset (`Z` or `+08:00`), in UTC."""
    try:
        found = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a moment: write it as ISO-8601 with Z or an offset,"
            " e.g. 2026-12-07T02:00Z or 2026-12-07T10:00+08:00"
        ) from None
    if found.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone: add Z or an offset")
    return found.astimezone(UTC)


def positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        found = int(text)
    except ValueError:
        found = 0
    if found < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return found


def operator_reader() -> str:
    """Who the access log says read, for a command run by this login."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric user)
        login = "unknown"
    return operator(login)


class Progress:
    """`done of total` for a long operation, redrawn in place on a terminal's stderr at most
    a few times a second; silent when stderr is piped or a file, so scripts and logs get
    only the result."""

    def __init__(self, label: str, *, stream: TextIO | None = None, every: float = 0.2) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.shown = self.stream.isatty()
        self.every = every
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None = None) -> None:
        """Report that `done` of `total` (if known) are done."""
        if not self.shown:
            return
        now = time.monotonic()  # pacing the redraw, not the product's time
        finished = total is not None and done >= total
        if now - self._last < self.every and not finished:
            return
        self._last = now
        of = f" of {total:,}" if total else ""
        share = f" ({done * 100 // total}%)" if total else ""
        self.stream.write(f"\r{self.label}: {done:,}{of}{share}\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """End the progress line so what follows starts on a line of its own."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
