"""Engines and sessions: one async engine per process, one session per unit of work."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel.ext.asyncio.session import AsyncSession

_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg2": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
}


def to_async_url(url: str) -> str:
    """Turn the URL forms people paste (`sqlite:///x.db`, `postgresql://…`) into async ones."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    return f"{_DRIVERS.get(scheme, scheme)}://{rest}"


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    """Tell whether a URL or engine is SQLite."""
    if isinstance(url_or_engine, AsyncEngine):
        return url_or_engine.dialect.name == "sqlite"
    return to_async_url(url_or_engine).startswith("sqlite")


def is_postgres(session: AsyncSession) -> bool:
    """Tell whether a session talks to PostgreSQL."""
    return session.bind is not None and session.bind.dialect.name == "postgresql"


CONNECT_TIMEOUT = 5  # seconds

# autovacuum's default rule for when a table's planner statistics are out of date
_STALE_ROWS, _STALE_FRACTION = 50, 0.1
_CHANGES = text(
    "SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0) FROM pg_class c"
    " LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = CAST(:table AS regclass)"
)


async def refresh_statistics(session: AsyncSession, table: str, added: int) -> bool:
    """On PostgreSQL, ANALYZE `table` if it changed by more than a tenth (with the `added`
    rows just committed, which the statistics system may not count yet); True if it did.

    A planning pass can add tens of thousands of rows within minutes; until autovacuum
    wakes (or never, where it is off) the next pass's queries would be planned for the old,
    small table and pick nested loops over hundreds of thousands of rows."""
    if not is_postgres(session):
        return False
    tuples, changed = (await session.execute(_CHANGES, {"table": table})).one()
    if changed + added <= _STALE_ROWS + _STALE_FRACTION * max(tuples, 0):
        return False
    # the whole table: ANALYZE of some columns leaves the count of changes as it was
    await session.execute(text(f'ANALYZE "{table}"'))
    return True


def make_engine(url: str, **kwargs: object) -> AsyncEngine:
    """Create the async engine for `url`; SQLite gets foreign keys and a busy timeout."""
    url = to_async_url(url)
    # An error's text (and the SQL log) would otherwise repeat the statement's parameters:
    # what people typed. They are HR records, not log lines.
    kwargs.setdefault("hide_parameters", True)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    # A database that does not answer fails a request in seconds, not after asyncpg's 60.
    kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT})
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


@asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """One unit of work: the caller commits; anything unfinished is rolled back."""
    async with session_factory(engine)() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise


async def ping(engine: AsyncEngine) -> bool:
    """Answer whether the database is reachable."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        return False
    return True
