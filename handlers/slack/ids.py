"""Every callback, action and block id, shared by the view builders and the listeners."""

import re

# Modals (callback ids)
RECORD_MODAL = "record_talk"
PICK_REPORT_MODAL = "pick_report"

# Interactive actions
ACKNOWLEDGE = "acknowledge_talk"
LOG_TALK = "log_talk"
HOME_PAGE_PREVIOUS = "home_page_previous"  # Previous and Next share a block: distinct ids
HOME_PAGE_NEXT = "home_page_next"
HOME_PAGE = re.compile(r"^home_page_(previous|next)$")
# The report pickers load their options as the user types (a static_select stops at 100).
PICK_REPORT = "pick_report_option"
ADD_ACTION_ROW = "add_action_row"
KIND_SELECT = "kind_select"

# Inputs: every input element uses VALUE as its action id; the block id names the field.
VALUE = "value"
KIND = "kind"
HELD_ON = "held_on"
MINUTES = "minutes"
FACTS = "facts"
CONSENSUS = "consensus"
COMPLETED = "completed"
TALK_SHARE = "talk_share"
PRIVATE_NOTE = "private_note"
HINTS = "hints"
EMPLOYEE = "employee"


def action_block(index: int, part: str) -> str:
    """The block id of one part (`text`, `owner`, `due`) of action row `index` (1-based)."""
    return f"action_{index}_{part}"


# Nudges
NUDGE_LOG_TALK = "nudge_log_talk"
NUDGE_LOG_TALK_PICK = "nudge_log_talk_pick"  # a select when one button per person is too many
# "Log this talk" buttons: one per person in a milestone nudge, so each has its own id.
NUDGE_LOG_TALK_ACTION = re.compile(r"^nudge_log_talk(?::[UW][A-Z0-9]+|_pick)?$")
NUDGE_SNOOZE = "nudge_snooze"
NUDGE_SKIP = "nudge_skip"
NUDGE_ACTION_DONE = "nudge_action_done"
NUDGE_ACTIONS_BLOCK = "nudge_actions"


def nudge_log_talk(employee_id: str) -> str:
    """The action id of one person's "Log talk with …" button in a nudge."""
    return f"{NUDGE_LOG_TALK}:{employee_id}"
