"""`retention --dry-run|--apply`: what app.yaml's `retention` no longer keeps, counted or
deleted now (the bot does it daily at `retention.hour`)."""

from __future__ import annotations

import argparse

from bot.clock import system_clock
from bot.privacy import access
from bot.privacy.retention import retention
from bot.process.config import Settings
from bot.process.operator import (
    EXIT_CONFIG,
    EXIT_OK,
    operator_reader,
    policy_or_report,
    with_engine,
)


async def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    """Count (--dry-run) or delete (--apply) what is past its time."""
    policy = policy_or_report(settings)
    if policy is None:
        return EXIT_CONFIG
    engine = await with_engine(settings)
    try:
        report = await retention(
            engine,
            policy=policy,
            now=args.now or system_clock(),
            apply=args.apply,
            reader=operator_reader(),
            platform=access.CLI,
        )
    finally:
        await engine.dispose()
    print("\n".join(report.lines()))
    return EXIT_OK
