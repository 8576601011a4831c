"""Notices as Block Kit: each kind is drawn by the builder of the surface it belongs to."""

from __future__ import annotations

from collections.abc import Callable

from bot.engine import kinds
from bot.engine.notice_content import NoticeContent
from bot.org.policy import Policy
from handlers.slack.blocks import goal_views, kit, review_views, self_views
from handlers.slack.blocks.messages import (
    Message,
    acknowledged_notice,
    employee_record,
    manager_confirmation,
)


def _talk_record(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.recorded is not None
    return employee_record(c.recorded, policy=policy, locale=locale)


def _talk_saved(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.recorded is not None
    return manager_confirmation(c.recorded, policy=policy, locale=locale)


def _talk_acknowledged(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.recorded is not None
    rec = c.recorded
    return acknowledged_notice(rec.talk, employee=rec.employee.name, policy=policy, locale=locale)


def _goal_proposed(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.goal is not None and c.goal_employee is not None
    return goal_views.proposal_message(c.goal, employee=c.goal_employee, locale=locale)


def _goal_set(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.goal is not None and c.goal_by is not None
    return goal_views.goal_set_notice(c.goal, by=c.goal_by, locale=locale)


def _goal_decided(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.goal is not None and c.goal_by is not None
    return goal_views.decision_notice(c.goal, manager=c.goal_by, locale=locale)


def _self_submitted(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.saved is not None
    return self_views.manager_notice(c.saved, policy=policy, locale=locale)


def _manager_changed(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.manager is not None
    if c.previous is not None:
        text = kit.md(
            "privacy.manager_changed", locale, manager=c.manager.name, previous=c.previous.name
        )
    else:
        text = kit.md("privacy.manager_changed_first", locale, manager=c.manager.name)
    return Message(text, kit.sections(text))


def _review_summary(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.review is not None
    return review_views.review_summary(c.review, policy=policy, locale=locale)


def _review_saved(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.review is not None
    return review_views.saved_notice(c.review, policy=policy, locale=locale)


def _review_acknowledged(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.review is not None
    return review_views.acknowledged_notice(c.review, locale=locale)


def _review_disagreed(c: NoticeContent, policy: Policy, locale: str) -> Message:
    assert c.review is not None
    return review_views.disagreement_notice(
        c.review, policy=policy, locale=locale, withheld=c.withheld
    )


BUILDERS: dict[str, Callable[[NoticeContent, Policy, str], Message]] = {
    kinds.TALK_RECORD: _talk_record,
    kinds.TALK_SAVED: _talk_saved,
    kinds.TALK_ACKNOWLEDGED: _talk_acknowledged,
    kinds.GOAL_PROPOSED: _goal_proposed,
    kinds.GOAL_SET: _goal_set,
    kinds.GOAL_DECIDED: _goal_decided,
    kinds.SELF_SUBMITTED: _self_submitted,
    kinds.REVIEW_SUMMARY: _review_summary,
    kinds.REVIEW_SAVED: _review_saved,
    kinds.REVIEW_ACKNOWLEDGED: _review_acknowledged,
    kinds.REVIEW_DISAGREED: _review_disagreed,
    kinds.MANAGER_CHANGED: _manager_changed,
}


def notice_message(content: NoticeContent, *, policy: Policy, locale: str) -> Message:
    """The message for a notice, in the recipient's language."""
    return BUILDERS[content.nudge.kind](content, policy, locale)
