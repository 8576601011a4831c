"""Fixtures: a fresh real database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL),
the Slack stand-in on loopback, the policy, and the running app."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

from bot.dev.slack_standin import SlackStandIn
from bot.org.policy import Policy, load_policy
from storage import migrate, sealing
from storage.db import make_engine
from tests.fast_forward_time import FastForwardTime

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"

# The suite's data key (storage.sealing): installed in this process, and in the environment
# that every `cadence` subprocess a test starts inherits. Tests about a missing or wrong key
# set their own; `_test_data_key` puts this one back after each test.
TEST_DATA_KEY = "ZpuYr7cBjAsMK1ZPmy5vlSVLP04ZTo368qVHYhItOZE="
OTHER_DATA_KEY = "DAmijDB7r3BZB2lQ0gjUFlbi4stNh4eVsskjrKejoMg="
os.environ[sealing.ENV] = TEST_DATA_KEY
sealing.install(sealing.Keyring.parse(TEST_DATA_KEY))


@pytest.fixture(autouse=True)
def _test_data_key() -> Iterator[None]:
    yield
    sealing.install(sealing.Keyring.parse(TEST_DATA_KEY))
    os.environ[sealing.ENV] = TEST_DATA_KEY


pytest_plugins = ["tests.app_fixtures", "tests.teams_fixtures", "tests.chat_drivers"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """PostgreSQL-only tests skip without TEST_DATABASE_URL, but never silently in CI's PG run."""
    if PG_URL:
        return
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs TEST_DATABASE_URL (PostgreSQL)"))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if IN_CI and PG_URL and report.skipped and "postgres_only" in report.keywords:
        report.outcome = "failed"  # a skipped PostgreSQL test under CI is a failure


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for the session: a SQLite file to copy, or a PostgreSQL database."""
    if PG_URL:
        name = f"cadence_test_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")

        async def create() -> None:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            await admin.dispose()

        _run(create())
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
        _run(_migrate(url))
        yield url

        async def drop() -> None:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await admin.dispose()

        _run(drop())
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        _run(_migrate(f"sqlite:///{path}"))
        yield str(path)


@pytest.fixture
def database_url(_database_template: str, tmp_path: Path) -> str:
    """A clean, migrated database for this test, as the URL a user would paste."""
    if PG_URL:
        tables = [table.name for table in SQLModel.metadata.sorted_tables]

        async def truncate() -> None:
            engine = make_engine(_database_template)
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            await engine.dispose()

        _run(truncate())
        return _database_template
    path = tmp_path / "cadence.db"
    shutil.copyfile(_database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An async engine on this test's database."""
    engine = make_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The policy shipped in app.yaml, with HR's weekly digest off: it has tests of its own
    (tests/test_hr_digest.py, with `policy_with_digest`), and the others count only the
    messages they are about."""
    shipped = load_policy(ROOT / "app.yaml")
    digest = shipped.hr_digest.model_copy(update={"enabled": False})
    return shipped.model_copy(update={"hr_digest": digest})


@pytest.fixture(scope="session")
def shipped_policy() -> Policy:
    """The policy shipped in app.yaml, exactly."""
    return load_policy(ROOT / "app.yaml")


@pytest.fixture
async def fast_forward_time() -> AsyncIterator[FastForwardTime]:
    """The monotonic time the bot's waits (pace, Retry-After, lease renewals, look-up budgets)
    and the stand-in keep: real time that skips the waits while nothing else runs."""
    fast_forward = FastForwardTime()
    yield fast_forward
    await fast_forward.close()


@pytest.fixture
def slack(fast_forward_time: FastForwardTime) -> Iterator[SlackStandIn]:
    """Slack's Web API on loopback, recording every call (`Call.at` on the fast-forward time)."""
    with SlackStandIn(clock=fast_forward_time.clock) as standin:
        yield standin
