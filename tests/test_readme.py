"""The README's commands work as written: each one it shows is the installed `cadence` command
(never `python -m bot`, which fails outside an activated venv) and parses as the command line
would, with its placeholders filled in."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.process.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# What each placeholder stands for in a command a reader would type.
FILLED = {
    "PERSON": "U0EMP",
    "FILE.csv": "org.csv",
    "DATE": "2026-12-01",
    "NUMBER": "1",
    "ISO-8601": "2026-12-07T02:00Z",
    "PATH": "out.json",
    "N": "5",
    "NAME": "FY2027",
    "URL": "https://cadence.example.com",
}


def shown_commands() -> list[str]:
    """Every command the README shows: the lines of its shell blocks, and inline code, that
    run `cadence` (flattened over line breaks)."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL):
        found += [line.split(" # ")[0].strip() for line in block.splitlines()]
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    found += [" ".join(code.split()) for code in re.findall(r"`([^`]+)`", prose)]
    return [c for c in found if re.search(r"(^|[ (])(\.venv/bin/)?cadence [a-z-]", c)]


def test_the_readme_never_shows_a_command_that_needs_an_activated_venv():
    assert "python -m bot" not in README
    assert ".venv/bin/cadence demo" in README  # the quick start's run command


@pytest.mark.parametrize("command", sorted(set(shown_commands())))
def test_each_command_the_readme_shows_parses_as_written(command):
    inner = re.search(r"\$\(([^)]*)\)", command)  # a command substitution: the command inside
    required = re.sub(r"\[[^\]]*\]", "", inner.group(1) if inner else command)  # usage: [opt]
    words = shlex.split(required)
    start = next(i for i, w in enumerate(words) if w.endswith("cadence")) + 1
    args = []
    for word in words[start:]:
        if word in ("|", ">>", ">", "&&", ";"):
            break
        args.append(FILLED.get(word, word))
    args = [a.split("|")[0] for a in args]  # usage: `md|json` takes the first
    try:
        parsed = build_parser().parse_args(args)
    except SystemExit as exit_:
        assert exit_.code == 0, f"{command!r} does not parse"  # only --help and --version
        return
    assert parsed.command in args
