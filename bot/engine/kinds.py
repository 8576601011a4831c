"""The outbox's vocabulary: every kind of nudge and notice, and how a row's key is spelt.

An outbox row's key is (kind, recipient, subject, period); for a notice the period is its
version. Keys are stored, and the unique key holds existing databases to them, so every
string built here must stay exactly as it is (tests/test_outbox_keys.py pins them). Every
module that names a kind or builds a subject or a period takes it from here. A leaf: it
imports nothing from the project.
"""

from __future__ import annotations

# -- nudges: planned by the planner, sent in the recipient's working hours ------------------
CHECKIN = "checkin"  # to the manager: time to talk with this report
HEADS_UP = "checkin_heads_up"  # to the employee: your manager will ask for a talk
GOAL = "goal_clarification"  # to both: a goal waits for its clarification talk
ACTION_DUE = "action_due"  # to the owner, on the due day
ACTION_OVERDUE = "action_overdue"  # to the owner and the other party, after it
MILESTONE = "milestone_retro"  # to each participant's manager: a retrospective
SELF_ASSESSMENT = "self_assessment"  # to the employee, before the review window
SELF_REMINDER = "self_assessment_reminder"  # to the employee, if not submitted yet
PREP_PACK = "prep_pack"  # to the manager, before each report's review interview
HR_DIGEST = "hr_digest"  # to each HR person, weekly: coverage at a glance

NUDGE_KINDS = (
    CHECKIN,
    HEADS_UP,
    GOAL,
    ACTION_DUE,
    ACTION_OVERDUE,
    MILESTONE,
    SELF_ASSESSMENT,
    SELF_REMINDER,
    PREP_PACK,
    HR_DIGEST,
)
CHECKIN_KINDS = (CHECKIN, HEADS_UP)  # one check-in's two messages, about the employee
ACTION_KINDS = (ACTION_DUE, ACTION_OVERDUE)
SELF_ASSESSMENT_KINDS = (SELF_REMINDER, SELF_ASSESSMENT)
# Planned for everyone at a cycle's end: their stored keys are read by (kind, cycle).
CYCLE_END_KINDS = (SELF_ASSESSMENT, SELF_REMINDER, PREP_PACK)
# Planned per goal, action or milestone (and HR's digest, about coverage): their stored keys
# are read by subject.
PER_SUBJECT_KINDS = (GOAL, ACTION_DUE, ACTION_OVERDUE, MILESTONE, HR_DIGEST)

# -- notices: owed by a record, in its transaction, and sent at once --------------------------
TALK_RECORD = "talk_record"  # to the employee: the record, with Acknowledge
TALK_SAVED = "talk_saved"  # to the manager: the confirmation, with the actions they own
TALK_ACKNOWLEDGED = "talk_acknowledged"  # to the manager
GOAL_PROPOSED = "goal_proposed"  # to the manager: Confirm / Decline
GOAL_SET = "goal_set"  # to the employee
GOAL_DECIDED = "goal_decided"  # to the employee: confirmed or declined
SELF_SUBMITTED = "self_submitted"  # to the manager: the self-assessment
REVIEW_SUMMARY = "review_summary"  # to the employee: Acknowledge / Disagree
REVIEW_SAVED = "review_saved"  # to whoever recorded the review, and the manager
REVIEW_ACKNOWLEDGED = "review_acknowledged"  # to the manager
REVIEW_DISAGREED = "review_disagreed"  # to HR and the manager
MANAGER_CHANGED = "manager_changed"  # to the employee: who now sees their shared record

NOTICE_KINDS = frozenset(
    {
        TALK_RECORD,
        TALK_SAVED,
        TALK_ACKNOWLEDGED,
        GOAL_PROPOSED,
        GOAL_SET,
        GOAL_DECIDED,
        SELF_SUBMITTED,
        REVIEW_SUMMARY,
        REVIEW_SAVED,
        REVIEW_ACKNOWLEDGED,
        REVIEW_DISAGREED,
        MANAGER_CHANGED,
    }
)


# Messages that show one person's records to another: the outbox writes an access-log row
# (bot.privacy.access) when it marks one sent to anyone but the person it is about.
CARRIES_RECORDS = frozenset(
    {
        PREP_PACK,  # the cycle's facts, consensus, actions, self-assessment
        SELF_SUBMITTED,
        TALK_SAVED,
        TALK_ACKNOWLEDGED,
        REVIEW_SAVED,
        REVIEW_ACKNOWLEDGED,
        REVIEW_DISAGREED,
        CHECKIN,  # the open actions carried over from the last talk
        GOAL,  # the goal to clarify
        GOAL_PROPOSED,
        ACTION_DUE,
        ACTION_OVERDUE,
    }
)


def is_notice(kind: str) -> bool:
    """Whether an outbox kind is a notice (sent at once) rather than a nudge."""
    return kind in NOTICE_KINDS


# -- subjects: what a row is about ------------------------------------------------------------
def checkin_subject(employee_id: str) -> str:
    """A check-in's and its heads-up's subject: the employee the pair should talk about."""
    return employee_id


def goal_subject(goal_id: int | None) -> str:
    return f"goal:{goal_id}"


def action_subject(action_id: int | None) -> str:
    return f"action:{action_id}"


def milestone_subject(milestone_id: int | None) -> str:
    return f"milestone:{milestone_id}"


def cycle_subject(cycle_id: int | None) -> str:
    """An employee's self-assessment request and reminder in a cycle."""
    return f"cycle:{cycle_id}"


def prep_pack_subject(cycle_id: int | None, employee_id: str) -> str:
    """A manager's prep pack for one report's review in a cycle."""
    return prep_pack_prefix(cycle_id) + employee_id


def prep_pack_prefix(cycle_id: int | None) -> str:
    """What the subjects of a cycle's prep packs start with (the report's id follows)."""
    return f"cycle:{cycle_id}:"


# HR's weekly digest is about the organisation's coverage, one subject for every HR person.
COVERAGE_SUBJECT = "coverage"


def week_period(iso_year: int, iso_week: int) -> str:
    """The period of a weekly message: its ISO week (`2026-W49`)."""
    return f"{iso_year}-W{iso_week:02d}"


def talk_subject(talk_id: int | None) -> str:
    return f"talk:{talk_id}"


def assessment_subject(assessment_id: int | None) -> str:
    """A submitted self-assessment (the manager's notice)."""
    return f"self:{assessment_id}"


def review_subject(review_id: int | None) -> str:
    return f"review:{review_id}"


# -- periods: which one of a subject's rows ---------------------------------------------------
DUE_PERIOD = "due"  # an action's reminder on its due day
OVERDUE_PERIOD = "overdue"  # an action's reminders once it is late
RETRO_PERIOD = "retro"  # a milestone's retrospective
ONCE = "once"  # the version of a notice that is only ever owed once
# A snoozed nudge comes back as a row of its own: its period is the original's, then this
# mark and `s` with the count (`2026-11~s1`).
SNOOZE_MARK = "~"


def goal_round(round_: int) -> str:
    """The period of a goal's nudges in their `round_`-th reminder round."""
    return f"r{round_}"


def base_period(period: str) -> str:
    """A period without its snooze mark: the period of the nudge first planned."""
    return period.split(SNOOZE_MARK)[0]


def follow_up_prefix(base: str) -> str:
    """What the periods of a nudge's snoozed returns start with (`base` followed by `~`)."""
    return f"{base}{SNOOZE_MARK}"


def snoozed_prefix(base: str) -> str:
    """What the periods of a nudge's snoozed returns start with, up to their count."""
    return f"{base}{SNOOZE_MARK}s"


def snoozed_period(base: str, count: int) -> str:
    """The period of the `count`-th snoozed return of the nudge first planned for `base`."""
    return f"{snoozed_prefix(base)}{count}"


def review_version(submission_key: str) -> str:
    """A review notice's version: the saved version of the review (its form's key)."""
    return submission_key[:32]


# -- keys the planner holds in memory -----------------------------------------------------------
# Slack ids never hold a space, so "recipient subject" names a key within its (kind, period)
# exactly; the same string is built in SQL by `bot.engine.known_keys`.
SEPARATOR = " "


def member(recipient_id: str, subject: str) -> str:
    """A key's (recipient, subject) as one string, as `KnownKeys` stores it."""
    return recipient_id + SEPARATOR + subject
