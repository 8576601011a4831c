"""Slack payloads → typed values for the domain, per feature; nothing here decides anything.

Every function is pure (no Bolt, no database): it reads a payload and returns a typed value,
or raises `bot.errors.Invalid` (a field → problem map, shown under the form's fields like
the domain's own) or `Unreadable` (a command or a click that cannot be read). Nothing read
here is trusted: a record id that cannot be read is 0, which names no record, so the domain
refuses it like any unknown one."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from bot.engine.choices import SKIP_REASONS, SkipReason
from bot.errors import Invalid, Problem
from bot.records.talks import MAX_ACTIONS, ActionDraft, TalkDraft
from bot.review import interview_record
from bot.review.self_assessment import TEXT_FIELDS
from bot.text import clean
from handlers.payload import Unreadable, day, record_id
from handlers.slack import ids
from handlers.slack.blocks.kit import unescape
from storage.models import TalkShare

_ESCAPED_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_RAW_USER = re.compile(r"^([UW][A-Z0-9]{6,})$")


# -- shared -----------------------------------------------------------------------------------
def button_record_id(action: dict[str, Any]) -> int:
    """The record a clicked button is about (its value: a talk's, goal's, review's id)."""
    return record_id(action.get("value"))


def form_values(view: dict[str, Any]) -> dict[str, Any]:
    """A submitted modal's state as Slack sent it (what a submission's digest is made of)."""
    return view.get("state", {}).get("values", {})


def shown_blocks(view: dict[str, Any]) -> set[str]:
    """The block ids a view shows (a problem with a field it does not show goes elsewhere)."""
    return {str(b["block_id"]) for b in view.get("blocks") or [] if b.get("block_id")}


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The routing data a modal carries in its private_metadata (never trusted for access)."""
    return _routing(view.get("private_metadata"))


def _routing(raw: object) -> dict[str, Any]:
    try:
        data = json.loads(str(raw or "{}"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def choice(action: dict[str, Any]) -> dict[str, Any]:
    """The routing data of a clicked button or a chosen option (see `ids.*_value`)."""
    return _routing(action.get("value") or (action.get("selected_option") or {}).get("value"))


@dataclass(frozen=True)
class Clicked:
    """The message a click came from, as the payload says (the outbox decides where a
    message is updated; this is only compared with it)."""

    channel: str | None
    ts: str | None


def clicked(body: dict[str, Any]) -> Clicked:
    """Where a click came from: a message's channel and ts (none from App Home or a modal)."""
    return Clicked((body.get("channel") or {}).get("id"), (body.get("message") or {}).get("ts"))


def typed_search(body: dict[str, Any], limit: int) -> str:
    """What was typed in a select that loads its options as the user types."""
    return clean(str(body.get("value") or ""))[:limit]


class _Form:
    """A modal's state, read field by field; a date that cannot be read is noted as a
    problem of its field and `checked()` raises them all at once."""

    def __init__(self, view: dict[str, Any]) -> None:
        self.values: dict[str, Any] = form_values(view)
        self.problems: dict[str, Problem] = {}

    def has(self, block_id: str) -> bool:
        return block_id in self.values

    def element(self, block_id: str, action_id: str = ids.VALUE) -> dict[str, Any]:
        return (self.values.get(block_id) or {}).get(action_id) or {}

    def text(self, block_id: str) -> str:
        return clean(self.element(block_id).get("value") or "")

    def selected(self, block_id: str, action_id: str = ids.VALUE) -> str | None:
        option = self.element(block_id, action_id).get("selected_option")
        return option.get("value") if option else None

    def chosen(self, block_id: str) -> list[str]:
        return [
            str(o.get("value", "")) for o in self.element(block_id).get("selected_options") or []
        ]

    def day(self, block_id: str, field_name: str) -> date | None:
        try:
            return day(self.element(block_id).get("selected_date"))
        except Unreadable as unreadable:
            self.problems[field_name] = Problem(unreadable.key, dict(unreadable.params))
            return None

    def checked(self) -> None:
        if self.problems:
            raise Invalid(self.problems)


def _owner(raw: str | None) -> Literal["manager", "employee"] | None:
    return raw if raw in ("manager", "employee") else None  # type: ignore[return-value]


# -- the command ------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckinCommand:
    """What `/checkin …` asked for."""

    action: Literal[
        "help", "pick", "open", "goal", "milestone", "self", "review", "my_data", "unknown"
    ]
    user_id: str | None = None
    handle: str | None = None
    rest: str = ""


MY_DATA_WORDS = ("my-data", "mydata", "my_data", "我的数据")


def checkin_command(text: str | None) -> CheckinCommand:
    """Read the text after `/checkin`: nothing, `help`, or a person (`<@U1|a>`, `<@U1>`, `@a`)."""
    text = clean(text or "")
    words = text.split()
    if not words:
        return CheckinCommand("pick")
    first = words[0]
    if first.lower() in ("help", "帮助", "?"):
        return CheckinCommand("help")
    if first.lower() in MY_DATA_WORDS:
        return CheckinCommand("my_data")
    if first.lower() in ("goal", "milestone", "self", "review"):
        rest = text.strip()[len(first) :].strip()
        return CheckinCommand(first.lower(), rest=rest)  # type: ignore[arg-type]
    if match := _ESCAPED_USER.match(first):
        return CheckinCommand("open", user_id=match.group(1))
    if first.startswith("@") and len(first) > 1:
        return CheckinCommand("open", handle=first[1:])
    if match := _RAW_USER.match(first):
        return CheckinCommand("open", user_id=match.group(1))
    return CheckinCommand("unknown")


# -- talks ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TalkFormRedraw:
    """The record form to draw again: whom it is about, how many action rows, which kind."""

    employee_id: str
    rows: int
    kind: str | None


def talk_form_redraw(view: dict[str, Any], action: dict[str, Any]) -> TalkFormRedraw:
    """What a click in the open record form asks for: one more action row (Add action), or
    the kind just chosen (its hints)."""
    meta = metadata(view)
    rows = record_id(meta.get(ids.ROWS_KEY)) or 1
    if action.get("action_id") == ids.TALK_ADD_ACTION_ROW:
        rows += 1
    kind = _Form(view).selected(ids.TALK_KIND, ids.TALK_KIND_SELECT)
    return TalkFormRedraw(str(meta.get(ids.EMPLOYEE_KEY, "")), rows, kind)


@dataclass(frozen=True)
class Picked:
    """Whom a picker chose: one of our options (a person key) or, from Slack's own people
    picker, a Slack user (mapped to a person by the listener)."""

    key: str = ""
    slack_user: str = ""


def picked_user(view: dict[str, Any]) -> Picked:
    """The person chosen in the picker modal (neither when none)."""
    form = _Form(view)
    ours = form.element(ids.TALK_EMPLOYEE, ids.TALK_PICK_REPORT)
    if ours:
        return Picked(key=str((ours.get("selected_option") or {}).get("value") or ""))
    return Picked(slack_user=str(form.element(ids.TALK_EMPLOYEE).get("selected_user") or ""))


def talk_draft(view: dict[str, Any]) -> TalkDraft:
    """The record form's state (and whom its routing data names) as a draft; `Invalid`
    when a date cannot be read."""
    form = _Form(view)
    actions = []
    for n in range(1, MAX_ACTIONS + 1):
        actions.append(
            ActionDraft(
                text=form.text(ids.talk_action_block(n, "text")),
                owner=_owner(form.selected(ids.talk_action_block(n, "owner"))),
                due_on=form.day(ids.talk_action_block(n, "due"), f"action_{n}_due"),
            )
        )
    completed = [n for n in map(record_id, form.chosen(ids.TALK_COMPLETED)) if n]
    share = form.selected(ids.TALK_SHARE)
    held_on = form.day(ids.TALK_HELD_ON, "held_on")
    form.checked()
    return TalkDraft(
        employee_id=str(metadata(view).get(ids.EMPLOYEE_KEY, "")),
        kind=form.selected(ids.TALK_KIND, ids.TALK_KIND_SELECT) or "",
        held_on=held_on,
        minutes=form.text(ids.TALK_MINUTES),
        facts=form.text(ids.TALK_FACTS),
        consensus=form.text(ids.TALK_CONSENSUS),
        actions=tuple(actions),
        completed_action_ids=tuple(completed),
        talk_share=TalkShare(share) if share in TalkShare._value2member_map_ else None,
        private_note=form.text(ids.TALK_PRIVATE_NOTE),
    )


# -- App Home ---------------------------------------------------------------------------------
def home_page(action: dict[str, Any]) -> int:
    """The page a Previous or Next button turns to."""
    return record_id(action.get("value")) or 1


def log_talk_employee(action: dict[str, Any]) -> str:
    """Whose "Log a talk" button was clicked in App Home."""
    return str(action.get("value", ""))


# -- nudges -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NudgeChoice:
    """A choice made under a nudge (see `ids.nudge_*_value`); what a button did not carry
    has its default."""

    nudge_id: int = 0
    employee_id: str = ""
    kind: str = "checkin"
    until: Literal["tomorrow", "week"] = "tomorrow"
    reason: SkipReason = "not_relevant"
    action_id: int = 0


def nudge_choice(action: dict[str, Any]) -> NudgeChoice:
    """What a click or a chosen option under a nudge asks for."""
    data = choice(action)
    reason = str(data.get(ids.REASON_KEY))
    return NudgeChoice(
        nudge_id=record_id(data.get(ids.NUDGE_KEY)),
        employee_id=str(data.get(ids.EMPLOYEE_KEY, "")),
        kind=str(data.get(ids.KIND_KEY, "checkin")),
        until="week" if data.get(ids.UNTIL_KEY) == "week" else "tomorrow",
        reason=reason if reason in SKIP_REASONS else "not_relevant",  # type: ignore[arg-type]
        action_id=record_id(data.get(ids.ACTION_KEY)),
    )


# -- goals ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GoalSubmission:
    """The goal modal as typed: whose goal (chosen in the form, or named in its routing
    data when it was opened for one person), its title, measure and due date."""

    employee_id: str
    title: str
    measure: str
    due_on: date | None


def goal_submission(view: dict[str, Any]) -> GoalSubmission:
    """The goal modal's state; `Invalid` when nobody is chosen or the date cannot be read."""
    form = _Form(view)
    employee_id = (
        form.selected(ids.GOAL_EMPLOYEE, ids.GOAL_EMPLOYEE_PICK)
        if form.has(ids.GOAL_EMPLOYEE)
        else metadata(view).get(ids.EMPLOYEE_KEY)
    )
    if not employee_id:
        form.problems["employee"] = Problem("goal.error.employee_required")
    due_on = form.day(ids.GOAL_DUE, "due_on")
    form.checked()
    return GoalSubmission(
        employee_id=str(employee_id),
        title=form.text(ids.GOAL_TITLE),
        measure=form.text(ids.GOAL_MEASURE),
        due_on=due_on,
    )


@dataclass(frozen=True)
class GoalDecision:
    """Confirm or Decline on a goal proposal."""

    goal_id: int
    confirm: bool


def goal_decision(action: dict[str, Any]) -> GoalDecision:
    """Which proposal, and which button."""
    return GoalDecision(record_id(action.get("value")), action.get("action_id") == ids.GOAL_CONFIRM)


# -- milestones -------------------------------------------------------------------------------
_QUOTED = re.compile(r'^\s*["“”]([^"“”]*)["“”]\s*(.*)$', re.DOTALL)
_TOKEN = re.compile(r"<[^>]*>|\S+")


@dataclass(frozen=True)
class Mention:
    """A person named in a command: by Slack id, or by a plain `@name`."""

    user_id: str | None = None
    handle: str | None = None


@dataclass(frozen=True)
class MilestoneRequest:
    """What `/checkin milestone …` asked for."""

    name: str
    people: tuple[Mention, ...]
    due_on: date | None


def milestone_request(text: str) -> MilestoneRequest:
    """Read `"NAME" @person … [YYYY-MM-DD]` (straight or curly quotes; `<@U1|a>`, `<@U1>`,
    `@name`); `Unreadable` says what is wrong."""
    quoted = _QUOTED.match(clean(text or ""))
    if quoted is None or not quoted.group(1).strip():
        raise Unreadable("milestone.error.no_name")
    tokens = _TOKEN.findall(quoted.group(2))
    people: list[Mention] = []
    due_on = None
    for position, token in enumerate(tokens, start=1):
        if match := _ESCAPED_USER.match(token):
            people.append(Mention(user_id=match.group(1)))
        elif token.startswith("@") and len(token) > 1:
            people.append(Mention(handle=token[1:]))
        elif position == len(tokens) and any(ch.isdigit() for ch in token):
            due_on = day(token)
        else:
            raise Unreadable("milestone.error.unreadable", value=token)
    if not people:
        raise Unreadable("milestone.error.no_people")
    # Slack sends a command's `&`, `<` and `>` as entities: the name is stored as typed
    return MilestoneRequest(unescape(quoted.group(1)).strip(), tuple(people), due_on)


# -- self-assessment and interview dates ------------------------------------------------------
@dataclass(frozen=True)
class SelfAnswers:
    """The self-assessment modal as typed, and the cycle its routing data names (0 when it
    cannot be read)."""

    cycle_id: int
    rating: str | None
    texts: dict[str, str] = field(default_factory=dict)

    def typed(self) -> dict[str, Any]:
        """The answers by field name, to draw the modal again with them."""
        return {"rating": self.rating, **self.texts}


def self_answers(view: dict[str, Any]) -> SelfAnswers:
    """The self-assessment modal's state."""
    form = _Form(view)
    texts = {name: form.text(ids.self_block(name)) for name in TEXT_FIELDS}
    cycle_id = record_id(metadata(view).get(ids.CYCLE_KEY))
    return SelfAnswers(cycle_id, form.selected(ids.SELF_RATING), texts)


def self_open_cycle(action: dict[str, Any]) -> int | None:
    """The cycle the nudge's "Open my self-assessment" names: None for the one under review
    now, 0 when it cannot be read."""
    raw = choice(action).get(ids.CYCLE_KEY)
    return None if raw is None else record_id(raw)


@dataclass(frozen=True)
class InterviewChoice:
    """A day picked for a report's review interview."""

    cycle_id: int | None
    employee_id: str
    day: date


def interview_choice(action: dict[str, Any]) -> InterviewChoice | None:
    """The day picked and for whom (from the picker's action id); None for a cleared picker
    or a malformed id; `Unreadable` when the day cannot be read."""
    match = ids.INTERVIEW_ACTION.match(action.get("action_id") or "")
    picked = day(action.get("selected_date"))
    if match is None or picked is None:
        return None
    cycle_id = record_id(match.group(1)) or None  # "-": the cycle under review now
    return InterviewChoice(cycle_id, match.group(2), picked)


# -- review interviews ------------------------------------------------------------------------
def review_draft(view: dict[str, Any]) -> interview_record.ReviewDraft:
    """The review modal's state (and its routing data) as a draft; `Invalid` when a date
    cannot be read."""
    form = _Form(view)
    meta = metadata(view)
    actions = []
    for n in range(1, interview_record.MAX_DEVELOPMENT + 1):
        actions.append(
            ActionDraft(
                text=form.text(ids.review_block(f"action_{n}_text")),
                owner=_owner(form.selected(ids.review_block(f"action_{n}_owner"))),
                due_on=form.day(ids.review_block(f"action_{n}_due"), f"action_{n}_due"),
            )
        )
    held_on = form.day(ids.REVIEW_HELD_ON, "held_on")
    form.checked()
    return interview_record.ReviewDraft(
        employee_id=str(meta.get(ids.EMPLOYEE_KEY, "")),
        rating=form.selected(ids.REVIEW_RATING),
        evidence=form.text(ids.REVIEW_EVIDENCE),
        held_on=held_on,
        minutes=form.text(ids.REVIEW_MINUTES),
        gaps=form.text(ids.REVIEW_GAPS),
        next_goals=form.text(ids.REVIEW_NEXT_GOALS),
        actions=tuple(actions),
        decisions=tuple(form.chosen(ids.REVIEW_DECISIONS)),
        employee_view=form.text(ids.REVIEW_EMPLOYEE_VIEW),
        review_id=record_id(meta.get(ids.REVIEW_KEY)) or None,
    )


@dataclass(frozen=True)
class Disagreement:
    """The employee's comment on a review, and which review (0 when it cannot be read)."""

    review_id: int
    comment: str


def disagreement(view: dict[str, Any]) -> Disagreement:
    """The disagreement modal's state."""
    review_id = record_id(metadata(view).get(ids.REVIEW_KEY))
    return Disagreement(review_id, _Form(view).text(ids.REVIEW_COMMENT))


# -- events -----------------------------------------------------------------------------------
def event_id(body: dict[str, Any]) -> str | None:
    """An Events API delivery's event_id (Slack retries carry the same one)."""
    return body.get("event_id") if body.get("type") == "event_callback" else None


def home_opened_by(event: dict[str, Any]) -> str | None:
    """Who opened the Home tab (None when another tab of the app was opened)."""
    return event.get("user") if event.get("tab", "home") == "home" else None


def bot_token_revoked(event: dict[str, Any]) -> bool:
    """Whether a `tokens_revoked` event names a bot token (a user token is not ours)."""
    return bool((event.get("tokens") or {}).get("bot"))
