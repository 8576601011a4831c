"""`python -m bot`: settings, the refusal to start without secrets, and a real `serve` process."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from alembic.script import ScriptDirectory
from slack_sdk.signature import SignatureVerifier
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from bot.dev.slack_standin import SlackStandIn
from bot.dev.teams_standin import TeamsStandIn
from bot.process.cli import EXIT_CONFIG, main
from bot.process.config import ConfigError, Settings
from storage.migrate import alembic_config
from tests.teams_fixtures import CLIENT_ID, teams_env

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = ("serve", "migrate", "import-org", "export")
SIGNING_SECRET = "serve-test-signing-secret"
START_TIMEOUT = 20.0


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _child_env(**extra: str) -> dict[str, str]:
    """The test's environment without any Slack or Cadence settings, plus `extra`."""
    own = {"DATABASE_URL", "PORT", "CADENCE_CONFIG", "TEST_DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if not _platform_setting(k) and k not in own}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def _platform_setting(name: str) -> bool:
    return name.startswith(("SLACK_", "CONNECTIONS__", "CADENCE_TEAMS_"))


def _run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=_child_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _signed(body: str, *, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


# --- settings from the environment ------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://user@host/db", "postgresql+asyncpg://user@host/db"),
        ("postgres://user:pw@host:5433/db", "postgresql+asyncpg://user:pw@host:5433/db"),
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("sqlite:////abs/path/x.db", "sqlite+aiosqlite:////abs/path/x.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_url_is_turned_into_its_async_form(given: str, expected: str) -> None:
    assert Settings.from_env({"DATABASE_URL": given}).database_url == expected


def test_defaults_are_a_sqlite_file_port_3000_http_mode_and_app_yaml() -> None:
    settings = Settings.from_env({})

    assert re.fullmatch(r"sqlite\+aiosqlite:///[^/:]+\.db", settings.database_url)
    assert settings.port == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.config_path == Path("app.yaml")
    assert settings.socket_mode is False


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env({"PORT": "", "DATABASE_URL": "", "SLACK_BOT_TOKEN": ""})

    assert settings.port == 3000
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.slack_bot_token is None


def test_port_is_read_as_a_number() -> None:
    assert Settings.from_env({"PORT": "8080"}).port == 8080


def test_port_that_is_not_a_number_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"PORT must be a number, got 'eighty'"):
        Settings.from_env({"PORT": "eighty"})


def test_database_url_that_is_not_a_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^DATABASE_URL must be a URL such as sqlite:///"):
        Settings.from_env({"DATABASE_URL": "cadence.db"})


@pytest.mark.parametrize(
    "given", ["http://127.0.0.1:9999/api", "http://127.0.0.1:9999/api/"], ids=["bare", "slashed"]
)
def test_slack_api_url_ends_with_one_slash(given: str) -> None:
    assert Settings.from_env({"SLACK_API_URL": given}).slack_api_url == "http://127.0.0.1:9999/api/"


# --- serve refuses to start without its secrets ----------------------------------------------


@pytest.fixture
def bare_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Slack settings, a throwaway database, and no stray .env."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if _platform_setting(name) or name in {"PORT", "CADENCE_CONFIG"}:
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cadence.db'}")
    return tmp_path


def test_serve_without_slack_secrets_exits_2_with_one_message_naming_both(
    bare_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["serve"])

    err = capsys.readouterr().err
    assert code == EXIT_CONFIG == 2
    assert err.count("error:") == 1
    assert err.startswith("error: missing SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET.")
    assert "manifest.yaml" in err
    assert "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID" in err  # or Teams
    assert "Traceback" not in err
    assert not (bare_env / "cadence.db").exists()


def test_serve_in_socket_mode_asks_only_for_the_bot_token(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")

    code = main(["serve"])

    err = capsys.readouterr().err
    assert code == 2
    missing = err.split(".", 1)[0]
    assert missing == "error: missing SLACK_BOT_TOKEN"
    assert "manifest.yaml" in err


def test_serve_with_only_the_bot_token_asks_for_the_signing_secret(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")

    code = main(["serve"])

    assert code == 2
    assert capsys.readouterr().err.split(".", 1)[0] == "error: missing SLACK_SIGNING_SECRET"


def test_bad_port_stops_any_command_with_exit_2(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PORT", "eighty")

    code = main(["migrate"])

    assert code == 2
    assert capsys.readouterr().err == "error: PORT must be a number, got 'eighty'\n"


def test_bad_database_url_stops_any_command_with_exit_2(
    bare_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "cadence.db")

    code = main(["migrate"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and "DATABASE_URL" in err
    assert "Traceback" not in err


# --- a real `python -m bot serve` process -----------------------------------------------------


@dataclass
class Served:
    """A running `python -m bot serve`."""

    url: str
    db: Path
    proc: subprocess.Popen[bytes]
    log_path: Path


@pytest.fixture
def served(tmp_path: Path, slack: SlackStandIn) -> Iterator[Served]:
    """`python -m bot serve` in HTTP mode on a new, empty SQLite file."""
    db = tmp_path / "fresh.db"
    port = _free_port()
    env = _child_env(
        DATABASE_URL=f"sqlite:///{db}",
        PORT=str(port),
        CADENCE_CONFIG=str(ROOT / "app.yaml"),
        SLACK_API_URL=slack.base_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
    )
    served = _start_serve(tmp_path, env, db, port)
    try:
        _wait_healthy(served)
        yield served
    finally:
        _stop(served.proc)


def _start_serve(tmp_path: Path, env: dict[str, str], db: Path, port: int) -> Served:
    """`python -m bot serve` started in `tmp_path`, its output in serve.log."""
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return Served(f"http://127.0.0.1:{port}", db, proc, log_path)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _wait_healthy(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    last: object = None
    while time.monotonic() < deadline:
        if served.proc.poll() is not None:
            log = served.log_path.read_text()
            pytest.fail(f"serve exited with {served.proc.returncode}:\n{log}")
        try:
            response = httpx.get(f"{served.url}/healthz", timeout=1)
        except httpx.TransportError as exc:
            last = exc
        else:
            if response.status_code == 200:
                assert response.json() == {"status": "ok"}
                return
            last = response
        time.sleep(0.1)
    log = served.log_path.read_text()
    pytest.fail(f"/healthz not ready after {START_TIMEOUT}s ({last!r}):\n{log}")


def test_served_process_verifies_slack_signatures_and_answers_url_verification(
    served: Served,
) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"})
    with httpx.Client(base_url=served.url, timeout=5) as http:
        health = http.get("/healthz")
        forged = http.post(
            "/slack/events",
            content=body,
            headers={**_signed(body), "X-Slack-Signature": "v0=" + "0" * 64},
        )
        stale = http.post(
            "/slack/events", content=body, headers=_signed(body, timestamp=int(time.time()) - 600)
        )
        unsigned = http.post(
            "/slack/events", content=body, headers={"Content-Type": "application/json"}
        )
        genuine = http.post("/slack/events", content=body, headers=_signed(body))

    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert forged.status_code == 401
    assert stale.status_code == 401
    assert unsigned.status_code == 401
    assert "abc" not in forged.text + stale.text + unsigned.text
    assert genuine.status_code == 200
    assert genuine.json() == {"challenge": "abc"}


def test_served_process_applies_pending_migrations_to_a_new_database(served: Served) -> None:
    conn = sqlite3.connect(served.db)
    try:
        versions = [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()

    assert versions == [_head()]
    assert set(SQLModel.metadata.tables) <= tables


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_served_process_stops_cleanly_on_a_signal_and_frees_its_port(
    served: Served, stop: signal.Signals
) -> None:
    served.proc.send_signal(stop)
    code = served.proc.wait(timeout=10)

    log = served.log_path.read_text()
    assert code == 0, log
    assert "Traceback" not in log
    assert "Finished server process" in log
    # library chatter is at DEBUG, and a warning the product would cause itself is fixed
    assert "alembic" not in log and "will be unused" not in log and "WARNING" not in log
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.url}/healthz", timeout=1)


def test_serve_with_only_teams_variables_checks_every_token_and_needs_no_slack(
    tmp_path: Path, teams: TeamsStandIn
) -> None:
    db, port = tmp_path / "teams.db", _free_port()
    env = _child_env(
        PORT=str(port), CADENCE_CONFIG=str(ROOT / "app.yaml"), **teams_env(teams, f"sqlite:///{db}")
    )
    served = _start_serve(tmp_path, env, db, port)
    try:
        _wait_healthy(served)
        activity = {
            "type": "installationUpdate",
            "action": "add",
            "id": "f:1",
            "serviceUrl": teams.service_url,
            "channelId": "msteams",
            "from": {"id": "29:someone", "aadObjectId": "00000000-0000-4000-8000-0000000000aa"},
            "conversation": {"id": teams.install("29:someone"), "conversationType": "personal"},
            "recipient": {"id": "28:cadence"},
        }
        with httpx.Client(base_url=served.url, timeout=10) as http:
            unsigned = http.post("/api/messages", json=activity)
            expired = http.post(
                "/api/messages",
                json=activity,
                headers={"Authorization": f"Bearer {teams.token_for(CLIENT_ID, expires_in=-900)}"},
            )
            signed = http.post(
                "/api/messages",
                json=activity,
                headers={"Authorization": f"Bearer {teams.token_for(CLIENT_ID)}"},
            )
            slack = http.post("/slack/events", content="{}")
    finally:
        _stop(served.proc)
    log = served.log_path.read_text()
    assert (unsigned.status_code, expired.status_code, signed.status_code) == (401, 401, 200)
    assert slack.status_code == 404  # Slack is not configured: no Slack route at all
    assert "listening for Teams" in log and "never set it in production" in log
    assert "Traceback" not in log
    assert teams.token_for(CLIENT_ID) not in log


# --- the command line's help and `migrate` ----------------------------------------------------


def test_top_level_help_lists_every_command(tmp_path: Path) -> None:
    result = _run_cli("--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: cadence")
    for command in COMMANDS:
        assert re.search(rf"^\s+{re.escape(command)}\s+\S", result.stdout, re.MULTILINE), command


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_its_own_help(tmp_path: Path, command: str) -> None:
    result = _run_cli(command, "--help", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: cadence {command}")
    assert result.stderr == ""


def test_no_command_is_a_usage_error(tmp_path: Path) -> None:
    result = _run_cli(cwd=tmp_path)

    assert result.returncode == 2
    assert "usage: cadence" in result.stderr


def test_migrate_applies_pending_migrations_then_finds_none(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"

    first = _run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    second = _run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)

    assert first.returncode == 0, first.stderr
    applied = re.search(r"applied (\d+) migration\(s\): (.+)", first.stdout)
    assert applied, first.stdout
    assert int(applied.group(1)) >= 1
    assert applied.group(2).split(", ")[-1] == _head()
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "applied 0 migration(s): none pending"


def test_a_refused_stale_submission_leaves_nothing_typed_and_no_token_in_the_process_log(
    served: Served,
) -> None:
    marker = "MARKER5e1d"
    payload = {
        "type": "view_submission",
        "token": f"{marker}-legacy-token",
        "team": {"id": "T0001"},
        "user": {"id": "U0MGR"},
        "api_app_id": "A0CADENCE",
        "view": {
            "id": "V1",
            "callback_id": "record_talk",
            "private_metadata": json.dumps({"e": "U0EMP"}),
            "state": {
                "values": {
                    "facts": {"value": {"type": "plain_text_input", "value": f"{marker} facts"}},
                    "private_note": {
                        "value": {"type": "plain_text_input", "value": f"{marker} private"}
                    },
                }
            },
        },
    }
    body = "payload=" + urllib.parse.quote(json.dumps(payload))
    stale = _signed(body, timestamp=int(time.time()) - 600)
    stale["Content-Type"] = "application/x-www-form-urlencoded"
    with httpx.Client(base_url=served.url, timeout=5) as http:
        refused = http.post("/slack/events", content=body, headers=stale)
        oversized = http.post(
            "/slack/events", content=body + marker * 200_000, headers=stale
        )  # over 1 MiB

    _stop(served.proc)
    log = served.log_path.read_text()
    assert (refused.status_code, oversized.status_code) == (401, 413)
    assert "refused a request with 401" in log and "refused a request with 413" in log
    assert marker not in log


def test_every_command_runs_with_only_teams_configured(tmp_path: Path, teams: TeamsStandIn) -> None:
    env = teams_env(teams, f"sqlite:///{tmp_path / 'teams.db'}")
    env["CADENCE_CONFIG"] = str(ROOT / "app.yaml")
    org = tmp_path / "org.csv"
    org.write_text(
        "teams_id,email,name,manager,timezone,locale,hr\n"
        "00000000-0000-4000-8000-000000000001,ann@example.com,Ann,,Asia/Shanghai,en,true\n",
        encoding="utf-8",
    )

    runs = {
        "import-org": _run_cli("import-org", str(org), cwd=tmp_path, **env),
        "tick": _run_cli("tick", "--now", "2026-11-27T02:00Z", cwd=tmp_path, **env),
        "nudges": _run_cli("nudges", cwd=tmp_path, **env),
        "coverage": _run_cli("coverage", cwd=tmp_path, **env),
        "export": _run_cli("export", "--format", "json", cwd=tmp_path, **env),
    }

    for command, run in runs.items():
        assert run.returncode == 0, (command, run.stderr)
        assert "SLACK_" not in run.stderr, command
    assert "tick at 2026-11-27T02:00:00+00:00" in runs["tick"].stdout
