"""The deployment: the Dockerfile, its entry script (run for real, outside a container), the
compose file (checked against the Compose Specification's schema: no Docker engine here) and
the licence the package ships."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from alembic.script import ScriptDirectory
from jsonschema import Draft7Validator

from bot.process.config import Settings
from storage.migrate import alembic_config

ROOT = Path(__file__).resolve().parent.parent
ENTRY_SCRIPT = ROOT / "docker-entrypoint.sh"
COMPOSE_SCHEMA = Path(__file__).parent / "compose_schema" / "compose-spec.json"
VENV_BIN = Path(sys.executable).parent  # where `cadence` is installed
# sha256 of the Apache License 2.0 as the ASF publishes it (LICENSE-2.0.txt)
APACHE_2_SHA256 = "cfc7749b96f63bd31c3c42b5c471bf756814053e847c10f3eb003417bc523d30"
PASSWORD = "s3cretForTests"


# --- the Dockerfile -----------------------------------------------------------------------


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (KEYWORD, arguments), one list per stage; continuation
    lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n\s*", " ", "\n".join(lines))
    stages: list[list[tuple[str, str]]] = []
    for line in joined.splitlines():
        if not line.strip():
            continue
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), arguments.strip()))
    return stages


def final_stage() -> list[tuple[str, str]]:
    return dockerfile_stages()[-1]


def instructions(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for key, arguments in stage if key == keyword]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The stage's ENV settings (the KEY=value form)."""
    found: dict[str, str] = {}
    for arguments in instructions(stage, "ENV"):
        for pair in arguments.split():
            name, _, value = pair.partition("=")
            found[name] = value
    return found


def test_every_stage_starts_from_a_pinned_slim_python_3_12() -> None:
    stages = dockerfile_stages()
    assert stages, "the Dockerfile has no FROM"
    for stage in stages:
        image = stage[0][1].split()[0]
        assert re.fullmatch(r"python:3\.12(\.\d+)?-slim-(bookworm|trixie)", image), image


def test_the_image_runs_as_a_fixed_non_root_uid() -> None:
    users = instructions(final_stage(), "USER")
    assert users, "the final stage never leaves root"
    user = users[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0, users[-1]  # numeric: runAsNonRoot can check it


def test_the_entry_is_the_script_serving_by_default() -> None:
    stage = final_stage()
    assert [json.loads(entry) for entry in instructions(stage, "ENTRYPOINT")] == [
        ["docker-entrypoint.sh"]
    ]
    assert [json.loads(cmd) for cmd in instructions(stage, "CMD")] == [["serve"]]
    copies = instructions(stage, "COPY")
    on_path = "--chmod=0755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh"
    assert on_path in copies, copies
    assert ENTRY_SCRIPT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert os.access(ENTRY_SCRIPT, os.X_OK)


def test_the_port_is_the_one_the_bot_listens_on_and_the_one_exposed() -> None:
    stage = final_stage()
    env = env_of(stage)
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    # .env (from .env.example) reaches the containers too: a different PORT there would make
    # the bot listen where nothing is exposed and the health check looks
    assert env["PORT"] == str(Settings.from_env({}).port) == example["PORT"]
    assert instructions(stage, "EXPOSE") == [env["PORT"]]


def test_the_final_stage_installs_only_the_builders_wheels_and_the_policy() -> None:
    stage = final_stage()
    installs = [run for run in instructions(stage, "RUN") if "pip install" in run]
    assert len(installs) == 1
    assert "--no-index" in installs[0] and "from=builder" in installs[0]
    assert "app.yaml ./" in instructions(stage, "COPY")  # CADENCE_CONFIG's default, ./app.yaml
    assert instructions(stage, "WORKDIR")


class _Health(BaseHTTPRequestHandler):
    """/healthz answering with the status and body the server was given."""

    def do_GET(self) -> None:
        status, body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(status if self.path == "/healthz" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_healthcheck(port: int) -> int:
    """Run the image's HEALTHCHECK command (this interpreter as `python`) with PORT set."""
    (check,) = instructions(final_stage(), "HEALTHCHECK")
    command = json.loads(check.split(" CMD ", 1)[1])
    assert command[0] == "python"  # the slim image has no curl
    env = {**os.environ, "PORT": str(port)}
    return subprocess.run([sys.executable, *command[1:]], env=env, capture_output=True).returncode


@pytest.mark.parametrize(
    ("status", "body", "healthy"),
    [
        (200, {"status": "ok"}, True),
        (200, {"status": "degraded", "delivery": "paused"}, True),  # a restart would not help
        (503, {"status": "database unreachable"}, False),
    ],
)
def test_the_health_check_asks_healthz_on_port(
    health_server: ThreadingHTTPServer, status: int, body: dict[str, str], healthy: bool
) -> None:
    health_server.answer = (status, body)  # type: ignore[attr-defined]
    code = run_healthcheck(health_server.server_address[1])
    assert (code == 0) is healthy, code


def test_the_health_check_fails_when_nothing_listens(health_server: ThreadingHTTPServer) -> None:
    port = health_server.server_address[1]
    health_server.shutdown()
    health_server.server_close()
    assert run_healthcheck(port) != 0


def test_secrets_and_databases_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    for pattern in (".env", "*.db", ".git", ".venv"):
        assert pattern in ignored, pattern


# --- the entry script, run for real -------------------------------------------------------


def entry_env(database_url: str) -> dict[str, str]:
    """This environment without any platform's settings, on `database_url`, with the venv's
    `cadence` first on PATH."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SLACK_", "CONNECTIONS__", "CADENCE_TEAMS_"))
        and name not in ("DATABASE_URL", "CADENCE_CONFIG", "PORT")
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DATABASE_URL"] = database_url
    return env


def run_entry(cwd: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRY_SCRIPT), *args],
        cwd=cwd,
        env=entry_env(database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )


def stored_revision(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_migrate_brings_a_new_database_to_the_newest_revision(tmp_path: Path) -> None:
    db = tmp_path / "cadence.db"

    done = run_entry(tmp_path, f"sqlite:///{db}", "migrate")

    assert done.returncode == 0, done.stderr
    assert stored_revision(db) == [head_revision()]


def test_serve_by_default_migrates_first_then_passes_on_serves_exit_code(tmp_path: Path) -> None:
    db = tmp_path / "cadence.db"

    done = run_entry(tmp_path, f"sqlite:///{db}")  # no argument: the image's CMD, serve

    assert done.returncode == 2, done.stderr  # no platform configured: serve refuses
    assert "missing SLACK_BOT_TOKEN" in done.stderr
    assert stored_revision(db) == [head_revision()]  # yet the migration had run


def test_a_failing_migration_stops_the_start_before_serve(tmp_path: Path) -> None:
    nowhere = "postgresql://cadence@127.0.0.1:1/cadence"  # port 1: refused at once

    done = run_entry(tmp_path, nowhere, "serve")

    assert done.returncode == 1
    assert "missing SLACK_BOT_TOKEN" not in done.stderr  # serve never ran


def test_other_commands_go_to_cadence_with_its_exit_code(tmp_path: Path) -> None:
    db = tmp_path / "cadence.db"

    unknown = run_entry(tmp_path, f"sqlite:///{db}", "no-such-command")

    assert unknown.returncode == 2  # argparse's usage error, not the script's
    assert "invalid choice: 'no-such-command'" in unknown.stderr
    assert not db.exists()  # only serve migrates first

    assert run_entry(tmp_path, f"sqlite:///{db}", "migrate").returncode == 0
    listed = run_entry(tmp_path, f"sqlite:///{db}", "cycle", "list")
    assert listed.returncode == 0, listed.stderr


@pytest.mark.postgres_only
def test_replicas_starting_after_the_migration_each_find_nothing_to_do(
    database_url: str, tmp_path: Path
) -> None:
    """compose.yaml migrates once before the replicas start; their own `migrate` at start
    must then succeed side by side (two running the DDL itself at once would collide)."""
    replicas = [
        subprocess.Popen(
            ["sh", str(ENTRY_SCRIPT), "migrate"],
            cwd=tmp_path,
            env=entry_env(database_url),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [replica.communicate(timeout=120) for replica in replicas]

    assert [replica.returncode for replica in replicas] == [0, 0], results
    assert all("none pending" in out for out, _ in results), results


# --- compose.yaml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def schema_errors(document: object) -> list[str]:
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return [error.message for error in Draft7Validator(schema).iter_errors(document)]


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []
    assert "version" not in compose  # obsolete in the Compose Specification


def test_the_schema_check_catches_a_misspelt_key(compose: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["bot"]["replica"] = 2
    assert schema_errors(broken)


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}` and `${NAME:?message}` (the forms compose.yaml uses)."""

    def one(match: re.Match[str]) -> str:
        name, required = match.group(1), match.group(2)
        if not env.get(name) and required is not None:
            raise KeyError(required)
        return env.get(name, "")

    return re.sub(r"\$\{(\w+)(?::\?([^}]*))?\}", one, value)


def test_two_bot_replicas_share_the_db_service_through_its_credentials(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    bot, db = services["bot"], services["db"]
    assert bot["deploy"]["replicas"] == 2
    assert "ports" not in bot  # two replicas cannot bind one host port
    assert bot["command"] == ["serve"]
    assert bot["env_file"] == ".env"
    env = {"POSTGRES_PASSWORD": PASSWORD}
    url = interpolate(bot["environment"]["DATABASE_URL"], env)
    parts = urlsplit(url)
    assert parts.hostname == "db" and parts.port == 5432
    assert parts.username == db["environment"]["POSTGRES_USER"]
    assert parts.password == interpolate(db["environment"]["POSTGRES_PASSWORD"], env) == PASSWORD
    assert parts.path == "/" + db["environment"]["POSTGRES_DB"]
    accepted = Settings.from_env({"DATABASE_URL": url}).database_url
    assert accepted.startswith("postgresql+asyncpg://cadence:")


def test_the_password_must_be_set(compose: dict[str, Any]) -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    uses = re.findall(r"\$\{POSTGRES_PASSWORD[^}]*\}", text)
    assert uses and all(use.startswith("${POSTGRES_PASSWORD:?") for use in uses), uses
    with pytest.raises(KeyError, match="set POSTGRES_PASSWORD"):
        interpolate(compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"], {})


def test_the_bots_start_on_a_healthy_migrated_database(compose: dict[str, Any]) -> None:
    services = compose["services"]
    bot, migrate = services["bot"], services["migrate"]
    assert bot["depends_on"]["db"] == {"condition": "service_healthy"}
    assert bot["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert bot["restart"] == "unless-stopped"
    assert "healthcheck" not in bot  # the image's own, on /healthz
    assert migrate["command"] == ["migrate"]
    assert migrate["depends_on"]["db"] == {"condition": "service_healthy"}
    assert migrate["restart"] == "no"
    for service in (bot, migrate):
        assert service["build"] == "."
        assert (ROOT / service["build"] / "Dockerfile").is_file()
        assert service["image"] == bot["image"]


def test_the_database_keeps_its_data_and_reports_its_health(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:16([.\d]*)?(-bookworm)?", db["image"]), db["image"]
    volume, _, target = db["volumes"][0].partition(":")
    assert target == "/var/lib/postgresql/data"
    assert volume in compose["volumes"]  # a named volume, not the container's own layer
    assert "pg_isready" in db["healthcheck"]["test"]
    assert db["restart"] == "unless-stopped"


# --- the licence ----------------------------------------------------------------------------


def test_the_licence_is_the_apache_2_0_text_pyproject_names() -> None:
    licence = (ROOT / "LICENSE").read_bytes()
    assert b"Apache License\n                           Version 2.0, January 2004" in licence
    assert hashlib.sha256(licence).hexdigest() == APACHE_2_SHA256  # word for word
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
