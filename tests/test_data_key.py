"""Encryption at rest: what is stored is ciphertext, a dump shows no private note, the bot
refuses to start without the right key, keys rotate, and the migration encrypts what an
older version stored."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlmodel import select

from storage import migrate, sealing
from storage.db import make_engine, session_scope
from storage.models import Cycle, Review, SelfAssessment, Talk
from tests.conftest import OTHER_DATA_KEY, ROOT, TEST_DATA_KEY
from tests.factories import add_people, key
from tests.test_migrations import _insert

NOTE = "Thinking of leaving: keep between us 想离职，保密"
VIEW = "I agree with the rating; I want to lead more."
NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def cadence(*args: str, database_url: str, data_key: str | None, **env: str):
    """`python -m bot ARGS` as an operator runs it, with this data key (None: none)."""
    child = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "CONNECTIONS__", "CADENCE_"))
    }
    child |= {"DATABASE_URL": database_url, "CADENCE_CONFIG": str(ROOT / "app.yaml"), **env}
    if data_key is not None:
        child[sealing.ENV] = data_key
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=child,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def seed_records(engine, notes: int = 1) -> None:
    """Mia's talks with Eli (private notes), Eli's review and self-assessment."""
    await add_people(
        engine,
        [
            dict(slack_id="U0MGR", name="Mia Chen"),
            dict(slack_id="U0EMP", name="Eli Wang", manager_id="U0MGR"),
        ],
    )
    async with session_scope(engine) as session:
        talks = [
            Talk(
                kind="checkin" if n else "review",
                family="dialogue" if n else "review",
                manager_id=key("U0MGR"),
                employee_id=key("U0EMP"),
                logged_by=key("U0MGR"),
                held_on=date(2026, 11, 20),
                duration_minutes=15,
                facts="Shipped the importer.",
                consensus="Keep going.",
                private_note=f"{NOTE} #{n}",
                submission_key=f"k{n}",
                created_at=NOW,
            )
            for n in range(notes)
        ]
        cycle = Cycle(
            name="2026-Q3",
            starts_on=date(2026, 7, 1),
            ends_on=date(2026, 9, 30),
            review_from=date(2026, 10, 1),
            review_to=date(2026, 10, 14),
            created_at=NOW,
        )
        session.add_all([*talks, cycle])
        await session.flush()
        session.add(
            Review(
                cycle_id=cycle.id,
                talk_id=talks[0].id,
                employee_id=key("U0EMP"),
                manager_id=key("U0MGR"),
                rating=4,
                evidence="Shipped the importer.",
                decisions='["pay"]',
                decision_note="A 5% raise.",
                employee_view=VIEW,
                disagreement="The rating should be 5.",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        session.add(
            SelfAssessment(
                cycle_id=cycle.id,
                employee_id=key("U0EMP"),
                rating=5,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await session.commit()


async def raw(engine, sql: str) -> list:
    async with engine.connect() as conn:
        return [row[0] for row in (await conn.execute(text(sql))).all()]


async def sealed_values(engine) -> list[str]:
    """Every filled protected value as stored, and the key check token."""
    found: list[str] = []
    for table, primary, column in sealing.SEALED_COLUMNS:
        where = f"{column} IS NOT NULL ORDER BY {primary}"
        found += await raw(engine, f"SELECT {column} FROM {table} WHERE {where}")
    return found + await raw(engine, "SELECT token FROM data_key_check")


def test_keygen_prints_a_new_valid_key_each_time(tmp_path: Path):
    first = cadence("keygen", database_url=f"sqlite:///{tmp_path}/x.db", data_key="not a key")
    second = cadence("keygen", database_url=f"sqlite:///{tmp_path}/x.db", data_key=None)

    assert first.returncode == second.returncode == 0
    keys = [first.stdout.strip(), second.stdout.strip()]
    assert keys[0] != keys[1]
    for k in keys:  # each a working Fernet key
        assert Fernet(k).decrypt(Fernet(k).encrypt(b"note")) == b"note"
    assert not (tmp_path / "x.db").exists()  # it touched no database


async def test_protected_columns_hold_ciphertext_and_read_back_plain(engine):
    await seed_records(engine)

    stored = await raw(engine, "SELECT private_note FROM talk")
    for column in ("rating", "decisions", "decision_note", "employee_view", "disagreement"):
        stored += await raw(engine, f"SELECT {column} FROM review")
    stored += await raw(engine, "SELECT rating FROM self_assessment")

    assert len(stored) == 7 and all(str(v).startswith(sealing.PREFIX) for v in stored)
    assert not any(NOTE in str(v) or VIEW in str(v) for v in stored)
    async with session_scope(engine) as session:
        review = (await session.exec(select(Review))).one()
        talk = (await session.exec(select(Talk))).one()
        assessment = (await session.exec(select(SelfAssessment))).one()
    assert (review.rating, review.employee_view, review.decisions) == (4, VIEW, '["pay"]')
    assert (talk.private_note, assessment.rating) == (f"{NOTE} #0", 5)


async def test_a_database_dump_holds_no_private_note_in_plain_text(engine, database_url):
    await seed_records(engine, notes=3)
    await engine.dispose()

    if database_url.startswith("sqlite"):
        dump = Path(database_url.removeprefix("sqlite:///")).read_bytes()
    else:
        assert shutil.which("pg_dump"), "pg_dump is needed to check a PostgreSQL dump"
        dump = subprocess.run(
            ["pg_dump", "--data-only", database_url], capture_output=True, check=True
        ).stdout

    assert b"Shipped the importer." in dump  # the dump is readable: facts are not encrypted
    for secret in (NOTE, VIEW, "A 5% raise.", "The rating should be 5."):
        assert secret.encode() not in dump
    assert "想离职".encode() not in dump


def _serve(database_url: str, data_key: str | None):
    return cadence(
        "serve",
        database_url=database_url,
        data_key=data_key,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET="secret",
        SLACK_API_URL="http://127.0.0.1:9/api/",  # never reached: the key check comes first
        PORT="0",
    )


async def test_serve_refuses_to_start_without_the_data_key(engine, database_url):
    async with engine.begin() as conn:  # a database never opened with a key
        await conn.execute(text("DELETE FROM data_key_check"))
    await engine.dispose()

    fresh = _serve(database_url, None)

    assert fresh.returncode == 2
    assert sealing.ENV in fresh.stderr and "python -m bot keygen" in fresh.stderr
    again = make_engine(database_url)
    await seed_records(again)
    await again.dispose()
    keyed = _serve(database_url, None)
    assert keyed.returncode == 2 and "holds encrypted records" in keyed.stderr


async def test_serve_refuses_a_key_the_records_were_not_encrypted_with(engine, database_url):
    await seed_records(engine)
    await engine.dispose()

    wrong = _serve(database_url, OTHER_DATA_KEY)
    malformed = _serve(database_url, "not-a-fernet-key")

    assert wrong.returncode == 2 and "not the key they were encrypted with" in wrong.stderr
    assert malformed.returncode == 2 and "not a valid key" in malformed.stderr
    for run in (wrong, malformed):
        assert OTHER_DATA_KEY not in run.stderr + run.stdout
        assert "not-a-fernet-key" not in run.stderr + run.stdout


async def test_commands_refuse_encrypted_records_without_the_right_key(engine, database_url):
    await seed_records(engine)
    await engine.dispose()

    missing = cadence(
        "export-person", "--person", "U0EMP", database_url=database_url, data_key=None
    )
    wrong = cadence("export", database_url=database_url, data_key=OTHER_DATA_KEY)
    right = cadence(
        "export-person", "--person", "U0EMP", database_url=database_url, data_key=TEST_DATA_KEY
    )

    assert missing.returncode == 2 and "holds encrypted records" in missing.stderr
    assert wrong.returncode == 2 and "not the key" in wrong.stderr
    assert missing.stdout == wrong.stdout == ""
    assert OTHER_DATA_KEY not in wrong.stderr
    assert right.returncode == 0 and VIEW in right.stdout


async def test_rotate_key_reencrypts_everything_under_the_new_key(engine, database_url):
    await seed_records(engine, notes=5)
    await engine.dispose()

    rotated = cadence(
        "rotate-key", database_url=database_url, data_key=f"{OTHER_DATA_KEY},{TEST_DATA_KEY}"
    )

    assert rotated.returncode == 0, rotated.stderr
    assert "5  talk.private_note" in rotated.stdout and "set CADENCE_DATA_KEY" in rotated.stdout
    new_only = cadence(
        "export-person", "--person", "U0EMP", database_url=database_url, data_key=OTHER_DATA_KEY
    )
    old_only = cadence("export", database_url=database_url, data_key=TEST_DATA_KEY)
    assert new_only.returncode == 0 and VIEW in new_only.stdout
    assert old_only.returncode == 2 and "not the key" in old_only.stderr


async def test_rotation_goes_in_batches_and_misses_no_row(engine):
    await seed_records(engine, notes=7)
    await sealing.verify(engine, required=True, now=NOW)  # the check token, as `serve` stores it
    sealing.install(sealing.Keyring.parse(f"{OTHER_DATA_KEY},{TEST_DATA_KEY}"))

    counts = await sealing.rotate(engine, batch_size=2)

    assert counts["talk.private_note"] == 7 and counts["review.rating"] == 1
    sealing.install(sealing.Keyring.parse(OTHER_DATA_KEY))
    async with session_scope(engine) as session:
        notes = sorted(t.private_note or "" for t in (await session.exec(select(Talk))).all())
    assert notes == sorted(f"{NOTE} #{n}" for n in range(7))
    old, new = sealing.Keyring.parse(TEST_DATA_KEY), sealing.Keyring.parse(OTHER_DATA_KEY)
    stored = await sealed_values(engine)
    assert len(stored) == 7 + 5 + 1 + 1  # notes, the review's five, the self-rating, the check
    for value in stored:
        new.open(value)
        with pytest.raises(sealing.DataKeyError):
            old.open(value)
    await sealing.verify(engine, required=True, now=NOW)  # the new key alone is accepted


async def test_rotation_refuses_a_batch_size_that_would_reach_no_row(engine):
    await seed_records(engine)
    await sealing.verify(engine, required=True, now=NOW)
    before = await sealed_values(engine)
    sealing.install(sealing.Keyring.parse(f"{OTHER_DATA_KEY},{TEST_DATA_KEY}"))

    with pytest.raises(ValueError, match="batch_size"):
        await sealing.rotate(engine, batch_size=0)

    assert await sealed_values(engine) == before  # not even the check token moved


async def test_rotate_key_with_one_key_reencrypts_under_it_and_says_rotation_needs_two(
    engine, database_url
):
    await seed_records(engine, notes=2)
    await sealing.verify(engine, required=True, now=NOW)  # the check token, as `serve` stores it
    before = await sealed_values(engine)
    await engine.dispose()

    once = cadence("rotate-key", database_url=database_url, data_key=TEST_DATA_KEY)
    keyless = cadence("rotate-key", database_url=database_url, data_key=None)

    assert once.returncode == 0, once.stderr
    assert "2  talk.private_note" in once.stdout and "NEW,OLD" in once.stdout
    assert TEST_DATA_KEY not in once.stdout
    after = await sealed_values(engine)
    assert len(after) == len(before) and not set(after) & set(before)  # each sealed afresh
    key = sealing.Keyring.parse(TEST_DATA_KEY)
    assert [key.open(v) for v in after] == [key.open(v) for v in before]
    assert keyless.returncode == 2 and sealing.ENV in keyless.stderr


async def _fill_at_0010(engine) -> None:
    async with engine.begin() as conn:
        person = dict(email=None, is_hr=False, active=True, created_at=NOW, updated_at=NOW)
        await _insert(
            conn,
            "person",
            dict(id="pa", name="Mia Chen", manager_id=None, **person),
            dict(id="pb", name="Eli Wang", manager_id="pa", **person),
        )
        await _insert(
            conn,
            "talk",
            dict(
                id=1,
                kind="review",
                family="review",
                manager_id="pa",
                employee_id="pb",
                logged_by="pa",
                held_on=date(2026, 10, 2),
                duration_minutes=60,
                facts="Facts.",
                consensus="Agreed.",
                private_note=NOTE,
                submission_key="s1",
                created_at=NOW,
            ),
        )
        await _insert(
            conn,
            "cycle",
            dict(
                id=1,
                name="2026-Q3",
                starts_on=date(2026, 7, 1),
                ends_on=date(2026, 9, 30),
                review_from=date(2026, 10, 1),
                review_to=date(2026, 10, 14),
                created_at=NOW,
            ),
        )
        await _insert(
            conn,
            "review",
            dict(
                id=1,
                cycle_id=1,
                talk_id=1,
                employee_id="pb",
                manager_id="pa",
                rating=2,
                evidence="Evidence.",
                gaps="",
                next_goals="",
                development="",
                decisions="[]",
                employee_view=VIEW,
                created_at=NOW,
                updated_at=NOW,
            ),
        )


async def test_upgrading_encrypts_what_an_earlier_version_stored_and_downgrading_opens_it(
    database_url,
):
    engine = make_engine(database_url)
    try:
        await migrate.downgrade(engine, "0010")
        await _fill_at_0010(engine)

        await migrate.upgrade(engine)

        [note] = await raw(engine, "SELECT private_note FROM talk")
        [rating] = await raw(engine, "SELECT rating FROM review")
        assert note.startswith(sealing.PREFIX) and sealing.keyring().open(note) == NOTE
        assert sealing.keyring().open(rating) == "2"
        assert await raw(engine, "SELECT count(*) FROM data_key_check") == [1]

        await migrate.downgrade(engine, "0010")
        assert await raw(engine, "SELECT private_note FROM talk") == [NOTE]
        assert await raw(engine, "SELECT rating FROM review") == [2]
    finally:
        await migrate.upgrade(engine)
        await engine.dispose()


async def test_upgrading_without_a_key_refuses_and_changes_nothing(database_url):
    engine = make_engine(database_url)
    try:
        await migrate.downgrade(engine, "0010")
        await _fill_at_0010(engine)
        sealing.install(None)

        with pytest.raises(sealing.DataKeyError, match="CADENCE_DATA_KEY is not set"):
            await migrate.upgrade(engine)

        assert await raw(engine, "SELECT version_num FROM alembic_version") == ["0010"]
        assert await raw(engine, "SELECT private_note FROM talk") == [NOTE]
        assert await raw(engine, "SELECT rating FROM review") == [2]
        assert await raw(engine, "SELECT employee_view FROM review") == [VIEW]
    finally:
        sealing.install(sealing.Keyring.parse(TEST_DATA_KEY))
        await migrate.upgrade(engine)
        await engine.dispose()


async def test_two_replicas_starting_at_once_agree_on_the_key(engine):
    async with engine.begin() as conn:  # a database never opened with a key
        await conn.execute(text("DELETE FROM data_key_check"))

    await asyncio.gather(*(sealing.verify(engine, required=True, now=NOW) for _ in range(2)))

    assert await raw(engine, "SELECT count(*) FROM data_key_check") == [1]
    sealing.install(sealing.Keyring.parse(OTHER_DATA_KEY))
    with pytest.raises(sealing.DataKeyError, match="not the key"):
        await sealing.verify(engine, required=True, now=NOW)
