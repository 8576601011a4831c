"""One function per command; each returns the process exit code."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from dotenv import load_dotenv

from bot.config import MANIFEST_HELP, ConfigError, Settings
from bot.policy import PolicyError, load_policy
from storage import migrate
from storage.db import make_engine

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

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
        " the whole file, listing every bad line.",
    )
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    exp = commands.add_parser(
        "export",
        help="print every recorded talk as JSON or CSV",
        description="Print recorded talks with their actions (schema in README.md).",
    )
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument("--employee", metavar="SLACK_ID", help="only this employee's talks")
    exp.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="DATE",
        help="only talks held on or after DATE (YYYY-MM-DD)",
    )
    exp.add_argument(
        "--include-private", action="store_true", help="include managers' private notes"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run one command, return its exit code."""
    load_dotenv(Path.cwd() / ".env", override=False)
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    handler = COMMANDS[args.command]
    return asyncio.run(handler(args, settings))


async def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Run the bot until stopped."""
    missing = settings.missing_for_serve()
    if missing:
        print(
            f"error: missing {', '.join(missing)}. {MANIFEST_HELP}",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        policy = load_policy(settings.config_path)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    from bot.serve import serve  # Slack and the web server load only when serving

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
    """Load the org chart; all or nothing."""
    from bot.clock import system_clock
    from bot.org_import import ImportRejected, import_org_file
    from bot.slack_gateway import SlackGateway, make_client

    engine = make_engine(settings.database_url)
    gateway = SlackGateway(make_client(settings.slack_bot_token, settings.slack_api_url))
    try:
        await migrate.upgrade(engine)
        result = await import_org_file(
            engine,
            args.file,
            lookup_email=gateway.lookup_email if settings.slack_bot_token else None,
            now=system_clock(),
        )
    except ImportRejected as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    finally:
        await engine.dispose()
    print(result.summary())
    return EXIT_OK


async def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Print recorded talks."""
    from bot.clock import system_clock
    from bot.export import export_talks, to_csv, to_json

    engine = make_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        data = await export_talks(
            engine,
            employee_id=args.employee,
            since=args.since,
            include_private=args.include_private,
            today=system_clock().date(),
        )
    finally:
        await engine.dispose()
    sys.stdout.write(to_csv(data) if args.format == "csv" else to_json(data))
    return EXIT_OK


COMMANDS = {
    "serve": cmd_serve,
    "migrate": cmd_migrate,
    "import-org": cmd_import_org,
    "export": cmd_export,
}
