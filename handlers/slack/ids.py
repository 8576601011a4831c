"""Every id a Slack payload carries back to us, per feature: the command, callback ids,
action ids, block ids, and the routing data of private_metadata and button values (its keys
and how it is written; `parse` reads it back). Builders and listeners import these, never
spell them. A value, once sent, is in stored messages and open modals: never change one."""

import json
import re

# -- shared -----------------------------------------------------------------------------------
COMMAND = "/checkin"
# Every input element uses VALUE as its action id; the block id names the field.
VALUE = "value"
# Modals that stand in for a form (no listener: they have no submit).
LOADING_MODAL = "loading"
MESSAGE_MODAL = "message"

# Routing data: keys of private_metadata and of button values (never trusted for access;
# the listener checks again who may do what).
# A person in an id: a person key, or the Slack user id that ids sent before person keys
# (migration 0009) carry; the listener reads either (`Deps.person_ref`).
PERSON = r"[A-Za-z0-9]{1,32}"
EMPLOYEE_KEY = "e"
KIND_KEY = "k"
CYCLE_KEY = "c"
REVIEW_KEY = "r"
ROWS_KEY = "r"  # the talk form: how many action rows it shows
NUDGE_KEY = "n"
UNTIL_KEY = "u"
REASON_KEY = "r"
ACTION_KEY = "a"


def _compact(**data: object) -> str:
    """Routing data in a button or option value (they hold 2,000 and 150 characters)."""
    return json.dumps(data, separators=(",", ":"))


# -- talks: the record form, the report picker, the record's Acknowledge ---------------------
TALK_MODAL = "record_talk"
TALK_PICK_MODAL = "pick_report"
# The report pickers load their options as the user types (a static_select stops at 100).
TALK_PICK_REPORT = "pick_report_option"
TALK_ACKNOWLEDGE = "acknowledge_talk"
TALK_ADD_ACTION_ROW = "add_action_row"
TALK_KIND_SELECT = "kind_select"
# Block ids of the form's fields: a draft's field name is its block id (see `talk_block`).
TALK_KIND = "kind"
TALK_HELD_ON = "held_on"
TALK_MINUTES = "minutes"
TALK_FACTS = "facts"
TALK_CONSENSUS = "consensus"
TALK_COMPLETED = "completed"
TALK_SHARE = "talk_share"
TALK_PRIVATE_NOTE = "private_note"
TALK_HINTS = "hints"
TALK_EMPLOYEE = "employee"


def talk_action_block(index: int, part: str) -> str:
    """The block id of one part (`text`, `owner`, `due`) of action row `index` (1-based)."""
    return f"action_{index}_{part}"


def talk_block(field_name: str) -> str:
    """The block showing a talk draft's field (`facts`, `action_2_due`, …): its name."""
    return field_name


def talk_metadata(employee_id: str, rows: int) -> str:
    """The record form's private_metadata: whom it is about, how many action rows it shows."""
    return json.dumps({EMPLOYEE_KEY: employee_id, ROWS_KEY: rows})


# -- App Home ---------------------------------------------------------------------------------
HOME_LOG_TALK = "log_talk"
HOME_PAGE_PREVIOUS = "home_page_previous"  # Previous and Next share a block: distinct ids
HOME_PAGE_NEXT = "home_page_next"
HOME_PAGE = re.compile(r"^home_page_(previous|next)$")

# -- nudges -----------------------------------------------------------------------------------
NUDGE_LOG_TALK = "nudge_log_talk"
NUDGE_LOG_TALK_PICK = "nudge_log_talk_pick"  # a select when one button per person is too many
# "Log this talk" buttons: one per person in a milestone nudge, so each has its own id.
NUDGE_LOG_TALK_ACTION = re.compile(rf"^nudge_log_talk(?::{PERSON}|_pick)?$")
NUDGE_SNOOZE = "nudge_snooze"
NUDGE_SKIP = "nudge_skip"
NUDGE_ACTION_DONE = "nudge_action_done"
NUDGE_ACTIONS_BLOCK = "nudge_actions"
# HR's weekly digest: its one button sends the full table (nothing in its value to trust)
DIGEST_FULL_TABLE = "digest_full_table"
DIGEST_VALUE = "table"
DIGEST_ACTIONS_BLOCK = "digest_actions"


def nudge_log_talk(employee_id: str) -> str:
    """The action id of one person's "Log talk with …" button in a nudge."""
    return f"{NUDGE_LOG_TALK}:{employee_id}"


def nudge_log_talk_value(employee_id: str, kind: str) -> str:
    """A "Log talk" button's (or option's) value: with whom, which kind of talk."""
    return _compact(**{EMPLOYEE_KEY: employee_id, KIND_KEY: kind})


def nudge_snooze_value(nudge_id: int | None, until: str) -> str:
    """A Snooze option's value: which nudge, until `tomorrow` or `week`."""
    return _compact(**{NUDGE_KEY: nudge_id, UNTIL_KEY: until})


def nudge_skip_value(nudge_id: int | None, reason: str) -> str:
    """A Skip option's value: which nudge, and why."""
    return _compact(**{NUDGE_KEY: nudge_id, REASON_KEY: reason})


def nudge_done_value(nudge_id: int | None, action_id: int | None) -> str:
    """A "Mark done" button's value: which nudge, which action item."""
    return _compact(**{NUDGE_KEY: nudge_id, ACTION_KEY: action_id})


# -- goals ------------------------------------------------------------------------------------
GOAL_MODAL = "goal_set"
GOAL_CONFIRM = "goal_confirm"
GOAL_DECLINE = "goal_decline"
GOAL_DECISION = "goal_decision"
GOAL_EMPLOYEE = "goal_employee"
GOAL_EMPLOYEE_PICK = "goal_employee_option"  # the picker's options load as the user types
GOAL_TITLE = "goal_title"
GOAL_MEASURE = "goal_measure"
GOAL_DUE = "goal_due"
# A problem with a goal field (bot.records.goals) → the block that shows it.
GOAL_FIELD_BLOCKS = {
    "employee": GOAL_EMPLOYEE,
    "title": GOAL_TITLE,
    "measure": GOAL_MEASURE,
    "due_on": GOAL_DUE,
}


def goal_metadata(employee_id: str | None) -> str:
    """The goal modal's private_metadata: whom it is for, unless it has a picker."""
    return json.dumps({EMPLOYEE_KEY: employee_id} if employee_id else {})


# -- milestones -------------------------------------------------------------------------------
MILESTONE_DONE = "milestone_done"

# -- self-assessment --------------------------------------------------------------------------
SELF_MODAL = "self_assessment"
SELF_OPEN = "self_open"
SELF_SAVE_DRAFT = "self_save_draft"  # the button's action id and its block's id
SELF_STATUS = "self_status"


def self_block(field_name: str) -> str:
    """The block showing a self-assessment field (`rating`, `strengths`, …)."""
    return f"self_{field_name}"


SELF_RATING = self_block("rating")


def self_metadata(cycle_id: int | None) -> str:
    """The modal's private_metadata: the cycle it is written for."""
    return json.dumps({CYCLE_KEY: cycle_id})


def self_open_value(cycle_id: int | None) -> str:
    """The nudge's "Open my self-assessment" button's value: the cycle it is about."""
    return json.dumps({CYCLE_KEY: cycle_id})


# -- interview dates (the prep pack's and App Home's date pickers) ---------------------------
INTERVIEW_DATE = "interview_date"
# One date picker per report: the action id carries "interview_date:<cycle id or ->:<person>".
INTERVIEW_ACTION = re.compile(rf"^interview_date:(\d*|-):({PERSON})$")


def interview_date_action(employee_id: str, cycle_id: int | None) -> str:
    """A date picker's action id: which report, in which cycle (routing only)."""
    return f"{INTERVIEW_DATE}:{cycle_id if cycle_id is not None else '-'}:{employee_id}"


def interview_date_block(employee_id: str) -> str:
    """The block id of a report's date picker in App Home."""
    return f"{INTERVIEW_DATE}_{employee_id}"


# -- review interviews ------------------------------------------------------------------------
REVIEW_MODAL = "review_record"
REVIEW_DISAGREE_MODAL = "review_disagree_modal"
REVIEW_ACKNOWLEDGE = "review_acknowledge"
REVIEW_DISAGREE = "review_disagree"
REVIEW_RESPONSE_BLOCK = "review_response"
REVIEW_COMMENT = "review_comment"


def review_block(field_name: str) -> str:
    """The block showing a review draft's field (`rating`, `action_2_due`, …)."""
    return f"review_{field_name}"


REVIEW_RATING = review_block("rating")
REVIEW_EVIDENCE = review_block("evidence")
REVIEW_GAPS = review_block("gaps")
REVIEW_NEXT_GOALS = review_block("next_goals")
REVIEW_DECISIONS = review_block("decisions")
REVIEW_HELD_ON = review_block("held_on")
REVIEW_MINUTES = review_block("minutes")
REVIEW_EMPLOYEE_VIEW = review_block("employee_view")


def review_metadata(employee_id: str, review_id: int | None) -> str:
    """The review modal's private_metadata: whom it is about, the review it edits."""
    data: dict[str, object] = {EMPLOYEE_KEY: employee_id}
    if review_id:
        data[REVIEW_KEY] = review_id
    return json.dumps(data)


def disagree_metadata(review_id: int) -> str:
    """The disagreement modal's private_metadata: the review's id, nothing else."""
    return json.dumps({REVIEW_KEY: review_id})
