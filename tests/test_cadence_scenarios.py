"""Time travel through `python -m bot tick --now …`: the right nudge, to the right person, at
a sensible local hour, exactly once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.dev.slack_standin import SlackStandIn
from bot.process.cli import main
from storage.db import make_engine, session_scope
from storage.models import Nudge
from tests.blockkit import texts, valid_message
from tests.factories import key, seed_org

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def org(database_url: str, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The standard org, and the environment a cron job would have."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": database_url,
        "SLACK_API_URL": slack.base_url,
        "SLACK_BOT_TOKEN": slack.bot_token,
        "CADENCE_CONFIG": str(ROOT / "app.yaml"),
    }.items():
        monkeypatch.setenv(name, value)

    async def seed() -> None:
        engine = make_engine(database_url)
        await seed_org(engine, slack)
        await engine.dispose()

    asyncio.run(seed())
    return slack


def nudges(database_url: str) -> list[Nudge]:
    async def load() -> list[Nudge]:
        engine = make_engine(database_url)
        async with session_scope(engine) as session:
            rows = list((await session.execute(select(Nudge).order_by(Nudge.id))).scalars())
        await engine.dispose()
        return rows

    return asyncio.run(load())


def test_monthly_checkin_nudge_reaches_the_manager_once_at_ten_local(org, database_url, capsys):
    assert main(["tick", "--now", "2026-11-26T03:00Z"]) == 0  # Thu 11:00 in Shanghai
    # today's 10:00 has passed: tomorrow's (HR's weekly digest, Monday's, went at once)
    assert [c.params["channel"] for c in org.calls_to("chat.postMessage")] == ["DU0HR"]

    assert main(["tick", "--now", "2026-11-27T02:00Z"]) == 0  # Fri 10:00 in Shanghai
    assert main(["tick", "--now", "2026-11-27T02:05Z"]) == 0  # a second tick sends nothing new

    posts = org.calls_to("chat.postMessage")
    by_channel = {}
    for post in posts:
        valid_message(post.params)
        by_channel.setdefault(post.params["channel"], []).append(texts(post.params["blocks"]))
    assert sorted(by_channel) == ["DU0ANN", "DU0EMP", "DU0HR", "DU0MGR"]
    assert len(by_channel["DU0MGR"]) == 2  # one per report
    assert any("Eli Wang has had no dialogue for a while" in m for m in by_channel["DU0MGR"])
    assert "Mia Chen 近期会和你进行一次过程对话" in by_channel["DU0EMP"][0]
    sent = [n for n in nudges(database_url) if n.state == "sent" and n.kind != "hr_digest"]
    assert {(n.kind, n.recipient_id, n.subject) for n in sent} == {
        ("checkin", key("U0MGR"), key("U0EMP")),
        ("checkin", key("U0MGR"), key("U0ANN")),
        ("checkin_heads_up", key("U0EMP"), key("U0EMP")),
        ("checkin_heads_up", key("U0ANN"), key("U0ANN")),
    }
    assert "sent 4" in capsys.readouterr().out.splitlines()[1]
