"""`retention --dry-run|--apply`: what app.yaml's `retention` no longer keeps, counted or
deleted now (the bot does it daily at `retention.hour`)."""

from __future__ import annotations

import argparse

from bot.clock import system_clock
from bot.org.policy import load_policy
from bot.privacy import access
from bot.privacy.retention import retention
from bot.process.config import Settings
from bot.process.operator import EXIT_OK, Progress, database, operator_reader


async def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    """Count (--dry-run) or delete (--apply) what is past its time."""
    policy = load_policy(settings.config_path)
    progress = Progress("retention: kinds done" if args.apply else "retention: kinds counted")
    async with database(settings) as engine:
        try:
            report = await retention(
                engine,
                policy=policy,
                now=args.now or system_clock(),
                apply=args.apply,
                reader=operator_reader(),
                platform=access.CLI,
                progress=progress,
            )
        finally:
            progress.close()
    print("\n".join(report.lines()))
    return EXIT_OK
