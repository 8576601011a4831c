"""Teams payloads → typed values for the domain; nothing here decides anything.

Pure functions (no SDK, no database). A card's inputs come back merged into the data of the
button that was pressed (`activity.value` for a message's Action.Submit, `value.data` for a
dialog's `task/submit`, `value.action.data` for an Action.Execute); every value is read as
text, bounded, and nothing read here is trusted: an unreadable record id is 0, which names no
record, so the domain refuses it like any unknown one."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from bot.engine.choices import SKIP_REASONS, SkipReason
from bot.errors import Invalid, Problem
from bot.records.talks import MAX_ACTIONS, ActionDraft, TalkDraft
from bot.review.interview_record import MAX_DEVELOPMENT, ReviewDraft
from bot.text import clean
from handlers.payload import Unreadable, day, record_id
from handlers.teams import ids
from storage.models import TalkShare

PERSON_REF_LIMIT = 64  # a person key (or a Slack id, from older messages) is far shorter
VALUE_LIMIT = 20_000  # characters of one input kept (the domain refuses over its own limits)
_MENTION = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]{0,200}>")


def data_of(value: object) -> dict[str, Any]:
    """The data a click or a dialog's submission carries, from an invoke's `value` or a
    message's `value`: always a dict of str keys."""
    if not isinstance(value, Mapping):
        return {}
    inner = value.get("data")
    if isinstance(inner, Mapping):
        return {str(k): v for k, v in inner.items()}
    action = value.get("action")
    if isinstance(action, Mapping) and isinstance(action.get("data"), Mapping):
        return {str(k): v for k, v in action["data"].items()}
    return {str(k): v for k, v in value.items()}


def text_of(data: Mapping[str, Any], name: str) -> str:
    """An input's value as text, cleaned and bounded."""
    raw = data.get(name)
    if raw is None or isinstance(raw, (dict, list)):
        return ""
    return clean(str(raw)[:VALUE_LIMIT])


def person_of(data: Mapping[str, Any], name: str = ids.EMPLOYEE) -> str:
    """A person key a card carries back (whom a form or a button is about), bounded; the
    domain checks it names someone the actor may act on."""
    return text_of(data, name)[:PERSON_REF_LIMIT]


def form_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Every input of the record form as typed (the digest of a submission, and what a
    re-rendered form shows again)."""
    names = [
        ids.TALK_KIND,
        ids.TALK_HELD_ON,
        ids.TALK_MINUTES,
        ids.TALK_FACTS,
        ids.TALK_CONSENSUS,
        ids.TALK_COMPLETED,
        ids.TALK_SHARE,
        ids.TALK_PRIVATE_NOTE,
    ]
    for n in range(1, MAX_ACTIONS + 1):
        names += [ids.action_field(n, part) for part in ("text", "owner", "due")]
    return {name: text_of(data, name) for name in names if text_of(data, name)}


def _owner(raw: str) -> Literal["manager", "employee"] | None:
    return raw if raw in ("manager", "employee") else None  # type: ignore[return-value]


class _Days:
    """A form's dates, read as they are asked for; each unreadable one becomes a problem on
    its field (`checked` raises them all at once, like the domain's own problems)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values, self.problems = values, dict[str, Problem]()

    def __call__(self, name: str) -> date | None:
        try:
            return day(self.values.get(name))
        except Unreadable as unreadable:
            self.problems[name] = Problem(unreadable.key, dict(unreadable.params))
            return None

    def checked(self) -> None:
        if self.problems:
            raise Invalid(self.problems)


def _action_rows(
    values: Mapping[str, str], rows: int, name: Callable[[int, str], str], days: _Days
) -> tuple[ActionDraft, ...]:
    """A form's action rows (text, owner, due date) as drafts."""
    return tuple(
        ActionDraft(
            text=values.get(name(n, "text"), ""),
            owner=_owner(values.get(name(n, "owner"), "")),
            due_on=days(name(n, "due")),
        )
        for n in range(1, rows + 1)
    )


def _minutes(values: Mapping[str, str]) -> str | None:
    minutes = values.get("minutes")
    if minutes and minutes.endswith(".0"):  # some clients send a number input as 30.0
        minutes = minutes[:-2]
    return minutes


def talk_draft(data: Mapping[str, Any]) -> TalkDraft:
    """The record form's submission as a draft; `Invalid` (field → problem) for dates that
    cannot be read, like the domain's own problems."""
    values = form_values(data)
    days = _Days(values)
    actions = _action_rows(values, MAX_ACTIONS, ids.action_field, days)
    held_on = days(ids.TALK_HELD_ON)
    days.checked()
    completed = [record_id(p) for p in values.get(ids.TALK_COMPLETED, "").split(",")]
    share = values.get(ids.TALK_SHARE, "")
    return TalkDraft(
        employee_id=person_of(data),
        kind=values.get(ids.TALK_KIND, ""),
        held_on=held_on,
        minutes=_minutes(values),
        facts=values.get(ids.TALK_FACTS, ""),
        consensus=values.get(ids.TALK_CONSENSUS, ""),
        actions=actions,
        completed_action_ids=tuple(n for n in completed if n),
        talk_share=TalkShare(share) if share in TalkShare._value2member_map_ else None,
        private_note=values.get(ids.TALK_PRIVATE_NOTE, ""),
    )


def read_day(raw: str, field: str) -> date | None:
    """A day typed in a form's date input, or None when empty; `Invalid` (that field →
    the problem) when it is not a day."""
    days = _Days({field: raw})
    found = days(field)
    days.checked()
    return found


REVIEW_TEXTS = ("rating", "evidence", "gaps", "next_goals", "employee_view", "held_on", "minutes")


def review_values(data: Mapping[str, Any]) -> dict[str, str]:
    """Every input of the review form as typed (its digest, and what a re-render shows)."""
    names = [*REVIEW_TEXTS, "decisions"]
    for n in range(1, MAX_DEVELOPMENT + 1):
        names += [ids.action_field(n, part) for part in ("text", "owner", "due")]
    return {name: text_of(data, name) for name in names if text_of(data, name)}


def review_draft(data: Mapping[str, Any]) -> ReviewDraft:
    """The review form's submission as a draft; `Invalid` for dates that cannot be read."""
    values = review_values(data)
    days = _Days(values)
    actions = _action_rows(values, MAX_DEVELOPMENT, ids.action_field, days)
    held_on = days("held_on")
    days.checked()
    return ReviewDraft(
        employee_id=person_of(data),
        rating=values.get("rating") or None,
        evidence=values.get("evidence", ""),
        held_on=held_on,
        minutes=_minutes(values),
        gaps=values.get("gaps", ""),
        next_goals=values.get("next_goals", ""),
        actions=actions,
        decisions=tuple(d for d in values.get("decisions", "").split(",") if d),
        employee_view=values.get("employee_view", ""),
        review_id=record_id(data.get(ids.REVIEW)) or None,
    )


# -- commands ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Command:
    """What a message to the bot asked for: its first word(s), and the rest."""

    action: Literal[
        "checkin", "goal", "milestone", "self", "review", "home", "help", "my_data", "unknown"
    ]
    rest: str = ""


_COMMANDS: dict[str, Literal["checkin", "goal", "self", "review", "home", "help"]] = {
    "checkin": "checkin",
    "check-in": "checkin",
    "log": "checkin",
    "self": "self",
    "review": "review",
    "home": "home",
    "overview": "home",
    "help": "help",
    "?": "help",
    "记录": "checkin",
    "自评": "self",
    "面谈": "review",
    "概览": "home",
    "帮助": "help",
}


def command(text: str | None) -> Command:
    """A message's command: `checkin`, `checkin goal`, `checkin milestone`, `self`, `review`,
    `home`, `my data`, `help`
    (case, a leading slash and an @mention of the bot do not matter)."""
    words = _TAGS.sub(" ", _MENTION.sub(" ", text or "")[:1000]).split()
    if not words:
        return Command("help")
    first = words[0].lower().lstrip("/")
    second = words[1].lower() if len(words) > 1 else ""
    if first == "checkin" and second in ("goal", "milestone"):
        return Command(second, " ".join(words[2:]))  # type: ignore[arg-type]
    if first in ("goal", "milestone"):
        return Command(first, " ".join(words[1:]))  # type: ignore[arg-type]
    if (first, second) == ("my", "data") or first in ("my-data", "mydata", "我的数据"):
        return Command("my_data")
    found = _COMMANDS.get(first)
    if found is None:
        return Command("unknown")
    return Command(found, " ".join(words[1:]))


# -- nudges -----------------------------------------------------------------------------------
def skip_reason(data: Mapping[str, Any]) -> SkipReason:
    """The reason chosen under Skip (its choice set sends it with the click); an unknown one
    reads as "not relevant"."""
    raw = text_of(data, ids.REASON)
    return next((r for r in SKIP_REASONS if r == raw), "not_relevant")


# -- files ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileConsent:
    """The person's answer to a file consent card: accepted with where to upload, or not."""

    accepted: bool
    file: str
    upload_url: str = ""
    content_url: str = ""
    unique_id: str = ""
    name: str = ""
    file_type: str = ""


def file_consent(value: Any) -> FileConsent | None:
    """A `fileConsent/invoke` value, or None when it is not one Teams sends."""
    if not isinstance(value, Mapping) or value.get("type") != "fileUpload":
        return None
    context = value.get("context")
    file = str(context.get("file") or "")[:40] if isinstance(context, Mapping) else ""
    if value.get("action") == "decline":
        return FileConsent(False, file)
    info = value.get("uploadInfo")
    if value.get("action") != "accept" or not isinstance(info, Mapping):
        return None
    upload, content, unique = (
        str(info.get(k) or "")[:2000] for k in ("uploadUrl", "contentUrl", "uniqueId")
    )
    if not (upload and content and unique):
        return None
    return FileConsent(
        True,
        file,
        upload_url=upload,
        content_url=content,
        unique_id=unique,
        name=str(info.get("name") or "")[:200],
        file_type=str(info.get("fileType") or "")[:20],
    )
