"""`cadence COMMAND …`: the parser, `main`, and the commands that run the process itself
(serve, migrate, demo, teams-package); the operator's commands live beside it, one module a
subject (org_cli, outbox_cli, report_cli, privacy_cli, retention_cli, keys)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from importlib import metadata
from pathlib import Path

from dotenv import load_dotenv

from bot.logs import LogSettingError
from bot.logs import configure as configure_logging
from bot.org.policy import PolicyError, load_policy
from bot.process.config import MANIFEST_HELP, TEAMS_HELP, ConfigError, Settings
from bot.process.keys import cmd_rotate_key
from bot.process.operator import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    PERSON_HELP,
    OperatorError,
    day,
    moment,
    positive,
)
from bot.process.org_cli import cmd_cycle, cmd_import_org, cmd_leave
from bot.process.outbox_cli import cmd_nudges, cmd_tick
from bot.process.privacy_cli import cmd_audit, cmd_erase, cmd_export_person
from bot.process.report_cli import (
    COVERAGE_FORMATS,
    STATUSES,
    cmd_coverage,
    cmd_export,
    cmd_prep_pack,
)
from bot.process.retention_cli import cmd_retention
from storage import migrate, sealing
from storage.db import make_engine
from storage.sealing import DataKeyError

log = logging.getLogger("cadence")

NOW_HELP = (
    "the moment to act or report at, ISO-8601 with Z or an offset, e.g. 2026-12-07T02:00Z"
    " (default: now)"
)


def version() -> str:
    """The installed release's version."""
    try:
        return metadata.version("cadence")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command."""
    parser = argparse.ArgumentParser(
        prog="cadence",
        description="Cadence: performance dialogues all year, in Slack and Microsoft Teams.",
        epilog="Configuration comes from the environment or a .env file; see .env.example."
        " Exit codes: 0 done, 1 refused or failed (nothing changed), 2 configuration.",
    )
    parser.add_argument("--version", action="version", version=f"cadence {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "serve",
        help="run the bot (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)",
        description="Apply pending migrations, then answer Slack and Teams. HTTP serves"
        " POST /slack/events, POST /api/messages, GET /healthz and GET /metrics on PORT.",
    )
    commands.add_parser(
        "migrate",
        help="apply database migrations",
        description="Apply every pending database migration, then exit.",
    )
    _org_commands(commands)
    _report_commands(commands)
    _outbox_commands(commands)
    _process_commands(commands)
    _privacy_commands(commands)
    return parser


def _org_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The org chart, cycles and leave."""
    imp = commands.add_parser(
        "import-org",
        help="load the org chart from an HR export (CSV)",
        description="Upsert people from a CSV with columns slack_id, email, name, manager,"
        " timezone, locale, hr (and optional country, teams_id, employee_number). All or"
        " nothing: any bad row rejects the whole file, listing every bad line. The file is the"
        " whole organisation: people missing from it are deactivated; a file with nobody in it"
        " is refused, and an import that would deactivate more than"
        " org_import.max_deactivate_share (app.yaml) of the active people stops and names them.",
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
    cycle = commands.add_parser(
        "cycle",
        help="add, change or list appraisal cycles",
        description="Appraisal cycles and their review windows.",
    )
    cycle_commands = cycle.add_subparsers(dest="cycle_command", required=True, metavar="ACTION")
    add = cycle_commands.add_parser("add", help="add a cycle, or change the one with NAME")
    add.add_argument("--name", required=True)
    add.add_argument("--start", required=True, type=day, metavar="DATE")
    add.add_argument("--end", required=True, type=day, metavar="DATE")
    add.add_argument("--review-from", type=day, metavar="DATE")
    add.add_argument("--review-to", type=day, metavar="DATE")
    cycle_commands.add_parser("list", help="list the cycles")
    leave = commands.add_parser(
        "leave",
        help="record, list or cancel someone's leave (no nudges meanwhile)",
        description="Leave: no nudges to or about the person on those days.",
    )
    leave_commands = leave.add_subparsers(dest="leave_command", required=True, metavar="ACTION")
    add_leave = leave_commands.add_parser("add", help="record leave")
    add_leave.add_argument("--person", required=True, metavar="PERSON", help=PERSON_HELP)
    add_leave.add_argument("--from", dest="starts", required=True, type=day, metavar="DATE")
    add_leave.add_argument("--to", dest="ends", required=True, type=day, metavar="DATE")
    listing = leave_commands.add_parser(
        "list", help="list leave that is under way or to come (with --all, past leave too)"
    )
    listing.add_argument("--person", metavar="PERSON", help="only this person's; " + PERSON_HELP)
    listing.add_argument("--all", action="store_true", help="past leave too")
    listing.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)
    cancel = leave_commands.add_parser(
        "cancel",
        help="cancel leave by its number (see leave list): leave to come is deleted, leave"
        " under way ends yesterday",
    )
    cancel.add_argument("id", type=positive, metavar="NUMBER")
    cancel.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)


def _report_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """HR's and managers' reports: coverage, export, prep packs."""
    cov = commands.add_parser(
        "coverage",
        help="HR's report: every pair, last dialogue, open and overdue actions",
        description="Every manager–report pair with the last dialogue, open and overdue"
        " actions and the rhythm's status, neediest first, after a summary. --format html"
        " writes HR's digest (charts of the last six periods and the full table) as one"
        " self-contained file.",
    )
    cov.add_argument(
        "--manager", metavar="PERSON", help="only this manager's reports; " + PERSON_HELP
    )
    cov.add_argument(
        "--status",
        action="append",
        choices=STATUSES,
        help="only pairs with this status (repeat for several)",
    )
    cov.add_argument("--format", choices=COVERAGE_FORMATS, default="table")
    cov.add_argument(
        "--output", type=Path, metavar="PATH", help="write to PATH instead of the terminal"
    )
    cov.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)
    exp = commands.add_parser(
        "export",
        help="print recorded talks as JSON or CSV",
        description="Print recorded talks with their actions (schema in README.md), as HR may"
        " read them (app.yaml privacy, hr_reads_content). Written to the access log.",
    )
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument(
        "--employee", metavar="PERSON", help="only this employee's talks; " + PERSON_HELP
    )
    exp.add_argument(
        "--since", type=day, metavar="DATE", help="only talks held on or after DATE (YYYY-MM-DD)"
    )
    exp.add_argument(
        "--include-private",
        action="store_true",
        help="include managers' private notes (only where app.yaml's"
        " privacy.hr_reads_private_notes allows it)",
    )
    exp.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)
    prep = commands.add_parser(
        "prep-pack",
        help="print a manager's prep packs for the review interviews",
        description="Print the prep pack (timeline, facts, consensus, actions, goals,"
        " self-assessment, talking time, suggested length and agenda) for each of a manager's"
        " reports, or one, for the cycle under review. Written to the access log.",
    )
    prep.add_argument("--manager", required=True, metavar="PERSON", help=PERSON_HELP)
    prep.add_argument("--employee", metavar="PERSON", help=PERSON_HELP)
    prep.add_argument("--format", choices=("md", "json"), default="md")
    prep.add_argument(
        "--locale", choices=("en", "zh"), help="language of the Markdown (default: the manager's)"
    )
    prep.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)


def _outbox_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The outbox: what is owed to whom, and one pass of the engine."""
    tick = commands.add_parser(
        "tick",
        help="run exactly one plan and dispatch pass, then exit (cron; time travel in tests)",
        description="Plan the nudges due and send those whose moment has come, at --now"
        " (default: the current time), then exit. Needs a platform to send through"
        " (SLACK_BOT_TOKEN, or the Teams app's variables), not the signing secret or the"
        " app token.",
    )
    tick.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)
    nudges = commands.add_parser(
        "nudges",
        help="list the messages in the outbox",
        description="List the messages the bot owes or sent, the latest due first: who to, about"
        " whom, when (UTC and the recipient's local time), kind and state.",
    )
    state = nudges.add_mutually_exclusive_group()
    state.add_argument("--failed", action="store_true", help="only those that gave up")
    state.add_argument("--pending", action="store_true", help="only those still to send")
    nudges.add_argument(
        "--person", metavar="PERSON", help="only those to or about this person; " + PERSON_HELP
    )
    nudges.add_argument("--limit", type=positive, default=50, help="show at most this many (50)")


def _process_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The demo and the Teams app package."""
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
        help="simulate a quarter offline: sample org, Slack and Teams stand-ins, the records",
        description="Seed a sample organisation into a local SQLite file, run the real planner"
        " and dispatcher against in-process Slack and Teams stand-ins through simulated days,"
        " and print every nudge in its recipient's local time, then the records. Needs no"
        " workspace, tenant or configuration.",
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
        type=day,
        default=date(2026, 10, 1),
        metavar="DATE",
        help="first simulated day (default: 2026-10-01)",
    )
    demo.add_argument(
        "--days", type=positive, default=92, help="how many days to simulate (default: 92)"
    )


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
    audit.add_argument("--since", type=day, metavar="DATE")
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
    retention.add_argument("--now", type=moment, metavar="ISO-8601", help=NOW_HELP)
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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run one command, return its exit code."""
    load_dotenv(Path.cwd() / ".env", override=False)
    args = build_parser().parse_args(argv)
    try:
        configure_logging()
    except LogSettingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
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
    except (DataKeyError, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OperatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until stopped."""
    missing = settings.missing_for_serve()
    if missing:
        print(
            f"error: missing {', '.join(missing)}. {MANIFEST_HELP} {TEAMS_HELP}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    policy = load_policy(settings.config_path)
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


async def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Simulate a quarter offline under the shipped policy and print the timeline
    (CADENCE_CONFIG, DATABASE_URL and the platforms' variables ignored)."""
    from bot.dev.demo import run_demo

    root, level = logging.getLogger(), logging.getLogger().level
    root.setLevel(logging.WARNING)
    try:
        return await run_demo(args.database, start=args.start, days=args.days)
    finally:
        root.setLevel(level)


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


async def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    """Print a new data key (`main` answers this one before reading the environment)."""
    print(sealing.new_key())
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
