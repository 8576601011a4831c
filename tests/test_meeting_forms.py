"""A talk and a review interview check what they share alike: the date held, the minutes and
the actions are refused on the same fields, with the same words, in both forms."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.errors import Problem
from bot.records.meeting import ActionDraft
from bot.records.talks import TalkDraft, validate_draft
from bot.review.interview_record import ReviewDraft, review_kind, validate_review

TODAY = date(2026, 11, 26)
ACTIONS = (
    ActionDraft("\u200b ", "employee", TODAY),  # shows nothing
    ActionDraft("x" * 501, None, None),  # too long, nobody's, undated
    ActionDraft("Book the course", "manager", TODAY - timedelta(days=1)),  # due yesterday
)
ACTION_PROBLEMS = {
    "action_1_text": Problem("error.action_text_required"),
    "action_2_text": Problem("error.too_long", {"limit": 500}),
    "action_2_owner": Problem("error.action_owner_required"),
    "action_2_due": Problem("error.action_due_required"),
    "action_3_due": Problem("error.action_due_past"),
}


def talk_problems(policy, held_on, minutes, actions=ACTIONS):
    draft = TalkDraft(
        employee_id="U0EMP",
        kind="checkin",
        held_on=held_on,
        minutes=minutes,
        facts="Shipped the importer.",
        consensus="Keep going.",
        actions=actions,
    )
    return validate_draft(draft, policy=policy, today=TODAY)


def review_problems(policy, held_on, minutes, actions=ACTIONS):
    draft = ReviewDraft(
        employee_id="U0EMP",
        rating="4",
        evidence="Shipped the importer.",
        held_on=held_on,
        minutes=minutes,
        actions=actions,
    )
    return validate_review(draft, policy=policy, kind=review_kind(policy), today=TODAY)


@pytest.mark.parametrize(
    ("held_on", "minutes", "expected"),
    [
        (
            None,
            "an hour",
            {
                "held_on": Problem("error.held_on_required"),
                "minutes": Problem("error.minutes_range", {"max": 480}),
            },
        ),
        (
            TODAY + timedelta(days=1),
            "0",
            {
                "held_on": Problem("error.held_on_future"),
                "minutes": Problem("error.minutes_range", {"max": 480}),
            },
        ),
        (TODAY, "481", {"minutes": Problem("error.minutes_range", {"max": 480})}),
    ],
)
def test_a_talk_and_a_review_refuse_the_same_date_minutes_and_actions_alike(
    policy, held_on, minutes, expected
):
    assert talk_problems(policy, held_on, minutes) == expected | ACTION_PROBLEMS
    assert review_problems(policy, held_on, minutes) == expected | ACTION_PROBLEMS


def test_blank_action_rows_and_an_empty_length_are_no_problem_in_either_form(policy):
    blank_rows = (ActionDraft(), ActionDraft(" ", None, None))
    assert talk_problems(policy, TODAY, "", blank_rows) == {}
    assert review_problems(policy, TODAY, None, blank_rows) == {}
