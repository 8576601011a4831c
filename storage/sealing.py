"""Encryption at rest for the most sensitive columns: private notes, ratings, decisions, the
employee's view and disagreements (README "Security and data handling").

Values are sealed with Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under the
key in `CADENCE_DATA_KEY`. Several comma-separated keys may be given while rotating: the first
seals, any of them opens (`MultiFernet`). The process installs its keys once at start
(`install`); the column types below read them, so every query seals and opens on its own and
no caller handles ciphertext. One stored token (`data_key_check`) tells a wrong key from the
right one before anything is read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, TypeDecorator, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

ENV = "CADENCE_DATA_KEY"
PREFIX = "enc1:"  # every sealed value starts so; a value without it was never sealed
CHECK_TEXT = "cadence data key check"


class DataKeyError(Exception):
    """The data key is missing, malformed or not the one the database was sealed with.
    Messages name the variable, never a key."""


@dataclass(frozen=True)
class Keyring:
    """The keys from `CADENCE_DATA_KEY`: the first seals, any opens."""

    fernet: MultiFernet
    count: int

    @classmethod
    def parse(cls, value: str) -> Keyring:
        keys = [part.strip() for part in value.split(",") if part.strip()]
        if not keys:
            raise DataKeyError(f"{ENV} is empty: `python -m bot keygen` prints a new key")
        try:
            fernets = [Fernet(key) for key in keys]
        except (ValueError, TypeError) as exc:
            raise DataKeyError(
                f"{ENV} is not a valid key (32 url-safe base64 bytes, as `python -m bot keygen`"
                " prints; several are separated by commas)"
            ) from exc
        return cls(MultiFernet(fernets), len(fernets))

    def seal(self, plain: str) -> str:
        return PREFIX + self.fernet.encrypt(plain.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        if not sealed.startswith(PREFIX):
            raise DataKeyError("a protected column holds a value that was never encrypted")
        try:
            return self.fernet.decrypt(sealed[len(PREFIX) :].encode("ascii")).decode()
        except InvalidToken as exc:
            raise DataKeyError(
                f"{ENV} does not open this database's records: it is not the key they were"
                " encrypted with"
            ) from exc

    def reseal(self, sealed: str) -> str:
        """The same value sealed under the first key (for `rotate-key`)."""
        return self.seal(self.open(sealed))


def new_key() -> str:
    """A fresh random data key, for `cadence keygen`."""
    return Fernet.generate_key().decode("ascii")


_installed: Keyring | None = None


def install(keyring: Keyring | None) -> None:
    """Make `keyring` the process's keys (None: no key, so nothing protected can be read or
    written)."""
    global _installed
    _installed = keyring


def installed() -> Keyring | None:
    return _installed


def keyring() -> Keyring:
    """The installed keys, or a DataKeyError saying how to give one."""
    if _installed is None:
        raise DataKeyError(
            f"{ENV} is not set, and protected records cannot be read or written without it"
            " (`python -m bot keygen` prints a new key)"
        )
    return _installed


class SealedText(TypeDecorator[str]):
    """Text stored encrypted; read back as the plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else keyring().seal(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else keyring().open(value)


class SealedInt(TypeDecorator[int]):
    """An integer (a rating) stored encrypted; read back as the integer."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: object) -> str | None:
        return None if value is None else keyring().seal(str(int(value)))

    def process_result_value(self, value: str | None, dialect: object) -> int | None:
        return None if value is None else int(keyring().open(value))


# Every sealed column as (table, primary key, column): migrations, `rotate-key` and the
# start-up check walk this list, so a column added here is covered by all three.
SEALED_COLUMNS: Sequence[tuple[str, str, str]] = (
    ("talk", "id", "private_note"),
    ("review", "id", "rating"),
    ("review", "id", "decisions"),
    ("review", "id", "decision_note"),
    ("review", "id", "employee_view"),
    ("review", "id", "disagreement"),
    ("self_assessment", "id", "rating"),
)


async def verify(engine: AsyncEngine, *, required: bool, now: datetime) -> None:
    """Refuse (DataKeyError) when the installed key cannot open what the database holds: no
    key while encrypted records exist (or, with `required`, at all), or a key they were not
    sealed with. On first use of a key, store the check token it will be known by."""
    from storage.models import DataKeyCheck  # the models import this module's column types

    keys = installed()
    async with engine.begin() as conn:
        query = select(DataKeyCheck.token)  # type: ignore[call-overload]
        check = (await conn.execute(query)).scalar_one_or_none()
        if keys is None:
            if await _any_sealed(conn) is not None:
                raise DataKeyError(
                    f"{ENV} is not set, and this database holds encrypted records: set it to"
                    " the key they were encrypted with"
                )
            if check is not None:
                raise DataKeyError(
                    f"{ENV} is not set, and this database was set up with one: set it to that key"
                )
            if required:
                keyring()  # raises, saying how to make one
            return
        if check is not None:
            keys.open(check)
            return
        sample = await _any_sealed(conn)
        if sample is not None:
            keys.open(sample)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(DataKeyCheck).values(id=1, token=keys.seal(CHECK_TEXT), created_at=now)
            )
    except IntegrityError:  # another replica starting at the same moment stored its own
        async with engine.connect() as conn:
            keys.open((await conn.execute(query)).scalar_one())


async def _any_sealed(conn: AsyncConnection) -> str | None:
    for table, _, column in SEALED_COLUMNS:
        found = await conn.execute(
            text(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL LIMIT 1")
        )
        value = found.scalar_one_or_none()
        if value is not None:
            return str(value)
    return None


async def rotate(engine: AsyncEngine, *, batch_size: int = 500) -> dict[str, int]:
    """Seal every protected value again under the first installed key, a batch of rows per
    transaction (so no lock is held long and a stop loses nothing: run it again), and the
    check token last. How many values each `table.column` had."""
    if batch_size < 1:  # LIMIT 0 would find nothing, and the check token would still move
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    keys = keyring()
    done: dict[str, int] = {}
    for table, key, column in SEALED_COLUMNS:
        count, after = 0, None
        while True:
            async with engine.begin() as conn:
                params: dict[str, object] = {"size": batch_size}
                where = f"{column} IS NOT NULL"
                if after is not None:
                    where, params["after"] = f"{where} AND {key} > :after", after
                query = f"SELECT {key}, {column} FROM {table} WHERE {where} ORDER BY {key}"
                rows = (await conn.execute(text(f"{query} LIMIT :size"), params)).all()
                for row_id, value in rows:
                    await conn.execute(
                        text(f"UPDATE {table} SET {column} = :value WHERE {key} = :id"),
                        {"value": keys.reseal(str(value)), "id": row_id},
                    )
            if not rows:
                break
            count += len(rows)
            after = rows[-1][0]
        done[f"{table}.{column}"] = count
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE data_key_check SET token = :token"), {"token": keys.seal(CHECK_TEXT)}
        )
    return done
