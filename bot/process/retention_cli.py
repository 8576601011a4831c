"""`retention --dry-run|--apply` (to be written)."""

from __future__ import annotations

import argparse

from bot.process.config import Settings


async def cmd_retention(args: argparse.Namespace, settings: Settings) -> int:
    raise NotImplementedError
