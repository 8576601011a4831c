"""What the process logs, and what it never logs.

Cadence's logs hold ids, kinds, counts and error classes, never what a person typed, a
request body or a token. Three things would break that rule if left alone, and each is
closed here:
- an exception's message can carry payload text (`int('…')`, a database error's
  parameters), so failures are logged by `describe(exc)`: the error classes and where they
  were raised, never `str(exc)` and never a traceback;
- Slack's libraries log request and response bodies at DEBUG and parts of them in
  warnings (Bolt's "unhandled request (…)"), so they get loggers of their own, pinned at
  WARNING, whose lines are cut to their fixed head (`library_logger`);
- the database driver's DEBUG lines repeat statement parameters, so the SQL loggers are
  pinned at WARNING too.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

_ROOT = Path(__file__).resolve().parent.parent
_OWN = ("bot", "handlers", "storage")
# Libraries whose DEBUG/INFO lines carry bodies or statement parameters.
_QUIET = (
    "slack_bolt",
    "slack_sdk",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "aiohttp.client",
    "microsoft_agents",  # the Agents SDK logs headers, activities and URLs at debug and info
    "msal",
)
# A library's line is kept up to the first of these: what follows is data, not wording.
_DATA_STARTS = re.compile(r"[({\[:=\n]|\bbody\b|\bparams?\b|https?://")


def _where(tb: TracebackType | None) -> str:
    """`file:line (function)` of the deepest frame of our own code in a traceback (else the
    deepest frame), with paths relative to the project."""
    frames = traceback.extract_tb(tb) if tb is not None else []
    if not frames:
        return "?"
    own = [f for f in frames if _relative(f.filename).split("/", 1)[0] in _OWN]
    frame = (own or frames)[-1]
    return f"{_relative(frame.filename)}:{frame.lineno} ({frame.name})"


def _relative(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(_ROOT).as_posix()
    except ValueError:
        return Path(filename).name


def describe(exc: BaseException) -> str:
    """An exception as a log may hold it: its class, where it was raised and the classes of
    its causes, e.g. `IntegrityError at bot/records/talks.py:250 (record_talk), from
    UniqueViolationError`. Never its message: that may quote what someone typed."""
    text = f"{type(exc).__name__} at {_where(exc.__traceback__)}"
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    causes: list[str] = []
    while cause is not None and id(cause) not in seen and len(causes) < 5:
        seen.add(id(cause))
        causes.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    return text + (f", from {' <- '.join(causes)}" if causes else "")


class HeadOnly(logging.Filter):
    """Cuts a library's log line to its fixed wording: everything from the first bracket,
    colon or `body` on is data (Bolt writes whole request bodies into its messages), and a
    traceback becomes the exception's classes and place."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a line that cannot be formatted is not worth a crash
            message = str(record.msg)
        head = _DATA_STARTS.split(message, maxsplit=1)[0].strip() or "(details withheld)"
        if record.exc_info and record.exc_info[1] is not None:
            head += f" [{describe(record.exc_info[1])}]"
        record.msg, record.args = head, ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def library_logger(name: str) -> logging.Logger:
    """A logger to hand a library (Bolt, the Slack client): WARNING and above only, each line
    cut to its head. Bolt copies its level and filters to every logger it makes from it."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.WARNING)
    if not any(isinstance(f, HeadOnly) for f in logger.filters):
        logger.addFilter(HeadOnly())
    return logger


def quiet_libraries() -> None:
    """Pin the loggers of libraries that log bodies or statement parameters at WARNING, with
    their lines cut to their head, whatever level the process logs at."""
    for name in _QUIET:
        library_logger(name)


class LibrariesHeadOnly(HeadOnly):
    """`HeadOnly` for every line a quiet library logs, whichever of its loggers made it (a
    filter on a logger sees only that logger's own lines; this one sits on the handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in _QUIET or record.name in _QUIET:
            return super().filter(record)
        return True


# Libraries whose INFO lines are chatter to an operator (every command's two "Context impl"
# and "Will assume transactional DDL" lines from Alembic, APScheduler's "executed
# successfully" pair every 20 s): shown only when the process logs at DEBUG.
_CHATTY = ("alembic", "apscheduler")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")


class LogSettingError(ValueError):
    """LOG_LEVEL or LOG_FORMAT holds a value the process cannot use."""


class JsonLines(logging.Formatter):
    """One JSON object a line (`LOG_FORMAT=json`): time (UTC, ISO-8601), level, logger,
    message; never a traceback's text (our failures are logged by `describe`)."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = describe(record.exc_info[1])
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever `sys.stderr` is when a line is written (a test's
    captured stream, a replaced one), not to the one there was when logging was set up."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(level: str | None = None, log_format: str | None = None) -> None:
    """The process's logging: `LOG_LEVEL` (default INFO) and `LOG_FORMAT` (`text`, the
    default, or `json`: one object a line) to stderr; libraries kept quiet; LogSettingError
    for a value that is neither."""
    chosen = (level or os.environ.get("LOG_LEVEL") or "INFO").strip().upper()
    shape = (log_format or os.environ.get("LOG_FORMAT") or "text").strip().lower()
    if chosen not in LEVELS:
        raise LogSettingError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, not {chosen!r}")
    if shape not in FORMATS:
        raise LogSettingError(f"LOG_FORMAT must be text or json, not {shape!r}")
    root = logging.getLogger()
    root.setLevel(getattr(logging, chosen))
    ours = [h for h in root.handlers if isinstance(h, _Stderr)]
    if not ours:
        ours = [_Stderr()]
        root.addHandler(ours[0])
    for handler in ours:
        handler.setFormatter(JsonLines() if shape == "json" else logging.Formatter(TEXT_FORMAT))
    for any_handler in root.handlers:
        if not any(isinstance(f, LibrariesHeadOnly) for f in any_handler.filters):
            any_handler.addFilter(LibrariesHeadOnly())
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if chosen == "DEBUG" else logging.WARNING)
    quiet_libraries()


def failure(logger: logging.Logger, what: str, *args: object) -> None:
    """Log, at ERROR, the exception being handled: `what` (ids only), then `describe(exc)`.
    For `except` blocks, instead of `logger.exception`, which prints the message and the
    traceback's text."""
    exc = sys.exc_info()[1]
    detail = describe(exc) if exc is not None else "no exception"
    logger.error(f"{what}: %s", *args, detail)
