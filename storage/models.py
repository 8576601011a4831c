"""The tables: people (the org chart), talks with their actions, and delivery bookkeeping."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.sealing import SealedInt, SealedText

PERSON_KEY_LEN = 32  # what a person key column holds (a migrated Slack id fits too)


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


def utc_column(*, nullable: bool = False, index: bool = False) -> Column[datetime]:
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


class GoalStatus(StrEnum):
    """Where a goal stands."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    DONE = "done"
    DROPPED = "dropped"


def new_person_key() -> str:
    """A new person's key: Cadence's own, opaque, never a chat platform's id, never with a
    space (outbox keys are joined by spaces)."""
    return "p" + secrets.token_hex(8)


class Person(SQLModel, table=True):
    """Someone in the org chart, keyed by Cadence's own key; their chat accounts are
    `ChatIdentity` rows."""

    id: str = Field(default_factory=new_person_key, primary_key=True, max_length=PERSON_KEY_LEN)
    email: str | None = Field(default=None, max_length=320, index=True)
    name: str = Field(max_length=200)
    manager_id: str | None = Field(
        default=None, foreign_key="person.id", index=True, max_length=PERSON_KEY_LEN
    )
    timezone: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=8)
    country: str | None = Field(default=None, max_length=2)
    is_hr: bool = False
    active: bool = True
    # the HRIS key: a person's records survive a new chat account
    employee_number: str | None = Field(default=None, max_length=64)
    # when an import last deactivated them: retention erases leavers after a grace period
    left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())

    __table_args__ = (
        # unique when set: a unique index over a nullable column lets any number be NULL,
        # on PostgreSQL and SQLite alike
        Index("ux_person_employee_number", "employee_number", unique=True),
    )


class Platform(StrEnum):
    """The chat platforms a person may be reached on."""

    SLACK = "slack"
    TEAMS = "teams"


class ChatIdentity(SQLModel, table=True):
    """A person's account on one chat platform, and what that platform told us about them:
    their DM conversation, language and time zone. A person may have several (a company
    moving from Slack to Teams). `workspace` is the Slack team or Teams tenant id; '' is the
    one installed workspace, not learnt yet."""

    __tablename__ = "chat_identity"

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    platform: str = Field(max_length=10)
    workspace: str = Field(default="", max_length=64)
    user_id: str = Field(max_length=64)
    # Slack: the DM channel id; Teams: a serialised conversation reference
    conversation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    locale: str | None = Field(default=None, max_length=16)
    timezone: str | None = Field(default=None, max_length=64)
    refreshed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())

    __table_args__ = (
        UniqueConstraint("platform", "workspace", "user_id", name="uq_chat_identity_account"),
    )


class Talk(SQLModel, table=True):
    """One recorded talk: its facts, consensus and who was there."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    family: str = Field(max_length=10)
    manager_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN)
    employee_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN)
    logged_by: str = Field(max_length=PERSON_KEY_LEN)  # the person who recorded it
    held_on: date
    duration_minutes: int
    facts: str = Field(sa_column=Column(Text, nullable=False))
    consensus: str = Field(sa_column=Column(Text, nullable=False))
    employee_talk_share: str | None = Field(default=None, max_length=16)
    # the manager's own working note: encrypted at rest, never shown to the employee or HR
    private_note: str | None = Field(default=None, sa_column=Column(SealedText, nullable=True))
    submission_key: str = Field(max_length=64, unique=True)
    # A digest of the form as last applied: a resubmission of the same view that differs
    # (typed again after "not saved yet") is applied to this talk instead of making another.
    form_digest: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=utc_column())
    acknowledged_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    __table_args__ = (Index("ix_talk_employee_held", "employee_id", "held_on"),)


class ActionItem(SQLModel, table=True):
    """A commitment made in a talk: who does what by when."""

    __tablename__ = "action_item"

    id: int | None = Field(default=None, primary_key=True)
    talk_id: int = Field(foreign_key="talk.id", index=True)
    employee_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN)
    owner_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    text: str = Field(max_length=3000)
    due_on: date
    status: str = Field(default=ActionStatus.OPEN, max_length=10)
    completed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # indexed: deleting a talk (retention, erasure) unlinks what it completed
    completed_in_talk_id: int | None = Field(default=None, foreign_key="talk.id", index=True)
    created_at: datetime = Field(sa_column=utc_column())

    __table_args__ = (Index("ix_action_employee_status", "employee_id", "status"),)


class ProcessedEvent(SQLModel, table=True):
    """An Events API delivery already handled, so Slack's retries are not handled twice."""

    __tablename__ = "processed_event"

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = Field(sa_column=utc_column())


__all__ = [
    "AccessLog",
    "ActionItem",
    "ActionStatus",
    "Cycle",
    "DataKeyCheck",
    "Family",
    "Goal",
    "GoalStatus",
    "Leave",
    "Milestone",
    "MilestoneParticipant",
    "Nudge",
    "NudgeState",
    "Person",
    "ProcessedEvent",
    "Talk",
    "TalkShare",
]


class NudgeState(StrEnum):
    """Where a nudge is in the outbox."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class Cycle(SQLModel, table=True):
    """An appraisal cycle and the review window that follows it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=40, unique=True)
    starts_on: date
    ends_on: date
    review_from: date
    review_to: date
    created_at: datetime = Field(sa_column=utc_column())


class Goal(SQLModel, table=True):
    """A goal for an employee: set by the manager, or proposed by the employee and confirmed."""

    __table_args__ = (UniqueConstraint("submission_key", name="uq_goal_submission_key"),)

    id: int | None = Field(default=None, primary_key=True)
    employee_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    set_by: str = Field(max_length=PERSON_KEY_LEN)
    title: str = Field(max_length=200)
    measure: str = Field(sa_column=Column(Text, nullable=False))
    due_on: date
    status: str = Field(default="active", max_length=12)  # proposed | active | done | dropped
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    clarified_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    clarified_in_talk_id: int | None = Field(default=None, foreign_key="talk.id", index=True)
    # The goal modal's submission (by view) that created it; goals from a review have none.
    submission_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=utc_column())


class Milestone(SQLModel, table=True):
    """A project milestone whose end calls for a retrospective with each participant."""

    __table_args__ = (UniqueConstraint("submission_key", name="uq_milestone_submission_key"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    due_on: date | None = None
    created_by: str = Field(max_length=PERSON_KEY_LEN)
    done_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Who registered what, with whom, by when, in which ten minutes (bot.records.milestones): the
    # same command sent twice is one milestone.
    submission_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_column=utc_column())


class MilestoneParticipant(SQLModel, table=True):
    """Who took part in a milestone."""

    __tablename__ = "milestone_participant"

    milestone_id: int = Field(foreign_key="milestone.id", primary_key=True)
    person_id: str = Field(foreign_key="person.id", primary_key=True, max_length=32)


class LeavePauses(StrEnum):
    """What a stretch of leave pauses."""

    # every nudge to or about the person (HR's `leave`, or their manager saying they are away)
    ALL = "all"
    # only the nudges sent to them (the person's own "on leave" on one of their nudges: an
    # employee's choice never silences what their manager is told about them)
    OWN_MESSAGES = "own_messages"


class Leave(SQLModel, table=True):
    """A stretch of days someone is away: no nudges to them, nor about them when it pauses
    `all`."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    starts_on: date
    ends_on: date
    reason: str = Field(default="leave", max_length=40)
    pauses: str = Field(
        default=LeavePauses.ALL,
        max_length=16,
        sa_column_kwargs={"server_default": LeavePauses.ALL.value},
    )
    created_at: datetime = Field(sa_column=utc_column())


_PENDING = text("state = 'pending'")


class Nudge(SQLModel, table=True):
    """One message the bot owes someone: an outbox row, unique per (kind, recipient, subject,
    period), so planning the same period twice creates nothing new."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    # No foreign key: only the planner writes rows, for active people, and people are never
    # deleted; a per-row check was 40 % of storing a large pass (benchmarks/README.md).
    recipient_id: str = Field(max_length=PERSON_KEY_LEN)
    subject: str = Field(max_length=64)
    period: str = Field(max_length=40)
    about_id: str | None = Field(default=None, max_length=PERSON_KEY_LEN)
    role: str = Field(default="manager", max_length=10)  # manager | employee | owner
    due_at: datetime = Field(sa_column=utc_column())
    state: str = Field(default=NudgeState.PENDING, max_length=12)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    lease_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    claimed_by: str | None = Field(default=None, max_length=64)
    # When a dispatcher first took the row: a message it may have posted is no older.
    first_claimed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Whether an earlier attempt may have reached Slack (a time-out, a 5xx, a dead worker, a
    # message sent in part): the DM's history is checked before it is posted again.
    uncertain: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # Where it was sent: the platform (NULL: Slack, before migration 0010), the DM channel or
    # Teams conversation, and the message's ts or activity id (a redraw goes back there).
    platform: str | None = Field(default=None, max_length=10)
    channel: str | None = Field(default=None, max_length=256)
    ts: str | None = Field(default=None, max_length=256)
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sent_text: str | None = Field(default=None, max_length=300)
    skip_reason: str | None = Field(default=None, max_length=40)
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())

    __table_args__ = (
        # (kind, period) first: the planner reads one period's keys of a kind as a range
        UniqueConstraint("kind", "period", "recipient_id", "subject", name="uq_nudge_key"),
        Index("ix_nudge_state_due", "state", "due_at"),
        Index("ix_nudge_subject", "subject"),
        # pending rows only: following org changes looks up nothing else by person
        Index(
            "ix_nudge_pending_about", "about_id", postgresql_where=_PENDING, sqlite_where=_PENDING
        ),
        Index(
            "ix_nudge_pending_recipient",
            "recipient_id",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
    )


class DeliveryPause(SQLModel, table=True):
    """Delivery stopped because Slack no longer accepts the bot's token (revoked, uninstalled):
    a row while paused, none otherwise, so every process and a restart see it."""

    __tablename__ = "delivery_pause"

    scope: str = Field(primary_key=True, max_length=16)  # "workspace": one installation
    reason: str = Field(max_length=40)  # a Slack error code or event type, never a token
    since: datetime = Field(sa_column=utc_column())
    checked_at: datetime = Field(sa_column=utc_column())


class SelfAssessment(SQLModel, table=True):
    """An employee's own look back before the review interview: a draft until submitted."""

    __tablename__ = "self_assessment"
    __table_args__ = (UniqueConstraint("cycle_id", "employee_id", name="uq_self_cycle_employee"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    employee_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    rating: int | None = Field(default=None, sa_column=Column(SealedInt, nullable=True))
    proudest: str = Field(default="", sa_column=Column(Text, nullable=False))
    redo: str = Field(default="", sa_column=Column(Text, nullable=False))
    blockers: str = Field(default="", sa_column=Column(Text, nullable=False))
    support: str = Field(default="", sa_column=Column(Text, nullable=False))
    other: str = Field(default="", sa_column=Column(Text, nullable=False))
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class Interview(SQLModel, table=True):
    """When a review interview is planned (without one, the window's first working day)."""

    __table_args__ = (
        UniqueConstraint("cycle_id", "employee_id", name="uq_interview_cycle_employee"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    employee_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    scheduled_on: date
    set_by: str = Field(max_length=PERSON_KEY_LEN)
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class Review(SQLModel, table=True):
    """The formal review interview's record (绩效面谈), beside its talk row (family review)."""

    __table_args__ = (UniqueConstraint("cycle_id", "employee_id", name="uq_review_cycle_employee"),)

    id: int | None = Field(default=None, primary_key=True)
    cycle_id: int = Field(foreign_key="cycle.id")
    talk_id: int = Field(foreign_key="talk.id", unique=True)
    employee_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN, index=True)
    manager_id: str = Field(foreign_key="person.id", max_length=PERSON_KEY_LEN)
    rating: int = Field(sa_column=Column(SealedInt, nullable=False))
    evidence: str = Field(sa_column=Column(Text, nullable=False))
    gaps: str = Field(default="", sa_column=Column(Text, nullable=False))
    next_goals: str = Field(default="", sa_column=Column(Text, nullable=False))
    development: str = Field(default="", sa_column=Column(Text, nullable=False))
    # sealed (storage.sealing): the rating above, the decisions, the employee's view and answer
    decisions: str = Field(default="[]", sa_column=Column(SealedText, nullable=False))  # JSON
    decision_note: str | None = Field(default=None, sa_column=Column(SealedText, nullable=True))
    employee_view: str = Field(default="", sa_column=Column(SealedText, nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    disagreed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    disagreement: str | None = Field(default=None, sa_column=Column(SealedText, nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())


class AccessLog(SQLModel, table=True):
    """One read of a person's records by someone else: who, whose, what, when, where. Never
    content. Rows are only ever added (and removed by retention or erasure)."""

    __tablename__ = "access_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=utc_column())
    # a person key, or `operator:<login>` for the command line
    reader: str = Field(max_length=80)
    # NULL once the subject was erased (the erasure's own row has none either)
    subject_id: str | None = Field(default=None, max_length=PERSON_KEY_LEN)
    what: str = Field(max_length=32)  # bot.privacy.access: the read paths
    platform: str = Field(max_length=10)  # slack | teams | cli | bot
    detail: str | None = Field(default=None, max_length=200)  # counts only

    __table_args__ = (
        Index("ix_access_log_subject_at", "subject_id", "at"),
        Index("ix_access_log_at", "at"),
    )


class DataKeyCheck(SQLModel, table=True):
    """A known text sealed under the data key: tells a wrong key before any record is read."""

    __tablename__ = "data_key_check"

    id: int = Field(default=1, primary_key=True)
    token: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
