"""Messages: the record sent after a talk, confirmations, help and refusals."""

from __future__ import annotations

from typing import Any

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.records.talks import Recorded
from handlers.slack import ids
from handlers.slack.blocks import kit
from handlers.slack.blocks.kit import Message
from prompts import t
from storage.models import ActionItem, Talk

__all__ = [
    "Message",
    "acknowledge_blocks",
    "acknowledged_notice",
    "acknowledged_record",
    "employee_record",
    "help_message",
    "manager_confirmation",
    "refusal",
]


def action_lines(items: list[ActionItem], names: dict[str, str], locale: str) -> list[kit.Mrkdwn]:
    """One line per action: text, owner, due date."""
    return [
        kit.md(
            "record.action_line",
            locale,
            text=a.text,
            owner=names.get(a.owner_id, a.owner_id),
            due=a.due_on.isoformat(),
        )
        for a in items
    ]


def _record_body(rec: Recorded, policy: Policy, locale: str) -> list[kit.Block]:
    talk = rec.talk
    held = kit.md(
        "record.held",
        locale,
        date=talk.held_on.isoformat(),
        minutes=talk.duration_minutes,
        family=kit.md(f"family.{talk.family}", locale),
    )
    names = {rec.employee.id: rec.employee.name, rec.manager.id: rec.manager.name}
    blocks = [
        kit.context(held),
        *kit.sections(kit.lines(kit.md("record.facts", locale), talk.facts)),
        *kit.sections(kit.lines(kit.md("record.consensus", locale), talk.consensus)),
        *kit.listing(
            kit.md("record.actions", locale),
            action_lines(rec.actions, names, locale),
            empty=kit.md("record.no_actions", locale),
        ),
    ]
    if rec.completed:
        done = [kit.md("record.completed_line", locale, text=a.text) for a in rec.completed]
        blocks += kit.listing(kit.md("record.completed", locale), done)
    return blocks


def _your_actions(rec: Recorded, owner_id: str, locale: str) -> list[kit.Block]:
    mine = [a for a in rec.actions if a.owner_id == owner_id]
    if not mine:
        return []
    lines = [kit.join(" · ", [f"• {a.text}", a.due_on.isoformat()]) for a in mine]
    return kit.listing(kit.md("record.your_actions", locale), lines)


def employee_record(rec: Recorded, *, policy: Policy, locale: str) -> Message:
    """The record the employee receives, with their own actions and an Acknowledge button."""
    kind = kind_label(policy, rec.talk.kind, locale)
    manager = rec.manager.name
    blocks = [
        kit.header(t("record.employee_title", locale, kind=kind, manager=manager)),
        *_record_body(rec, policy, locale),
        *_your_actions(rec, rec.employee.id, locale),
        kit.divider(),
        *acknowledge_blocks(rec.talk, locale, manager=manager),
    ]
    text = kit.md(
        "record.employee_text",
        locale,
        manager=manager,
        kind=kind,
        date=rec.talk.held_on.isoformat(),
    )
    return Message(text, blocks)


def acknowledge_blocks(talk: Talk, locale: str, *, manager: str) -> list[kit.Block]:
    """The closing blocks of the employee's record: a button, or the acknowledgement."""
    if talk.acknowledged_at is not None:
        when = talk.acknowledged_at.date().isoformat()
        return [kit.context(kit.md("record.acknowledged", locale, date=when))]
    button = kit.button(
        t("record.acknowledge", locale), ids.TALK_ACKNOWLEDGE, str(talk.id), style="primary"
    )
    prompt = kit.md("record.acknowledge_prompt", locale, manager=manager)
    return kit.sections(prompt, accessory=button)


def acknowledged_record(sent: dict[str, Any], talk: Talk, locale: str) -> Message:
    """The employee's record (as Slack returned it) with its button replaced by the
    acknowledgement. The payload's text is taken as people's text (decoded, escaped again)."""
    blocks = list(sent.get("blocks") or [])[:-1] + acknowledge_blocks(talk, locale, manager="")
    text = kit.unescape(str(sent.get("text") or "")) or kit.md("record.acknowledge", locale)
    return Message(text, blocks)


def manager_confirmation(rec: Recorded, *, policy: Policy, locale: str) -> Message:
    """The manager's confirmation, with the actions they own."""
    kind = kind_label(policy, rec.talk.kind, locale)
    employee = rec.employee.name
    saved = kit.md(
        "record.manager_saved",
        locale,
        kind=kind,
        employee=employee,
        date=rec.talk.held_on.isoformat(),
    )
    blocks = [*kit.sections(saved), *_your_actions(rec, rec.manager.id, locale)]
    return Message(kit.md("record.manager_text", locale, kind=kind, employee=employee), blocks)


def acknowledged_notice(talk: Talk, *, employee: str, policy: Policy, locale: str) -> Message:
    """Tell the manager the employee acknowledged a record."""
    text = kit.md(
        "record.manager_acknowledged",
        locale,
        employee=employee,
        kind=kind_label(policy, talk.kind, locale),
        date=talk.held_on.isoformat(),
    )
    return Message(text, kit.sections(text))


def help_message(locale: str, *, unknown: bool = False) -> Message:
    """What `/checkin` can do."""
    body = kit.md("command.help", locale)
    text = kit.lines(kit.md("command.unknown", locale), body) if unknown else body
    return Message(text, kit.sections(text))


def refusal(key: str, locale: str, **params: object) -> Message:
    """A clear, polite no (names in it escaped like any people's text)."""
    text = kit.md(key, locale, **params)
    return Message(text, kit.sections(text))
