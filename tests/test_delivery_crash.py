"""Real processes killed with SIGKILL while Slack answers slowly: after a restart (or the next
pass), every message owed goes out exactly once: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bot.dev.slack_standin import SlackStandIn
from bot.engine.outbox import NudgeSpec, enqueue
from storage.db import session_scope
from storage.models import Nudge
from tests.factories import add_people, key, opened_view, seed_org, view_submission

ROOT = Path(__file__).resolve().parent.parent
SECRET = "crash-test-signing-secret"
START_TIMEOUT = 30.0
FRI_10_SHANGHAI = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
RECORD = {
    "facts": "Closed the quarter's escalations.",
    "consensus": "Keep the on-call rota as it is.",
    "action_1_text": "Write the rota down",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}


def _env(database_url: str, slack: SlackStandIn, config: Path, **extra: str) -> dict[str, str]:
    own = {"DATABASE_URL", "PORT", "CADENCE_CONFIG", "TEST_DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_") and k not in own}
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        DATABASE_URL=database_url,
        CADENCE_CONFIG=str(config),
        SLACK_API_URL=slack.base_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_SIGNING_SECRET=SECRET,
        **extra,
    )
    return env


@pytest.fixture
def quick_policy(tmp_path: Path) -> Path:
    """app.yaml with a two-second lease and a dispatcher every second (the defaults are 30 s
    and 20 s: a crash is recovered within a minute). The lease outlasts Slack's slowest answer
    here (1 s), as 30 s outlasts a real one."""
    policy = yaml.safe_load((ROOT / "app.yaml").read_text(encoding="utf-8"))
    policy["delivery"].update(lease_seconds=2, dispatch_every_seconds=1)
    path = tmp_path / "app.yaml"
    path.write_text(yaml.safe_dump(policy, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Serve:
    """`python -m bot serve` on a port of its own."""

    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def post(self, body: str) -> httpx.Response:
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(
                timestamp=ts, body=body
            ),
        }
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(env: dict[str, str], tmp_path: Path, name: str) -> Serve:
    port = _free_port()
    log = tmp_path / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env={**env, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    serve = Serve(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{serve.url}/healthz", timeout=1).status_code == 200:
                return serve
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"serve not healthy after {START_TIMEOUT}s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Children to stop at the end, whatever the test did."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        _stop(proc)


def _posted(slack: SlackStandIn, channels: set[str]) -> Counter[int]:
    """The messages Slack holds in these DMs, per outbox row (from their metadata)."""
    return Counter(
        m["metadata"]["event_payload"]["outbox_id"] for c in channels for m in slack.messages_in(c)
    )


async def _rows(engine) -> list[Nudge]:
    async with session_scope(engine) as session:
        return list((await session.execute(select(Nudge).order_by(Nudge.id))).scalars())


async def _wait_all_sent(engine, ids: set[int], timeout: float = 60.0) -> list[Nudge]:
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in await _rows(engine) if r.id in ids]
        if rows and all(r.state == "sent" for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"not all sent: {[(r.id, r.kind, r.state) for r in rows]}")
        time.sleep(0.1)


async def test_notices_of_a_record_saved_just_before_a_crash_go_out_once_after_the_restart(
    engine, database_url, slack, quick_policy, tmp_path, processes
):
    await seed_org(engine, slack)
    env = _env(database_url, slack, quick_policy)
    first = _start(env, tmp_path, "first")
    processes.append(first.proc)
    command = urllib.parse.urlencode(
        {
            "team_id": "T0001",
            "user_id": "U0MGR",
            "command": "/checkin",
            "text": "<@U0EMP|eli>",
            "api_app_id": "A0CADENCE",
            "response_url": slack.response_url("cmd"),
            "trigger_id": "trigger-crash",
        }
    )
    assert first.post(command).status_code == 200
    [opened] = slack.wait_for("views.open", timeout=15)
    payload = view_submission("U0MGR", opened_view(opened.params), RECORD)
    slack.fail_next("chat.postMessage", delay=1.0, times=2)  # Slack answers slowly

    saved = first.post(urllib.parse.urlencode({"payload": json.dumps(payload)}))
    time.sleep(0.3)  # the fault: killed 0.3 s after the ack, as the notices are being sent
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait(timeout=10)

    assert saved.status_code == 200
    owed = {r.id for r in await _rows(engine) if r.role == "notice"}
    assert len(owed) == 2  # the record DM to Eli and the confirmation to Mia, with the talk
    second = _start(env, tmp_path, "second")
    processes.append(second.proc)
    rows = await _wait_all_sent(engine, owed)
    _stop(second.proc)
    assert {r.channel for r in rows} == {"DU0EMP", "DU0MGR"}
    posted = _posted(slack, {"DU0EMP", "DU0MGR"})
    assert posted == Counter({r.id: 1 for r in rows}), second.log.read_text()


async def _seed_four_checkins(engine, slack: SlackStandIn) -> set[int]:
    people = []
    for i in range(4):
        people.append(dict(slack_id=f"UM{i}", name=f"Manager {i}"))
        people.append(dict(slack_id=f"UE{i}", name=f"Report {i}", manager_id=f"UM{i}"))
    for row in people:
        slack.add_user(row["slack_id"], name=row["name"], tz="Asia/Shanghai")
    await add_people(engine, [p for p in people if "manager_id" not in p])
    await add_people(engine, [p for p in people if "manager_id" in p])
    payload = {"firm": False, "last": None, "since": "2026-11-01", "round": 1}
    specs = [
        NudgeSpec(
            "checkin",
            key(f"UM{i}"),
            key(f"UE{i}"),
            "2026-11",
            FRI_10_SHANGHAI,
            key(f"UE{i}"),
            "manager",
            payload,
        )
        for i in range(4)
    ]
    async with session_scope(engine) as session:
        await enqueue(session, specs, FRI_10_SHANGHAI - timedelta(days=1))
        await session.commit()
    return {r.id for r in await _rows(engine)}


def _tick(env: dict[str, str], tmp_path: Path, now: datetime) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--now", now.isoformat()],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def test_a_dispatcher_killed_mid_pass_doubles_nothing_and_loses_nothing(
    engine, database_url, slack, tmp_path, processes
):
    checkins = await _seed_four_checkins(engine, slack)
    env = _env(database_url, slack, ROOT / "app.yaml")
    # Slack answers slowly: one post lands after the process died, one is refused after
    # it died (a 500: never posted), two are answered at once
    slack.fail_next("chat.postMessage", delay=2.0)
    slack.fail_next("chat.postMessage", status=500, delay=2.0)

    first = _tick(env, tmp_path, FRI_10_SHANGHAI)
    processes.append(first)
    slack.wait_for("chat.postMessage", lambda c: c.status == 200, count=2, timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    slack.wait_for("chat.postMessage", count=4, timeout=10)  # the slow two, answered

    later = FRI_10_SHANGHAI + timedelta(minutes=10)  # every lease has run out
    second = subprocess.run(
        [sys.executable, "-m", "bot", "tick", "--now", later.isoformat()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert second.returncode == 0, second.stdout + second.stderr
    rows = {r.id: r for r in await _rows(engine) if r.id in checkins}
    posted = _posted(slack, {f"DUM{i}" for i in range(4)})
    assert posted == Counter({i: 1 for i in checkins}), second.stdout
    assert all(r.state == "sent" for r in rows.values())
    for row in rows.values():  # each row records the message that really went out
        [message] = [m for m in slack.messages_in(row.channel) if m["ts"] == row.ts]
        assert message["metadata"]["event_payload"]["outbox_id"] == row.id
    assert slack.calls_to("conversations.history")  # the uncertain rows were looked for
