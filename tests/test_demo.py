"""`cadence demo`: a simulated quarter offline, with no Slack workspace and no settings; its
review cycle printed after the timeline, and the commands it ends with working as printed."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import pytest

from bot.dev.demo_ending import cadence_command
from bot.dev.demo_org import DISAGREEMENTS
from bot.dev.project_files import shipped_policy, slack_manifest
from bot.org.policy import load_policy
from bot.process.cli import main
from prompts import t
from storage import sealing

ROOT = Path(__file__).resolve().parent.parent
# 2026-10-05 Mon 10:00 CST  Mia Chen     check-in   Time for a check-in with Eli Wang
LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (Mon|Tue|Wed|Thu|Fri|Sat|Sun) (\d{2}:\d{2}) ([A-Z]{3,4}) ")
# 2026-10-09 Fri  check-in            Mia Chen → Eli Wang         Profiling the checkout found…
TALK = re.compile(r"^\d{4}-\d{2}-\d{2} \w{3}  (.{19}) (.{27}) (.+)$")
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
# the review cycle's notices go out at once, whatever the hour, as a record's notices do
NOTICES = (
    "self-assessment received",
    "review record",
    "review saved",
    "review acknowledged",
    "review disagreement",
)
PREP_PACK_SECTIONS = (
    "agenda", "timeline", "self", "facts", "consensus", "actions", "goals", "share", "questions",
    "checklist",
)  # fmt: skip
SETTINGS = ("DATABASE_URL", "CADENCE_CONFIG", sealing.ENV)


def _bare_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in ("DATABASE_URL", "CADENCE_CONFIG"):
            monkeypatch.delenv(name)


def test_demo_runs_a_quarter_and_prints_a_timeline_in_local_working_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _bare_environment(monkeypatch)
    keys_before = sealing.installed()

    assert main(["demo", "--database", str(tmp_path / "demo.db")]) == 0

    # the demo's own key is gone with it: the process's key (the environment's) is back
    keys_after = sealing.installed()
    assert keys_before is not None and keys_after is not None
    assert keys_after.open(keys_before.seal("sealed before the demo")) == "sealed before the demo"
    out = capsys.readouterr().out
    timeline = [line for line in out.splitlines() if LINE.match(line)]
    assert len(timeline) > 50
    kinds = {line[47:73].strip() for line in timeline}  # the fixed-width kind column
    platforms = {line[27:32].strip() for line in timeline}
    assert platforms == {"Slack", "Teams"}  # a company mid-migration: both in one timeline
    assert any("Teams  Zhou Min" in line and "check-in (firm)" in line for line in timeline)
    for kind in KINDS + NOTICES:
        assert any(kind in label for label in kinds), (kind, kinds)
    assert any("check-in (firm)" in line for line in timeline)  # the pair that never talks
    assert any("Time for a check-in with" in line for line in timeline)  # English
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in timeline)  # and Chinese
    hours = load_policy(ROOT / "app.yaml").working_hours
    for line in timeline:
        if line[47:73].strip() in NOTICES:
            continue
        day, _weekday, clock, _zone = LINE.match(line).groups()  # type: ignore[union-attr]
        assert date.fromisoformat(day).weekday() < 5, line
        assert hours.start <= time.fromisoformat(clock) < hours.end, line
    assert re.search(r"^Talks recorded: \d+", out, re.M)
    assert "Mia Chen → Eli Wang" in out and "[done]" in out
    assert "Summary: " in out and "because the talk happened" in out
    assert "Connecting a Slack workspace" in out and "Connecting Microsoft Teams" in out
    assert f"  {cadence_command()} serve" in out and "python -m bot serve" not in out
    assert (tmp_path / "demo.db").is_file()


def test_python_m_bot_demo_needs_no_configuration(demo: Demo) -> None:
    assert (demo.folder / "cadence-demo.db").is_file()
    assert (demo.folder / "cadence-demo-org.csv").is_file()  # next to the database
    assert "Timeline:" in demo.out


def test_every_talk_of_the_quarter_has_its_own_facts(demo: Demo) -> None:
    talks = [TALK.match(line) for line in demo.out.splitlines()]
    facts = [(m[2].split(" → ")[1].strip(), m[3]) for m in talks if m]
    assert len(facts) > 15
    assert len({text for _who, text in facts}) == len(facts), facts  # no two alike
    people = {who for who, _text in facts}
    assert {"Eli Wang", "Jonas Weber", "Ann Lee", "Li Na", "Emma Schulz"} <= people
    chinese = {who for who, text in facts if re.search(r"[\u4e00-\u9fff]", text)}
    assert chinese == {"Li Na"}  # the one pair that speaks Chinese writes in Chinese


def test_the_review_cycle_is_printed_after_the_timeline(demo: Demo) -> None:
    out = demo.out

    cycle = out[out.index("\nReview cycle ") : out.index("\nSummary: ")]
    assert out.index("\nTimeline: ") < out.index("\nReview cycle ")
    assert "Prep pack: Mia Chen's for Eli Wang's interview" in cycle  # her language: English
    assert "# Prep pack: Eli Wang, " in cycle
    for section in PREP_PACK_SECTIONS:
        assert f"\n## {t(f'prep.{section}', 'en')}\n" in cycle, section
    assert "Self rating: 4 (Exceeds expectations)" in cycle  # Eli's, in the pack
    assert "Self-assessment: Li Na, submitted" in cycle and "最自豪的: " in cycle
    assert "Review interview: Mia Chen with Eli Wang, held " in cycle
    assert "✅ Acknowledged by Eli Wang on " in cycle
    assert "Disagreement: Emma Schulz on the review Zhou Min recorded" in cycle
    assert DISAGREEMENTS["U0EMMA"] in cycle
    assert "Sent at once to Hana Berg (HR, Slack), Zhou Min (manager, Teams)" in cycle


def test_the_org_file_is_a_template_that_import_org_reads(demo: Demo) -> None:
    assert "cadence-demo-org.csv is a template for a real org file" in demo.out
    imported = _run(
        f"DATABASE_URL=sqlite:///fresh.db {demo.config} {demo.cadence} import-org --dry-run"
        " cadence-demo-org.csv",
        demo.folder,
    )
    assert imported.returncode == 0, imported.stderr
    assert "9 to create" in imported.stdout


def test_the_commands_it_ends_with_work_as_printed(demo: Demo) -> None:
    ending = demo.out[demo.out.index("To explore this demo's database") :].splitlines()
    commands = [line.strip() for line in ending if line.startswith("  ")]
    assert [c.split(" --")[0].split()[-1] for c in commands] == [
        "coverage",
        "prep-pack",
        "export",
    ]
    now = "--now 2026-12-31T12:00Z"  # the simulated quarter's last day
    for command in commands:
        assert command.startswith("DATABASE_URL=sqlite:///cadence-demo.db "), command
        assert f" {demo.cadence} " in command
    coverage, prep_pack, export = (_run(c, demo.folder) for c in commands)
    assert commands[0].endswith(f"coverage {now}")
    assert coverage.returncode == 0, coverage.stderr
    assert "coverage on 2026-12-31" in coverage.stdout
    assert re.search(r"escalated +Zhou Min +Noah Brooks +never", coverage.stdout)
    assert commands[1].endswith(f"prep-pack --manager U0MIA {now}")
    assert prep_pack.returncode == 0, prep_pack.stderr
    assert prep_pack.stdout.count("# Prep pack: ") == 3  # Mia Chen's three reports
    assert "## Self-assessment" in prep_pack.stdout
    assert export.returncode == 0, export.stderr
    assert export.stdout.startswith("id,kind,family,")
    assert "Checkout p95 from 520 to 310 ms" in export.stdout  # the review: HR reads it
    # the key on the line is what opens the ratings: without it the same command refuses
    keyless = " ".join(w for w in shlex.split(commands[0]) if not w.startswith(sealing.ENV))
    refused = _run(keyless, demo.folder)
    assert refused.returncode == 2 and f"{sealing.ENV} is not set" in refused.stderr


@dataclass(frozen=True)
class Demo:
    folder: Path
    out: str
    cadence: str  # how `cadence` is typed there
    config: str  # the `CADENCE_CONFIG=…` its commands carry (no app.yaml in the folder)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo run once, as a new user runs it: in an empty folder, as `python -m bot demo`
    with no configuration (the suite's data key left set: the demo must not use it)."""
    folder = tmp_path_factory.mktemp("demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.pop("DATABASE_URL", None)
    env.pop("CADENCE_CONFIG", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    line = next(x for x in done.stdout.splitlines() if " coverage --now " in x)
    config = next(w for w in shlex.split(line) if w.startswith("CADENCE_CONFIG="))
    cadence = cadence_command(sys.executable, cwd=folder, path=env.get("PATH"))
    return Demo(folder, done.stdout, cadence, config)


def _run(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """A printed command line as a shell runs it: its `NAME=value` words set the environment
    (which has none of the settings otherwise), the rest is the command."""
    words = shlex.split(line)
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS and not k.startswith("SLACK_")}
    while words and re.match(r"^[A-Z_]+=", words[0]):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    return subprocess.run(words, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_cadence_command_is_written_as_it_runs_from_where_the_demo_ran(
    tmp_path: Path,
) -> None:
    python = _executable(tmp_path / "venv" / "bin" / "python")
    nowhere = str(tmp_path / "empty")
    (tmp_path / "empty").mkdir()
    other = _executable(tmp_path / "other" / "cadence").parent
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    # no cadence script beside this Python: the module, through this Python
    assert cadence_command(str(python), cwd=tmp_path, path=nowhere) == "venv/bin/python -m bot"
    _executable(python.parent / "cadence")
    # PATH finds this very script: its name is enough
    assert cadence_command(str(python), cwd=tmp_path, path=str(python.parent)) == "cadence"
    # PATH finds none, or another installation's: the script's own path
    assert cadence_command(str(python), cwd=tmp_path, path=nowhere) == "venv/bin/cadence"
    path = os.pathsep.join([str(other), str(python.parent)])
    assert cadence_command(str(python), cwd=tmp_path, path=path) == "venv/bin/cadence"
    # not under the folder: absolute; in the script's own folder: ./ so no PATH search
    absolute = str(python.parent / "cadence")
    assert cadence_command(str(python), cwd=elsewhere, path=nowhere) == absolute
    assert cadence_command(str(python), cwd=python.parent, path=nowhere) == "./cadence"


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
