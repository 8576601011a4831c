"""`keygen` and `rotate-key`: the data key of storage.sealing."""

from __future__ import annotations

import argparse

from bot.process.config import Settings
from storage import sealing


async def cmd_keygen(args: argparse.Namespace, settings: Settings) -> int:
    """Print a new data key."""
    print(sealing.new_key())
    return 0


async def cmd_rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every protected value under the first key (to be written)."""
    raise NotImplementedError
