"""The organisation's policy (app.yaml): loaded once at start-up, validated, then frozen."""

from __future__ import annotations

import math
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from storage.models import Family

LOCALES: tuple[Locale, ...] = ("en", "zh")
MIN_NEW_NUDGES_PER_PASS = 5_000
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {value!r}") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(_zone)]
Locale = Literal["en", "zh"]
ChatPlatform = Literal["slack", "teams"]  # storage.models.Platform's values
LocalizedText = str | dict[Locale, str]


class Trigger(StrEnum):
    """What makes a kind of talk due."""

    GOAL_SET = "goal_set"
    PERIODIC = "periodic"
    MILESTONE_DONE = "milestone_done"
    ON_DEMAND = "on_demand"
    CYCLE_END = "cycle_end"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TalkKind(_Frozen):
    """HR's statement of one kind of talk: what it is, when, whose, how recorded."""

    family: Family
    definition: LocalizedText
    trigger: Trigger
    owner: Literal["manager", "employee", "hr"] = "manager"
    must_record: bool = True
    linked_to_decisions: bool = False
    default_minutes: int = Field(ge=5, le=240)
    label: dict[Locale, Annotated[str, Field(max_length=75)]] = Field(default_factory=dict)
    # Whether HR reads this kind's facts and consensus (HR always sees that talks happen:
    # dates, kinds, counts, actions' status). Unset: off for dialogues, on for reviews.
    hr_reads_content: bool | None = None

    @model_validator(mode="after")
    def _reviews_are_decisions_dialogues_are_not(self) -> TalkKind:
        if self.family is Family.DIALOGUE and self.linked_to_decisions:
            raise ValueError("a dialogue (绩效对话) cannot be linked to reward decisions")
        return self

    @property
    def hr_reads(self) -> bool:
        """Whether HR reads this kind's facts and consensus."""
        if self.hr_reads_content is not None:
            return self.hr_reads_content
        return self.family is Family.REVIEW


class WorkingHours(_Frozen):
    """The local hours in which the bot may write to people."""

    start: time = time(9, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _start_before_end(self) -> WorkingHours:
        if self.start >= self.end:
            raise ValueError("start must be before end")
        return self


Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class CheckinRhythm(_Frozen):
    """How often each manager should hold a check-in with each report."""

    every: Literal["month", "quarter", "weeks"] = "month"
    weeks: int = Field(default=2, ge=1, le=13)
    weekday: Weekday | None = None
    hour: int = Field(default=10, ge=0, le=23)


class Cadence(_Frozen):
    """When nudges are due."""

    checkin: CheckinRhythm = CheckinRhythm()
    goal_clarification_after_days: int = Field(default=2, ge=0, le=30)
    goal_reminder_every_days: int = Field(default=7, ge=1, le=60)
    escalate_after_periods: int = Field(default=2, ge=2, le=6)
    self_assessment_lead_days: int = Field(default=10, ge=1, le=60)
    self_assessment_reminder_days: int = Field(default=3, ge=1, le=30)
    prep_pack_lead_days: int = Field(default=3, ge=1, le=30)


class Cycles(_Frozen):
    """Appraisal cycles: their length and the review window after each."""

    cadence: Literal["quarterly", "half_year", "annual"] = "quarterly"
    first_start: date = date(2026, 1, 1)
    review_window_days: int = Field(default=14, ge=1, le=90)


class ReviewRules(_Frozen):
    """The formal review: its rating scale and who gets a longer interview."""

    rating_min: int = Field(default=1, ge=0, le=10)
    rating_max: int = Field(default=5, ge=1, le=10)
    rating_labels: dict[int, dict[Locale, str]] = Field(default_factory=dict)
    key_people: tuple[str, ...] = ()
    extra_minutes: int = Field(default=30, ge=0, le=120)

    @model_validator(mode="after")
    def _scale_in_order(self) -> ReviewRules:
        if self.rating_min >= self.rating_max:
            raise ValueError("rating_min must be below rating_max")
        outside = [r for r in self.rating_labels if not self.rating_min <= r <= self.rating_max]
        if outside:
            raise ValueError(f"rating_labels outside the scale: {outside}")
        return self

    def is_extreme(self, rating: int | None) -> bool:
        """A rating at either end of the scale."""
        return rating is not None and rating in (self.rating_min, self.rating_max)


class Delivery(_Frozen):
    """How the outbox sends: pace, retries, leases, and what to do with missed moments."""

    sends_per_second: float = Field(default=4.0, gt=0, le=100)
    max_sends_per_second: float = Field(default=50.0, gt=0, le=1000)
    concurrency: int = Field(default=4, ge=1, le=64)
    max_attempts: int = Field(default=5, ge=1, le=20)
    drop_after_hours: int = Field(default=72, ge=1, le=24 * 30)
    plan_every_minutes: int = Field(default=10, ge=1, le=24 * 60)
    dispatch_every_seconds: int = Field(default=20, ge=1, le=3600)
    lease_seconds: int = Field(default=30, ge=1, le=600)
    # Which chat platform a person with accounts on several is reached on first.
    platform_order: tuple[ChatPlatform, ...] = ("slack", "teams")

    @model_validator(mode="after")
    def _ceiling_above_start(self) -> Delivery:
        if self.max_sends_per_second < self.sends_per_second:
            raise ValueError("max_sends_per_second must be at least sends_per_second")
        if not self.platform_order or len(set(self.platform_order)) < len(self.platform_order):
            raise ValueError("platform_order must name each platform at most once, and one")
        return self

    @property
    def new_nudges_per_pass(self) -> int:
        """The most nudges one planning pass creates, those due first: twice what the
        dispatcher can send before the next pass, and never under 5,000. The first pass of
        a period for a large organisation wants far more (463k for 100k people in a review
        week), which would take a day to send at Slack's pace anyway; creating them all at
        once would only make that one pass slow."""
        per_pass = 2 * self.sends_per_second * self.plan_every_minutes * 60
        return max(MIN_NEW_NUDGES_PER_PASS, math.ceil(per_pass))


class OrgImportRules(_Frozen):
    """Guards on `import-org`, so that a truncated HR export cannot empty the organisation."""

    # An import that would deactivate more than this share of the active people stops
    # (unless run with --allow-deactivate).
    max_deactivate_share: float = Field(default=0.1, ge=0, le=1)


class Privacy(_Frozen):
    """Who reads the manager's private notes (README "Security and data handling")."""

    # A private note is the manager's working note: neither HR nor the employee reads it
    # unless HR switches that on here. The employee's "my data" always lists that notes exist.
    hr_reads_private_notes: bool = False
    employee_sees_private_notes: bool = False


class Retention(_Frozen):
    """How long records are kept; the daily job (and `retention --apply`) deletes the rest.
    Days from the record's date: a talk's day, a review's cycle end, a note's talk, a
    message's sending, a log row's time, a leaver's deactivation."""

    dialogue_records_days: int = Field(default=3 * 365, ge=30, le=36500)
    review_records_days: int = Field(default=5 * 365, ge=30, le=36500)
    private_notes_days: int = Field(default=365, ge=1, le=36500)
    delivered_nudges_days: int = Field(default=90, ge=1, le=36500)
    access_log_days: int = Field(default=2 * 365, ge=30, le=36500)
    leavers_grace_days: int = Field(default=90, ge=0, le=36500)
    batch_size: int = Field(default=500, ge=1, le=10_000)
    hour: int = Field(default=3, ge=0, le=23)  # the daily job's hour, in the policy's zone

    @model_validator(mode="after")
    def _notes_no_longer_than_records(self) -> Retention:
        if self.private_notes_days > self.dialogue_records_days:
            raise ValueError("private_notes_days cannot exceed dialogue_records_days")
        return self


class HrDigest(_Frozen):
    """HR's weekly picture of coverage, sent to each HR person on their own platform."""

    enabled: bool = True
    weekday: Weekday = "mon"
    hour: int = Field(default=9, ge=0, le=23)  # in each HR person's own time zone
    group_by: Literal["manager", "team"] = "manager"


class Policy(_Frozen):
    """The whole policy file."""

    locale: Locale = "en"
    timezone: TimeZoneName = "UTC"
    country: str | None = Field(default=None, min_length=2, max_length=2)
    working_days: tuple[Weekday, ...] = (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    )
    working_hours: WorkingHours = WorkingHours()
    cadence: Cadence = Cadence()
    cycles: Cycles = Cycles()
    delivery: Delivery = Delivery()
    review: ReviewRules = ReviewRules()
    org_import: OrgImportRules = OrgImportRules()
    privacy: Privacy = Privacy()
    retention: Retention = Retention()
    hr_digest: HrDigest = HrDigest()
    talk_kinds: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")], TalkKind]

    @field_validator("working_days")
    @classmethod
    def _some_days(cls, days: tuple[str, ...]) -> tuple[str, ...]:
        if not days:
            raise ValueError("name at least one working day")
        return days

    @model_validator(mode="after")
    def _both_families(self) -> Policy:
        families = {kind.family for kind in self.talk_kinds.values()}
        if Family.DIALOGUE not in families:
            raise ValueError("talk_kinds needs at least one dialogue (绩效对话) kind")
        return self

    def kind(self, kind_id: str) -> TalkKind:
        """The kind called `kind_id`; KeyError when the policy has none."""
        return self.talk_kinds[kind_id]

    def dialogue_kinds(self) -> list[str]:
        """Ids of the dialogue kinds, in the file's order."""
        return [k for k, v in self.talk_kinds.items() if v.family is Family.DIALOGUE]

    def hr_reads_content(self, kind_id: str, family: str) -> bool:
        """Whether HR reads the facts and consensus of talks of this kind; a kind the file no
        longer names is read as its family's default (reviews yes, dialogues no)."""
        kind = self.talk_kinds.get(kind_id)
        return kind.hr_reads if kind is not None else family == Family.REVIEW

    def kind_label(self, kind_id: str, locale: str) -> str | None:
        """HR's own label for a kind in `locale`, if the file gives one."""
        kind = self.talk_kinds.get(kind_id)
        return kind.label.get(locale) if kind and locale in LOCALES else None


class PolicyError(Exception):
    """The policy file cannot be used; the message names the file, the field and the fault."""


def _describe(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: invalid policy"]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field (check its spelling)"
        lines.append(f"  {field}: {message}")
    return "\n".join(lines)


def parse_policy(data: object, path: Path) -> Policy:
    """Validate already-loaded YAML data as a policy."""
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: the file must hold a mapping of settings")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(path, exc)) from None


def load_policy(path: Path) -> Policy:
    """Read and validate the policy file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    return parse_policy(data, path)
