"""The tables: people (the org chart), talks with their actions, and delivery bookkeeping."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, Index, Text, TypeDecorator
from sqlmodel import Field, SQLModel

SLACK_ID_LEN = 32


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back time-zone aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_column(*, nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    """A tz-aware timestamp column."""
    return Column(UtcDateTime(), nullable=nullable, index=index)


class Family(StrEnum):
    """The two families of talk that DOMAIN.md keeps apart."""

    DIALOGUE = "dialogue"
    REVIEW = "review"


class TalkShare(StrEnum):
    """The employee's share of the talking time, as the manager remembers it."""

    UNDER_QUARTER = "under_quarter"
    UP_TO_HALF = "up_to_half"
    HALF_OR_MORE = "half_or_more"


class ActionStatus(StrEnum):
    """Stored states of an action item; 'overdue' is derived from the due date."""

    OPEN = "open"
    DONE = "done"


class Person(SQLModel, table=True):
    """Someone in the org chart, keyed by their Slack user id."""

    slack_id: str = Field(primary_key=True, max_length=SLACK_ID_LEN)
    email: str | None = Field(default=None, max_length=320, index=True)
    name: str = Field(max_length=200)
    manager_id: str | None = Field(
        default=None, foreign_key="person.slack_id", index=True, max_length=SLACK_ID_LEN
    )
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=8)
    country: str | None = Field(default=None, max_length=2)
    is_hr: bool = False
    active: bool = True
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class Talk(SQLModel, table=True):
    """One recorded talk: its facts, consensus and who was there."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    family: str = Field(max_length=10)
    manager_id: str = Field(foreign_key="person.slack_id", max_length=SLACK_ID_LEN)
    employee_id: str = Field(foreign_key="person.slack_id", max_length=SLACK_ID_LEN)
    logged_by: str = Field(max_length=SLACK_ID_LEN)
    held_on: date
    duration_minutes: int
    facts: str = Field(sa_column=Column(Text, nullable=False))
    consensus: str = Field(sa_column=Column(Text, nullable=False))
    employee_talk_share: str | None = Field(default=None, max_length=16)
    private_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    submission_key: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(sa_column=utc_column())
    acknowledged_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    __table_args__ = (Index("ix_talk_employee_held", "employee_id", "held_on"),)


class ActionItem(SQLModel, table=True):
    """A commitment made in a talk: who does what by when."""

    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    talk_id: int = Field(foreign_key="talk.id", index=True)
    employee_id: str = Field(foreign_key="person.slack_id", max_length=SLACK_ID_LEN)
    owner_id: str = Field(foreign_key="person.slack_id", max_length=SLACK_ID_LEN, index=True)
    text: str = Field(max_length=3000)
    due_on: date
    status: str = Field(default=ActionStatus.OPEN, max_length=10)
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    completed_in_talk_id: int | None = Field(default=None, foreign_key="talk.id")
    created_at: datetime = Field(sa_column=utc_column())

    __table_args__ = (Index("ix_action_employee_status", "employee_id", "status"),)


class ProcessedEvent(SQLModel, table=True):
    """An Events API delivery already handled, so Slack's retries are not handled twice."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=utc_column())


__all__ = [
    "ActionItem",
    "ActionStatus",
    "Family",
    "Person",
    "ProcessedEvent",
    "Talk",
    "TalkShare",
]
