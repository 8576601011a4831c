"""Shared helpers for the benchmarks: the machine, throw-away databases, bulk loading."""

from __future__ import annotations

import os
import platform
import resource
import sys
import uuid
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python benchmarks/x.py` from anywhere
    sys.path.insert(0, str(ROOT))

from bot.org.policy import Policy, load_policy  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine  # noqa: E402

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
# sqlmodel's "you probably want session.exec()" on every session.execute
warnings.filterwarnings("ignore", category=DeprecationWarning)
CHUNK = 5_000


def machine() -> str:
    """One line naming the machine: CPU model, cores, Python, OS."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores (nproc), Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


def max_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """This process's resident set size now, in MB (Linux)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * resource.getpagesize() / 2**20


def policy() -> Policy:
    """The policy shipped in app.yaml."""
    return load_policy(ROOT / "app.yaml")


def database_named(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server."""
    return url.rsplit("/", 1)[0] + f"/{name}"


def fresh_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


async def create_database(admin_url: str, name: str, *, template: str | None = None) -> str:
    """CREATE DATABASE `name` (optionally as a copy of `template`); returns its URL."""
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            await conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    finally:
        await admin.dispose()
    return database_named(admin_url, name)


async def drop_database(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def migrated_engine(url: str) -> AsyncEngine:
    engine = make_engine(url)
    await migrate.upgrade(engine)
    return engine


async def bulk_insert(engine: AsyncEngine, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Load rows fast: COPY on PostgreSQL, chunked executemany elsewhere."""
    if not rows:
        return
    columns = list(rows[0])
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            raw = (await conn.get_raw_connection()).driver_connection
            records: Iterable[tuple[Any, ...]] = (tuple(r[c] for c in columns) for r in rows)
            await raw.copy_records_to_table(table.name, records=records, columns=columns)
        else:
            for start in range(0, len(rows), CHUNK):
                await conn.execute(insert(table), list(rows[start : start + CHUNK]))


async def analyze(engine: AsyncEngine) -> None:
    """Fresh planner statistics after a bulk load, as autovacuum would give a real database."""
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
