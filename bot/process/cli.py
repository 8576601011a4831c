"""One function per command; each returns the process exit code."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from dotenv import load_dotenv

from bot.logs import configure as configure_logging
from bot.org.policy import PolicyError, load_policy
from bot.privacy import access
from bot.process.config import MANIFEST_HELP, TEAMS_HELP, ConfigError, Settings
from bot.process.keys import cmd_keygen, cmd_rotate_key
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
from bot.process.privacy_cli import cmd_audit, cmd_erase, cmd_export_person
from bot.process.retention_cli import cmd_retention
from storage import migrate, sealing
from storage.db import make_engine
from storage.sealing import DataKeyError

log = logging.getLogger("cadence")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Cadence: performance dialogues all year, in Slack.",
        epilog="Configuration comes from the environment or a .env file; see .env.example.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve",
        help="run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)",
        description="Apply pending migrations, then answer Slack. HTTP mode serves"
        " POST /slack/events and GET /healthz on PORT.",
    )
    commands.add_parser(
        "migrate",
        help="apply database migrations",
        description="Apply every pending database migration, then exit.",
    )
    imp = commands.add_parser(
        "import-org",
        help="load the org chart from an HR export (CSV)",
        description="Upsert people from a CSV with columns slack_id, email, name, manager,"
        " timezone, locale, hr (and optional country). All or nothing: any bad row rejects"
        " the whole file, listing every bad line. The file is the whole organisation: people"
        " missing from it are deactivated; a file with nobody in it is refused, and an import"
        " that would deactivate more than org_import.max_deactivate_share (app.yaml) of the"
        " active people stops and names them.",
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument(
        "--dry-run",
        action="store_true",
        help="print who would be created, updated, deactivated or get a new manager, and how"
        " many nudges would move; change nothing (exit 1 if the import would be refused)",
    )
    imp.add_argument(
        "--allow-deactivate",
        action="store_true",
        help="deactivate everyone missing from the file, however many they are",
    )
    exp = commands.add_parser(
        "export",
        help="print every recorded talk as JSON or CSV",
        description="Print recorded talks with their actions (schema in README.md).",
    )
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument(
        "--employee", metavar="PERSON", help="only this employee's talks; " + PERSON_HELP
    )
    exp.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="DATE",
        help="only talks held on or after DATE (YYYY-MM-DD)",
    )
    exp.add_argument(
        "--include-private",
        action="store_true",
        help="include managers' private notes (only where app.yaml's"
        " privacy.hr_reads_private_notes allows it)",
    )
    tick = commands.add_parser(
        "tick",
        help="run exactly one plan and dispatch pass, then exit (cron; time travel in tests)",
        description="Plan the nudges due and send those whose moment has come, at --now"
        " (default: the current time), then exit.",
    )
    tick.add_argument(
        "--now",
        type=parse_moment,
        metavar="ISO-8601",
        help="the moment to act at, with Z or an offset, e.g. 2026-12-07T02:00Z",
    )
    nudges = commands.add_parser(
        "nudges", help="list nudges in the outbox", description="List nudges, newest first."
    )
    nudges.add_argument("--failed", action="store_true", help="only those that gave up")
    nudges.add_argument("--pending", action="store_true", help="only those still to send")
    nudges.add_argument("--limit", type=int, default=50)
    commands.add_parser(
        "coverage",
        help="HR's report: every pair, last dialogue, overdue",
        description="Every manager–report pair with the last dialogue, open"
        " and overdue actions and the rhythm's status, neediest first.",
    )
    cycle = commands.add_parser(
        "cycle",
        help="add, change or list appraisal cycles",
        description="Appraisal cycles and their review windows.",
    )
    cycle_commands = cycle.add_subparsers(dest="cycle_command", required=True, metavar="ACTION")
    add = cycle_commands.add_parser("add", help="add a cycle, or change the one with NAME")
    add.add_argument("--name", required=True)
    add.add_argument("--start", required=True, type=date.fromisoformat, metavar="DATE")
    add.add_argument("--end", required=True, type=date.fromisoformat, metavar="DATE")
    add.add_argument("--review-from", type=date.fromisoformat, metavar="DATE")
    add.add_argument("--review-to", type=date.fromisoformat, metavar="DATE")
    cycle_commands.add_parser("list", help="list the cycles")
    leave = commands.add_parser(
        "leave",
        help="record someone's leave (no nudges meanwhile)",
        description="Record leave: no nudges to or about the person.",
    )
    leave.add_argument("--person", required=True, metavar="PERSON", help=PERSON_HELP)
    leave.add_argument(
        "--from", dest="starts", required=True, type=date.fromisoformat, metavar="DATE"
    )
    leave.add_argument("--to", dest="ends", required=True, type=date.fromisoformat, metavar="DATE")
    prep = commands.add_parser(
        "prep-pack",
        help="print a manager's prep packs for the review interviews",
        description="Print the prep pack (timeline, facts, consensus, actions, goals,"
        " self-assessment, talking time, suggested length and agenda) for each of a manager's"
        " reports, or one, for the cycle under review.",
    )
    prep.add_argument("--manager", required=True, metavar="PERSON", help=PERSON_HELP)
    prep.add_argument("--employee", metavar="PERSON", help=PERSON_HELP)
    prep.add_argument("--format", choices=("md", "json"), default="md")
    prep.add_argument(
        "--locale", choices=("en", "zh"), help="language of the Markdown (default: the manager's)"
    )
    package = commands.add_parser(
        "teams-package",
        help="write the Teams app package (manifest.json and icons, zipped) to upload",
        description="Build the Microsoft Teams app package for this deployment: the bot is"
        " CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID, its domain that of"
        " CADENCE_PUBLIC_URL (or --public-url). Prints the zip's path.",
    )
    package.add_argument(
        "--output",
        type=Path,
        default=Path("cadence-teams.zip"),
        metavar="PATH",
        help="the zip to write, or a folder to write cadence-teams.zip in"
        " (default: ./cadence-teams.zip)",
    )
    package.add_argument(
        "--public-url", metavar="URL", help="https address of the bot (default: CADENCE_PUBLIC_URL)"
    )
    demo = commands.add_parser(
        "demo",
        help="simulate a quarter offline: sample org, Slack stand-in, timeline of nudges",
        description="Seed a sample organisation into a local SQLite file, run the real planner"
        " and dispatcher against an in-process Slack stand-in through simulated days, and print"
        " every nudge in its recipient's local time. Needs no Slack workspace or configuration.",
    )
    demo.add_argument(
        "--database",
        type=Path,
        default=Path("cadence-demo.db"),
        metavar="PATH",
        help="SQLite file to (re)create (default: ./cadence-demo.db)",
    )
    demo.add_argument(
        "--start",
        type=date.fromisoformat,
        default=date(2026, 10, 1),
        metavar="DATE",
        help="first simulated day (default: 2026-10-01)",
    )
    demo.add_argument(
        "--days", type=int, default=92, help="how many days to simulate (default: 92)"
    )
    _privacy_commands(commands)
    return parser


def _privacy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands of README "Security and data handling"."""
    person = commands.add_parser(
        "export-person",
        help="everything stored about one person, as they get it with my-data",
        description="Print every record about one person as the subject (talks, actions,"
        " goals, self-assessments, reviews, who read their records), the same file the"
        " person gets with `/checkin my-data` or `my data`. Written to the access log.",
    )
    person.add_argument("--person", required=True, metavar="PERSON", help=PERSON_HELP)
    person.add_argument("--format", choices=("json",), default="json")
    audit = commands.add_parser(
        "audit",
        help="who read one person's records, and when",
        description="Print the access log about one person: who read what, when, where.",
    )
    audit.add_argument("--person", required=True, metavar="PERSON", help=PERSON_HELP)
    audit.add_argument("--since", type=date.fromisoformat, metavar="DATE")
    erase = commands.add_parser(
        "erase",
        help="erase a person's records (the right to deletion)",
        description="Delete everything about one person, in one transaction: talks, actions,"
        " goals, self-assessments, reviews and nudges about them, their chat accounts and"
        " profile. What they wrote about others stays, signed as a former employee. Refused"
        " while they have a review in progress (unless --force). Written to the access log.",
    )
    erase.add_argument("--person", required=True, metavar="PERSON", help=PERSON_HELP)
    erase.add_argument("--dry-run", action="store_true", help="print what would go; change nothing")
    erase.add_argument("--force", action="store_true", help="erase even with a review in progress")
    retention = commands.add_parser(
        "retention",
        help="delete what app.yaml's retention section no longer keeps",
        description="Delete records past their retention period (app.yaml `retention`) in"
        " small batches, and erase people who left more than the grace period ago. The bot"
        " runs this daily; --dry-run shows the counts.",
    )
    mode = retention.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="count, delete nothing")
    mode.add_argument("--apply", action="store_true", help="delete")
    retention.add_argument("--now", type=parse_moment, metavar="ISO-8601", help=argparse.SUPPRESS)
    commands.add_parser(
        "keygen",
        help="print a new data key for CADENCE_DATA_KEY",
        description="Print a new random key for CADENCE_DATA_KEY (encryption at rest).",
    )
    commands.add_parser(
        "rotate-key",
        help="re-encrypt protected records under the first key of CADENCE_DATA_KEY",
        description="With CADENCE_DATA_KEY=NEW,OLD, re-encrypt every protected value under"
        " NEW in small batches; then set CADENCE_DATA_KEY=NEW.",
    )


def parse_moment(text: str) -> datetime:
    """An ISO-8601 moment that says its offset (`Z` or `+08:00`)."""
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 moment: {text!r}") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone: add Z or an offset")
    return moment.astimezone(UTC)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run one command, return its exit code."""
    load_dotenv(Path.cwd() / ".env", override=False)
    args = build_parser().parse_args(argv)
    configure_logging()
    if args.command == "keygen":  # needs nothing from the environment, not even a valid key
        print(sealing.new_key())
        return EXIT_OK
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    sealing.install(settings.data_keys)
    handler = COMMANDS[args.command]
    try:
        return asyncio.run(handler(args, settings))
    except DataKeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until stopped."""
    missing = settings.missing_for_serve()
    if missing:
        print(
            f"error: missing {', '.join(missing)}. {MANIFEST_HELP} {TEAMS_HELP}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        policy = load_policy(settings.config_path)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.process.serve import serve  # Slack and the web server load only when serving

    await serve(settings, policy)
    return EXIT_OK


async def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations."""
    engine = make_engine(settings.database_url)
    try:
        todo = await migrate.pending(engine)
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    print(f"applied {len(todo)} migration(s): {', '.join(todo) or 'none pending'}")
    return EXIT_OK


async def cmd_import_org(args: argparse.Namespace, settings: Settings) -> int:
    """Load the org chart; all or nothing; `--dry-run` only says what would change."""
    from bot.clock import system_clock
    from bot.org.importer import ImportRejected, import_org_file
    from bot.slack.gateway import SlackGateway, make_client

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = make_engine(settings.database_url)
    gateway = SlackGateway(make_client(settings.slack_bot_token, settings.slack_api_url))
    try:
        await migrate.upgrade(engine)
        result = await import_org_file(
            engine,
            args.file,
            lookup_email=gateway.lookup_email if settings.slack_bot_token else None,
            now=system_clock(),
            rules=policy.org_import,
            allow_deactivate=args.allow_deactivate,
            dry_run=args.dry_run,
        )
    except ImportRejected as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.dispose()
    print(result.summary())
    if result.dry_run:
        print("\n".join(result.changes()))
    if result.stopped is not None:  # the dry run's import would stop
        print(f"without --dry-run, {result.stopped}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print recorded talks, as HR may read them (app.yaml `privacy`, `hr_reads_content`)."""
    from bot.clock import system_clock
    from bot.records.export import export_talks, to_csv, to_json

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    if args.include_private and not policy.privacy.hr_reads_private_notes:
        print(
            "error: private notes are the manager's alone under this policy"
            " (app.yaml privacy.hr_reads_private_notes is false); nothing was exported",
            file=sys.stderr,
        )
        return EXIT_FAILED
    engine = await with_engine(settings)
    now = system_clock()
    try:
        data = await export_talks(
            engine,
            employee_id=await person_key(engine, args.employee),
            since=args.since,
            include_private=args.include_private,
            today=now.date(),
            reads_content=policy.hr_reads_content,
            reader=operator_reader(),
            now=now,
        )
    finally:
        await engine.dispose()
    sys.stdout.write(to_csv(data) if args.format == "csv" else to_json(data))
    return EXIT_OK


async def cmd_tick(args: argparse.Namespace, settings: Settings) -> int:
    """One plan and dispatch pass."""
    from bot.clock import system_clock
    from bot.process.assembly import assemble

    if not settings.slack and settings.teams is None:
        print(f"error: missing SLACK_BOT_TOKEN. {MANIFEST_HELP} {TEAMS_HELP}", file=sys.stderr)
        return EXIT_CONFIG
    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    now = args.now or system_clock()
    engine = await with_engine(settings)
    try:
        platforms = assemble(settings, policy, engine=engine, clock=lambda: now)
        planned, sent = await platforms.engine.tick(now)
    finally:
        await engine.dispose()
    print(
        f"tick at {now.isoformat()}: planned {planned.created} new nudge(s)"
        f" ({planned.cancelled} cancelled); sent {sent.sent},"
        f" deferred {sent.deferred}, retrying {sent.retried}, failed {sent.failed},"
        f" cancelled {sent.cancelled}"
        + (f", waiting for an unreachable recipient {sent.unreachable}" if sent.unreachable else "")
        + (
            f"; delivery paused: {', '.join(sorted(sent.paused_platforms))} refuses the bot's token"
            if sent.paused
            else ""
        )
    )
    return EXIT_OK


async def cmd_nudges(args: argparse.Namespace, settings: Settings) -> int:
    """List outbox rows."""
    from bot.engine import outbox
    from storage import queries
    from storage.db import session_scope

    engine = await with_engine(settings)
    try:
        async with session_scope(engine) as session:
            rows = await outbox.latest(
                session, limit=args.limit, failed=args.failed, pending=args.pending
            )
            named = {n.recipient_id for n in rows} | {n.about_id for n in rows if n.about_id}
            accounts = await queries.reporting_identities(session, named)
            waiting = await outbox.count_unreachable(session)
    finally:
        await engine.dispose()

    def account(key: str) -> str:
        """A person as an operator knows them: their chat user id (Slack's, else Teams')."""
        found = accounts.get(key)
        return found.user_id if found is not None else key

    if not rows:
        print("no nudges" + (" failed" if args.failed else ""))
    for n in rows:
        subject = account(n.subject) if n.subject == n.about_id else n.subject
        print(
            f"{n.id:>6}  {n.due_at:%Y-%m-%d %H:%M}Z  {n.state:<9}  {n.kind:<24}"
            f"  to {account(n.recipient_id):<12} about {subject:<16} attempts {n.attempts}"
            + (f"  error: {n.last_error}" if n.last_error and n.state == "failed" else "")
            + ("  waiting: unreachable" if n.last_error == outbox.UNREACHABLE else "")
        )
    if waiting:
        print(
            f"{waiting} pending nudge(s) wait for their recipient to be reachable: no account"
            " on a chat platform this deployment sends through (see delivery.platform_order),"
            " or, on Teams, the app not installed for them yet"
        )
    return EXIT_OK


async def cmd_coverage(args: argparse.Namespace, settings: Settings) -> int:
    """Print HR's coverage report."""
    from bot.clock import system_clock
    from bot.engine import outbox
    from bot.records.coverage import coverage
    from storage.db import session_scope

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    try:
        rows = await coverage(engine, policy=policy, now=system_clock())
        async with session_scope(engine) as session:
            waiting = await outbox.unreachable_pairs(session)
    finally:
        await engine.dispose()
    print(f"{'status':<10} {'manager':<24} {'report':<24} {'last dialogue':<14} open  overdue")
    for r in rows:
        last = r.last_dialogue.isoformat() if r.last_dialogue else "never"
        print(
            f"{r.status:<10} {r.manager[:24]:<24} {r.employee[:24]:<24} {last:<14}"
            f" {r.open_actions:>4}  {r.overdue_actions:>7}"
        )
    summary = {
        s: sum(1 for r in rows if r.status == s) for s in ("ok", "due", "escalated", "skipped")
    }
    print(f"{len(rows)} pairs: " + ", ".join(f"{n} {s}" for s, n in summary.items()))
    unreachable = [r for r in rows if (r.manager_id, r.employee_id) in waiting]
    if unreachable:
        print(
            f"{len(unreachable)} pair(s) whose nudges wait: the manager has no account on a chat"
            " platform this deployment sends through (or, on Teams, the app is not installed for"
            " them yet): "
            + ", ".join(f"{r.manager} → {r.employee}" for r in unreachable[:20])
            + (f" and {len(unreachable) - 20} more" if len(unreachable) > 20 else "")
        )
    return EXIT_OK


async def cmd_cycle(args: argparse.Namespace, settings: Settings) -> int:
    """Add, change or list cycles."""
    from bot.clock import system_clock
    from bot.review.cycles import CycleRejected, add_cycle, list_cycles

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    try:
        if args.cycle_command == "add":
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
                print(f"error: {exc}; nothing was changed", file=sys.stderr)
                return EXIT_FAILED
            c = saved.cycle
            print(
                f"{'added' if saved.created else 'changed'} cycle {c.name}: {c.starts_on} to"
                f" {c.ends_on}, reviews {c.review_from} to {c.review_to}"
            )
        else:
            for c in await list_cycles(engine):
                print(
                    f"{c.name:<12} {c.starts_on} to {c.ends_on}   reviews {c.review_from} to"
                    f" {c.review_to}"
                )
    finally:
        await engine.dispose()
    return EXIT_OK


async def cmd_leave(args: argparse.Namespace, settings: Settings) -> int:
    """Record leave."""
    from bot.clock import system_clock
    from bot.org.leave import LeaveRejected, add_leave

    engine = await with_engine(settings)
    try:
        await add_leave(
            engine,
            person_id=await person_key(engine, args.person) or "",
            starts_on=args.starts,
            ends_on=args.ends,
            now=system_clock(),
        )
    except LeaveRejected as exc:
        print(f"error: {exc}; nothing was changed", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.dispose()
    print(f"{args.person} is on leave from {args.starts} to {args.ends}: no nudges meanwhile")
    return EXIT_OK


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Simulate a quarter offline under the shipped policy and print the timeline
    (CADENCE_CONFIG, DATABASE_URL and SLACK_* ignored)."""
    from bot.dev.demo import run_demo

    if args.days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.WARNING)
    try:
        return await run_demo(args.database, start=args.start, days=args.days)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    finally:
        root.setLevel(level)


async def cmd_prep_pack(args: argparse.Namespace, settings: Settings) -> int:
    """Print prep packs."""
    from bot.clock import system_clock
    from bot.errors import NotAllowed
    from bot.org.profiles import slack_identity, stored_locale
    from bot.review.prep_pack import build_packs, dumps
    from bot.review.prep_pack_text import to_markdown
    from prompts import t

    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    try:
        manager_id = await person_key(engine, args.manager) or ""
        packs = await build_packs(
            engine,
            manager_id=manager_id,
            employee_id=await person_key(engine, args.employee),
            policy=policy,
            now=system_clock(),
        )
        await access.log(
            engine,
            reader=operator_reader(),
            subjects=[pack.employee.id for pack in packs],
            what=access.PREP_PACK_BUILT,
            platform=access.CLI,
            now=system_clock(),
        )
        manager_identity = await slack_identity(engine, manager_id)
    except NotAllowed as refused:
        print(
            f"error: {t(refused.key, args.locale or policy.locale, **refused.params)}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        await engine.dispose()
    if not packs:
        print("no prep pack: no reports, or no cycle under review", file=sys.stderr)
        return EXIT_FAILED
    if args.format == "json":
        sys.stdout.write(dumps(packs))
        return EXIT_OK
    manager = packs[0].manager
    locale = args.locale or stored_locale(manager, manager_identity, policy)
    sys.stdout.write("\n".join(to_markdown(p, policy=policy, locale=locale) for p in packs))
    return EXIT_OK


async def cmd_teams_package(args: argparse.Namespace, settings: Settings) -> int:
    """Write the Teams app package."""
    import os

    from bot.teams.app_package import PackageError, PackageSettings, write

    try:
        package = PackageSettings.from_env(dict(os.environ), public_url=args.public_url)
    except PackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        path = write(package, args.output)
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    print(path)
    return EXIT_OK


COMMANDS = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "import-org": cmd_import_org,
    "export": cmd_export,
    "tick": cmd_tick,
    "nudges": cmd_nudges,
    "coverage": cmd_coverage,
    "cycle": cmd_cycle,
    "leave": cmd_leave,
    "prep-pack": cmd_prep_pack,
    "demo": cmd_demo,
    "teams-package": cmd_teams_package,
    "export-person": cmd_export_person,
    "audit": cmd_audit,
    "erase": cmd_erase,
    "retention": cmd_retention,
    "keygen": cmd_keygen,
    "rotate-key": cmd_rotate_key,
}
