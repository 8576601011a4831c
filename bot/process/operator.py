"""What every operator command shares: exit codes, the migrated database, the people it
names, the policy, and who the operator is in the access log."""

from __future__ import annotations

import getpass
import sys

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import system_clock
from bot.org.policy import Policy, PolicyError, load_policy
from bot.privacy.access import operator
from bot.process.config import Settings
from storage import migrate, queries, sealing
from storage.db import make_engine, session_scope

PERSON_HELP = "a Slack or Teams user id, an employee number, an email or a person key"
EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


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


async def person_key(engine: AsyncEngine, ref: str | None) -> str | None:
    """The key of the person an operator names (see PERSON_HELP); an unknown name is passed
    on as it is, for the command to refuse as nobody it knows."""
    if ref is None:
        return None
    async with session_scope(engine) as session:
        person = await queries.person_named_by(session, ref)
    return person.id if person is not None else ref


def policy_or_report(settings: Settings) -> Policy | None:
    """The policy, or None after printing why it cannot be used."""
    try:
        return load_policy(settings.config_path)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return None


def operator_reader() -> str:
    """Who the access log says read, for a command run by this login."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's numeric user)
        login = "unknown"
    return operator(login)
