"""Every callback, action and block id, shared by the view builders and the listeners."""

# Modals (callback ids)
RECORD_MODAL = "record_talk"
PICK_REPORT_MODAL = "pick_report"

# Interactive actions
ACKNOWLEDGE = "acknowledge_talk"
LOG_TALK = "log_talk"
HOME_PAGE = "home_page"
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
NUDGE_SNOOZE = "nudge_snooze"
NUDGE_SKIP = "nudge_skip"
NUDGE_ACTION_DONE = "nudge_action_done"
NUDGE_ACTIONS_BLOCK = "nudge_actions"
