"""The build step that puts the root files the dev tools read into the wheel's `bot/dev/`.

pyproject.toml names `BuildPy` as setuptools' `build_py` command. Setuptools loads this file by
its path at build time, outside the bot package and before any dependency is installed, so it
imports nothing of ours; nothing imports it at run time (`bot.dev.project_files` reads the
copies).
"""

from __future__ import annotations

from pathlib import Path

from setuptools.command.build_py import build_py  # type: ignore[import-untyped]  # setuptools ships no types

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("app.yaml", "manifest.yaml")  # copied, so the root files stay the one source


class BuildPy(build_py):
    """`build_py`, then copies of `SHIPPED` from the repository root into `bot/dev/`."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the root's files in place
            return
        target = Path(self.build_lib, "bot", "dev")
        self.mkpath(str(target))
        for name in SHIPPED:
            self.copy_file(str(ROOT / name), str(target / name))
