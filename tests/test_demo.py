"""`python -m bot demo`: a simulated quarter offline, with no Slack workspace and no settings."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, time
from pathlib import Path

import pytest

from bot.dev.project_files import shipped_policy, slack_manifest
from bot.org.policy import load_policy
from bot.process.cli import main

ROOT = Path(__file__).resolve().parent.parent
# 2026-10-05 Mon 10:00 CST  Mia Chen     check-in   Time for a check-in with Eli Wang
LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{2}:\d{2}) ([A-Z]{3,4}) ")
KINDS = (
    "check-in",
    "heads-up",
    "goal clarification",
    "action due",
    "overdue",
    "milestone retrospective",
    "self-assessment",
    "prep pack",
)


def _bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in ("DATABASE_URL", "CADENCE_CONFIG"):
            monkeypatch.delenv(name)


def test_demo_runs_a_quarter_and_prints_a_timeline_in_local_working_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _bare_environment(monkeypatch)

    assert main(["demo", "--database", str(tmp_path / "demo.db")]) == 0

    out = capsys.readouterr().out
    timeline = [line for line in out.splitlines() if LINE.match(line)]
    assert len(timeline) > 50
    kinds = {line[47:73].strip() for line in timeline}  # the fixed-width kind column
    platforms = {line[27:32].strip() for line in timeline}
    assert platforms == {"Slack", "Teams"}  # a company mid-migration: both in one timeline
    assert any("Teams  Zhou Min" in line and "check-in (firm)" in line for line in timeline)
    for kind in KINDS:
        assert any(kind in label for label in kinds), (kind, kinds)
    assert any("check-in (firm)" in line for line in timeline)  # the pair that never talks
    assert any("Time for a check-in with" in line for line in timeline)  # English
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in timeline)  # and Chinese
    hours = load_policy(ROOT / "app.yaml").working_hours
    for line in timeline:
        day, _weekday, clock, _zone = LINE.match(line).groups()  # type: ignore[union-attr]
        assert date.fromisoformat(day).weekday() < 5, line
        assert hours.start <= time.fromisoformat(clock) < hours.end, line
    assert re.search(r"^Talks recorded: \d+", out, re.M)
    assert "Mia Chen → Eli Wang" in out and "[done]" in out
    assert "Summary: " in out and "because the talk happened" in out
    assert "Connecting a Slack workspace" in out and "python -m bot serve" in out
    assert "Connecting Microsoft Teams" in out
    assert (tmp_path / "demo.db").is_file()


def test_python_m_bot_demo_needs_no_configuration(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.pop("DATABASE_URL", None)
    env.pop("CADENCE_CONFIG", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cadence-demo.db").is_file()
    assert "Timeline:" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_checkout_runs_the_demo_on_the_root_files_themselves() -> None:
    assert shipped_policy() == ROOT / "app.yaml"
    assert slack_manifest() == ROOT / "manifest.yaml"


def test_an_installed_copy_finds_the_root_files_in_its_package(tmp_path: Path) -> None:
    """The wheel's build step, run into a folder laid out as site-packages, and the lookup there:
    the demo's policy and the stand-in's manifest come from the package, not a checkout."""
    import setuptools  # a dev dependency: Python 3.12's venvs come without it

    from bot.dev.wheel_files import SHIPPED, BuildPy

    site = tmp_path / "site-packages"
    dist = setuptools.Distribution(
        {"name": "cadence", "packages": ["bot", "bot.dev"], "package_dir": {"": str(ROOT)}}
    )
    dist.script_name = str(ROOT / "setup.py")  # build_py leaves the setup script out; none here
    build = BuildPy(dist)
    build.build_lib = str(site)
    build.ensure_finalized()
    build.run()

    for name in SHIPPED:
        assert (site / "bot" / "dev" / name).read_bytes() == (ROOT / name).read_bytes()
    (tmp_path / "elsewhere").mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-S",  # no site-packages: only the built folder holds bot
            "-c",
            "from bot.dev.project_files import shipped_policy, slack_manifest\n"
            "print(shipped_policy()); print(slack_manifest())",
        ],
        cwd=tmp_path / "elsewhere",
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        str(site / "bot" / "dev" / "app.yaml"),
        str(site / "bot" / "dev" / "manifest.yaml"),
    ]
