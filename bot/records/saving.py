"""Saving a record once: one unit of work, run again if a concurrent save of the same key
won the race, so the second sees the first's record and answers as it did."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.errors import SaveFailed
from storage.db import session_scope


async def save_once[T](engine: AsyncEngine, unit: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run `unit` in one session (it commits). A unique key taken meanwhile by a concurrent
    save (IntegrityError) runs it once more, when it finds that save's record; a database
    error becomes SaveFailed, which carries none of the error's text (its parameters are
    what someone typed)."""
    for attempt in (1, 2):
        try:
            async with session_scope(engine) as session:
                return await unit(session)
        except IntegrityError as exc:
            if attempt == 2:
                raise SaveFailed() from exc
        except SQLAlchemyError as exc:
            raise SaveFailed() from exc
    raise AssertionError("unreachable")
