"""What the demo ends with: the org file as a template, how to connect a real workspace, and
the commands that explore the demo's database, each written to work as typed in the folder
the demo ran in."""

from __future__ import annotations

import shlex
import shutil
import sys
from datetime import date
from pathlib import Path

from bot.dev.project_files import shipped_policy
from storage import sealing


def _as_typed(program: Path, cwd: Path) -> str:
    """`program` as a shell finds it from `cwd`: relative under it (with a slash, so the
    shell does not search PATH), else absolute."""
    if program.is_relative_to(cwd):
        relative = program.relative_to(cwd).as_posix()
        return relative if "/" in relative else f"./{relative}"
    return str(program)


def cadence_command(
    executable: str | None = None, *, cwd: Path | None = None, path: str | None = None
) -> str:
    """The command that runs this installation's `cadence` from `cwd`, as typed: `cadence`
    when PATH (`path`, default the environment's) finds the script beside `executable`
    (default this Python), else that script's path, else `<python> -m bot`."""
    python = Path(executable or sys.executable)
    here = Path.cwd() if cwd is None else cwd
    script = python.parent / "cadence"
    if script.is_file():
        found = shutil.which("cadence", path=path)
        if found is not None and Path(found).resolve() == script.resolve():
            return "cadence"
        return shlex.quote(_as_typed(script, here))
    return f"{shlex.quote(_as_typed(python, here))} -m bot"


def _policy_setting(cwd: Path) -> str:
    """`CADENCE_CONFIG=…` naming the shipped policy the demo ran under, unless the commands
    would read that same policy from `./app.yaml` anyway."""
    shipped, local = shipped_policy(), cwd / "app.yaml"
    if local.is_file() and local.read_bytes() == shipped.read_bytes():
        return ""
    return f"CADENCE_CONFIG={shlex.quote(_as_typed(shipped.absolute(), cwd))} "


def explore_commands(database: Path, *, data_key: str, end: date, cwd: Path) -> list[str]:
    """`coverage`, `prep-pack` and `export` on the demo's database at the quarter's last day
    (noon UTC: that day in every zone of the demo), with what they need set on the line."""
    url = shlex.quote(f"sqlite:///{database}")
    env = f"DATABASE_URL={url} {_policy_setting(cwd)}{sealing.ENV}={shlex.quote(data_key)}"
    cadence, now = cadence_command(cwd=cwd), f"{end.isoformat()}T12:00Z"
    return [
        f"{env} {cadence} coverage --now {now}",
        f"{env} {cadence} prep-pack --manager U0MIA --now {now}",  # Mia Chen, in demo_org
        f"{env} {cadence} export --format csv",
    ]


def closing_lines(database: Path, org_csv: Path, *, data_key: str, end: date) -> list[str]:
    """The demo's last words: its org file as a template, how to connect a real workspace,
    and the exact commands that explore its database."""
    cwd = Path.cwd()
    cadence = cadence_command(cwd=cwd)
    return [
        "",
        f"{org_csv} is a template for a real org file: its columns are the ones",
        f"`{cadence} import-org` reads. To connect a real workspace: follow README.md,",
        "'Connecting a Slack workspace' or 'Connecting Microsoft Teams' (or both), then",
        "  cp .env.example .env        # and fill in the Slack tokens, the Teams app, or both",
        f'  echo "{sealing.ENV}=$({cadence} keygen)" >> .env   # encrypts notes, ratings',
        f"  {cadence} import-org your-org.csv",
        f"  {cadence} serve",
        "",
        f"To explore this demo's database as the quarter ends ({end}): its ratings and comments",
        "are encrypted under a key made for it alone, which each line gives (never use it for",
        "real records):",
        *(f"  {line}" for line in explore_commands(database, data_key=data_key, end=end, cwd=cwd)),
    ]
