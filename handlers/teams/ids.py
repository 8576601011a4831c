"""Every verb and data key a Teams card carries back, and their encoders. Nobody else spells
one, and a value once sent never changes: stored messages and open dialogs carry it.

- A button that changes the message it sits on is an `Action.Execute` whose `verb` names
  what it does and whose `data` is `{"cadence": verb, ...ids}`.
- A button that opens a dialog is an `Action.Submit` with `data = {"msteams": {"type":
  "task/fetch"}, "cadence": "form", "form": <form>, ...ids}`.
- A dialog's own submit button is an `Action.Submit` with `data = {"cadence": "submit",
  "form": <form>, ...ids}`; Teams merges the inputs' values into it.
"""

from __future__ import annotations

VERB_KEY = "cadence"
FORM = "form"

# -- verbs of Action.Execute buttons ------------------------------------------------------------
ACK = "ack"  # the employee acknowledges a talk record
SNOOZE = "snooze"
SKIP = "skip"
DONE = "done"  # an action item done, from its nudge
GOAL_CONFIRM = "goal_confirm"  # a manager decides a proposed goal
GOAL_DECLINE = "goal_decline"
REVIEW_ACK = "review_ack"  # the employee acknowledges a review
INTERVIEW_DATE = "interview_date"  # set a report's interview day (ids `e`, `c`)
MILESTONE_DONE = "milestone_done"  # a milestone ended (id `m`)
HOME_PAGE = "home_page"  # the overview's Previous / Next (id `p`: the page)
DIGEST_TABLE = "digest_table"  # HR's digest: offer the full table as a file (no ids)

# -- forms (dialogs) ----------------------------------------------------------------------------
OPEN = "form"  # the VERB_KEY value of a button that opens a form
SUBMIT = "submit"  # the VERB_KEY value of a form's own submit button
FORM_TALK = "talk"
FORM_GOAL = "goal"  # a goal (id `e`: whose, when fixed)
FORM_REVIEW = "review"  # a review interview (ids `e`: whose, `r`: the review edited)
FORM_MILESTONE = "milestone"  # register a project milestone
FORM_SELF = "self"  # the self-assessment (id `c`: the cycle)
FORM_DISAGREE = "disagree"  # the employee's comment on a review (id `r`)
FORM_PICK = "pick"  # whom the talk was with, before the talk form
FORM_TALK_KEY = "teams:talk"  # the talk form's name in its submission key
FORM_GOAL_KEY = "teams:goal"
FORM_REVIEW_KEY = "teams:review"

# -- data keys ------------------------------------------------------------------------------------
EMPLOYEE = "e"
KIND = "k"
FORM_ID = "f"  # a form's own id, drawn when first shown, kept through re-renders
TALK = "t"
NUDGE = "n"
GOAL = "g"
MILESTONE = "m"
CYCLE = "c"
PAGE = "p"
REVIEW = "r"
UNTIL = "u"
ACTION = "a"
REASON = "reason"  # the skip reason's choice set
PICKED = "picked"  # the picker's choice set
INTERVIEW_ON = "interview_on"  # the interview day's date input
PEOPLE_DATASET = "people"  # the picker's typeahead (application/search): whom one may log
EVERYONE_DATASET = "everyone"  # anyone active (a milestone's participants)

# -- the talk form's inputs: the domain's field names ------------------------------------------
TALK_KIND = "kind"
TALK_HELD_ON = "held_on"
TALK_MINUTES = "minutes"
TALK_FACTS = "facts"
TALK_CONSENSUS = "consensus"
TALK_COMPLETED = "completed"
TALK_SHARE = "talk_share"
TALK_PRIVATE_NOTE = "private_note"


def action_field(n: int, part: str) -> str:
    """The input of one part (`text`, `owner`, `due`) of action row `n` (1-based), in the
    record form and the review form alike: the domain's field name (`action_2_due`)."""
    return f"action_{n}_{part}"


def talk_action_row(n: int) -> str:
    """The container of action row `n` (shown or hidden as a whole)."""
    return f"action_row_{n}"


def _ids(values: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in values.items() if v not in (None, "")}


def open_form(form: str, **ids: object) -> dict[str, object]:
    """The data of a button that opens `form` in a dialog."""
    return {"msteams": {"type": "task/fetch"}, VERB_KEY: OPEN, FORM: form, **_ids(ids)}


def submit_form(form: str, **ids: object) -> dict[str, object]:
    """The data of a dialog's submit button."""
    return {VERB_KEY: SUBMIT, FORM: form, **_ids(ids)}


def execute(verb: str, title: str, **ids: object) -> dict[str, object]:
    """An `Action.Execute` button."""
    return {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": {VERB_KEY: verb, **_ids(ids)},
    }
