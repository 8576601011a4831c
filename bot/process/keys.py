"""`rotate-key`: the data key of storage.sealing (README "Protected at rest")."""

from __future__ import annotations

import argparse

from bot.process.config import Settings
from bot.process.operator import EXIT_OK, database
from storage import sealing


async def cmd_rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    """Re-encrypt every protected value under the first key of CADENCE_DATA_KEY."""
    async with database(settings) as engine:  # refuses unless one of the keys opens the data
        counts = await sealing.rotate(engine)
    for column, count in counts.items():
        print(f"{count:>8}  {column}")
    keys = sealing.keyring()
    if keys.count < 2:
        print(
            f"note: {sealing.ENV} holds one key, so nothing changed key; to rotate, set it to"
            " NEW,OLD and run this again"
        )
    else:
        print(f"done: every value is now sealed with the first key; set {sealing.ENV} to it alone")
    return EXIT_OK
