"""The operator's privacy commands: `export-person`, `audit`, `erase` (`retention` is in
bot.process.retention_cli)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, time

from bot.clock import system_clock
from bot.errors import NotAllowed
from bot.privacy import access
from bot.process.config import Settings
from bot.process.operator import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    PERSON_HELP,
    operator_reader,
    person_key,
    policy_or_report,
    with_engine,
)
from prompts import t
from storage import queries
from storage.db import session_scope


def _refused(refused: NotAllowed, locale: str, named: str) -> int:
    """Why not, in an operator's words where the catalog's speak to a chat user."""
    if refused.key == "refusal.not_in_org":
        message = f"nobody in the org chart is {named!r} ({PERSON_HELP})"
    else:
        message = t(refused.key, locale, **refused.params)
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILED


async def cmd_export_person(args: argparse.Namespace, settings: Settings) -> int:
    """Print everything about one person (what they get with my-data)."""
    from bot.privacy.my_data import my_data

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    try:
        found = await my_data(
            engine,
            subject_id=await person_key(engine, args.person) or "",
            reader=operator_reader(),
            platform=access.CLI,
            policy=policy,
            now=system_clock(),
        )
    except NotAllowed as refused:
        return _refused(refused, policy.locale, args.person)
    finally:
        await engine.dispose()
    sys.stdout.write(found.to_json())
    return EXIT_OK


async def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print who read one person's records."""
    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    since = datetime.combine(args.since, time(), UTC) if args.since else None
    try:
        key = await person_key(engine, args.person) or ""
        async with session_scope(engine) as session:
            person = await queries.get_person(session, key)
            if person is None:
                return _refused(NotAllowed("refusal.not_in_org"), policy.locale, args.person)
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
    finally:
        await engine.dispose()
    print(f"who read the records of {person.name}" + (f" since {args.since}" if since else ""))
    if not reads:
        print("nobody")
        return EXIT_OK
    for read in reads:
        detail = f"  ({read.detail})" if read.detail else ""
        print(
            f"{read.at:%Y-%m-%d %H:%M} UTC  {read.reader_name:<30}  {read.what:<18}"
            f"  {read.platform}{detail}"
        )
    return EXIT_OK


async def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    """Erase one person's records, or with --dry-run say what would go."""
    from bot.privacy.erasure import ReviewInProgress, erase_person

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    try:
        erasure = await erase_person(
            engine,
            person_id=await person_key(engine, args.person) or "",
            reader=operator_reader(),
            platform=access.CLI,
            policy=policy,
            now=system_clock(),
            dry_run=args.dry_run,
            force=args.force,
        )
    except NotAllowed as refused:
        return _refused(refused, policy.locale, args.person)
    except ReviewInProgress as busy:
        print(
            f"error: their review for {busy.cycle} is in progress; nothing was erased."
            " Run again with --force to erase anyway.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        await engine.dispose()
    print("\n".join(erasure.lines()))
    return EXIT_OK
