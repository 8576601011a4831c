"""The org chart's commands: `import-org`, `cycle add|list`, `leave add|list|cancel`."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.clock import system_clock
from bot.org.leave import LeaveEntry, LeaveRejected, add_leave, cancel_leave, list_leave
from bot.org.policy import load_policy
from bot.org.worktime import policy_today
from bot.process.config import Settings
from bot.process.operator import (
    EXIT_FAILED,
    EXIT_OK,
    OperatorError,
    Progress,
    database,
    resolve_optional,
    resolve_person,
)
from bot.process.table import table


async def cmd_import_org(args: argparse.Namespace, settings: Settings) -> int:
    """Load the org chart; all or nothing; `--dry-run` only says what would change."""
    from bot.org.importer import ImportRejected, import_org_file
    from bot.slack.gateway import SlackGateway, make_client

    policy = load_policy(settings.config_path)
    gateway = SlackGateway(make_client(settings.slack_bot_token, settings.slack_api_url))
    progress = Progress(f"importing {args.file.name}")
    async with database(settings) as engine:
        try:
            result = await import_org_file(
                engine,
                args.file,
                lookup_email=gateway.lookup_email if settings.slack_bot_token else None,
                now=system_clock(),
                rules=policy.org_import,
                allow_deactivate=args.allow_deactivate,
                dry_run=args.dry_run,
                progress=progress,
            )
        except ImportRejected as exc:
            progress.close()
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED
        finally:
            progress.close()
    print(result.summary())
    if result.dry_run:
        print("\n".join(result.changes()))
    if result.stopped is not None:  # the dry run's import would stop
        print(f"without --dry-run, {result.stopped}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def cmd_cycle(args: argparse.Namespace, settings: Settings) -> int:
    """Add, change or list cycles."""
    from bot.review.cycles import CycleRejected, add_cycle, list_cycles

    policy = load_policy(settings.config_path) if args.cycle_command == "add" else None
    async with database(settings) as engine:
        if policy is None:
            cycles = await list_cycles(engine)
        else:
            try:
                saved = await add_cycle(
                    engine,
                    name=args.name,
                    start=args.start,
                    end=args.end,
                    review_from=args.review_from,
                    review_to=args.review_to,
                    policy=policy,
                    now=system_clock(),
                )
            except CycleRejected as exc:
                raise OperatorError(f"{exc}; nothing was changed") from None
    if args.cycle_command == "add":
        c = saved.cycle
        print(
            f"{'added' if saved.created else 'changed'} cycle {c.name}: {c.starts_on} to"
            f" {c.ends_on}, reviews {c.review_from} to {c.review_to}"
        )
        return EXIT_OK
    if not cycles:
        print(
            "no cycles yet: add one, e.g."
            " cadence cycle add --name FY2027 --start 2027-01-01 --end 2027-12-31"
        )
        return EXIT_OK
    rows = [[c.name, c.starts_on, c.ends_on, c.review_from, c.review_to] for c in cycles]
    print("\n".join(table(["cycle", "starts", "ends", "reviews from", "reviews to"], rows)))
    return EXIT_OK


async def cmd_leave(args: argparse.Namespace, settings: Settings) -> int:
    """Record, list or cancel leave."""

    policy = load_policy(settings.config_path)
    now = getattr(args, "now", None) or system_clock()
    today = policy_today(policy, now)
    async with database(settings) as engine:
        try:
            if args.leave_command == "add":
                await add_leave(
                    engine,
                    person_id=await resolve_person(engine, args.person),
                    starts_on=args.starts,
                    ends_on=args.ends,
                    now=now,
                )
                print(
                    f"{args.person} is on leave from {args.starts} to {args.ends}:"
                    " no nudges to or about them meanwhile"
                )
            elif args.leave_command == "cancel":
                done = await cancel_leave(engine, leave_id=args.id, today=today)
                e = done.entry
                print(
                    f"cancelled leave {e.id} of {e.person} ({e.starts_on} to {e.ends_on}): "
                    + ("deleted" if done.deleted else f"it now ends on {today - timedelta(days=1)}")
                )
            else:
                person_id = await resolve_optional(engine, args.person)
                entries = await list_leave(
                    engine, today=None if args.all else today, person_id=person_id
                )
                _print_leave(entries, everything=args.all)
        except LeaveRejected as exc:
            raise OperatorError(f"{exc}; nothing was changed") from None
    return EXIT_OK


def _print_leave(entries: list[LeaveEntry], *, everything: bool) -> None:
    """Leave as a table, or a line saying there is none."""
    if not entries:
        print(
            "no leave recorded" if everything else "no leave under way or to come (--all: past too)"
        )
        return
    rows = [
        [e.id, e.person, e.starts_on, e.ends_on, "all" if e.pauses == "all" else "own messages"]
        for e in entries
    ]
    print("\n".join(table(["number", "person", "from", "to", "pauses nudges"], rows)))
