"""The operator's privacy commands: `export-person`, `audit`, `erase` (`retention` is in
bot.process.retention_cli)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time

from bot.clock import system_clock
from bot.errors import NotAllowed
from bot.org.policy import load_policy
from bot.privacy import access
from bot.process.config import Settings
from bot.process.operator import (
    EXIT_OK,
    OperatorError,
    Progress,
    UnknownPerson,
    database,
    operator_reader,
    refusal,
    resolve_person,
)
from bot.process.table import table
from storage import queries
from storage.db import session_scope


async def cmd_export_person(args: argparse.Namespace, settings: Settings) -> int:
    """Print everything about one person (what they get with my-data)."""
    from bot.privacy.my_data import my_data

    policy = load_policy(settings.config_path)
    async with database(settings) as engine:
        try:
            found = await my_data(
                engine,
                subject_id=await resolve_person(engine, args.person),
                reader=operator_reader(),
                platform=access.CLI,
                policy=policy,
                now=system_clock(),
            )
        except NotAllowed as refused:
            raise refusal(refused, locale="en", named=args.person) from None
    sys.stdout.write(found.to_json())
    return EXIT_OK


async def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print who read one person's records."""
    since = datetime.combine(args.since, time(), UTC) if args.since else None
    async with database(settings) as engine:
        key = await resolve_person(engine, args.person)
        async with session_scope(engine) as session:
            person = await queries.get_person(session, key)
            if person is None:
                raise UnknownPerson(args.person)
            reads = await access.reads_of(session, key, since=since)
            await access.record(
                session,
                reader=operator_reader(),
                subjects=[key],
                what=access.AUDIT,
                platform=access.CLI,
                now=system_clock(),
            )
            await session.commit()
    print(f"who read the records of {person.name}" + (f" since {args.since}" if since else ""))
    if not reads:
        print("nobody")
        return EXIT_OK
    rows = [
        [f"{r.at:%Y-%m-%d %H:%M}", r.reader_name, r.what, r.platform, r.detail or ""] for r in reads
    ]
    print("\n".join(table(["when (UTC)", "who", "what", "where", "detail"], rows)))
    return EXIT_OK


async def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    """Erase one person's records, or with --dry-run say what would go."""
    from bot.privacy.erasure import ReviewInProgress, erase_person

    policy = load_policy(settings.config_path)
    progress = Progress("erasing")
    async with database(settings) as engine:
        try:
            erasure = await erase_person(
                engine,
                person_id=await resolve_person(engine, args.person),
                reader=operator_reader(),
                platform=access.CLI,
                policy=policy,
                now=system_clock(),
                dry_run=args.dry_run,
                force=args.force,
                progress=progress,
            )
        except NotAllowed as refused:
            raise refusal(refused, locale="en", named=args.person) from None
        except ReviewInProgress as busy:
            raise OperatorError(
                f"their review for {busy.cycle} is in progress; nothing was erased."
                " Run again with --force to erase anyway."
            ) from None
        finally:
            progress.close()
    print("\n".join(erasure.lines()))
    return EXIT_OK
