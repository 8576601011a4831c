"""Messages: the record sent after a talk, confirmations, help and refusals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.labels import kind_label
from bot.policy import Policy
from bot.talks import Recorded
from handlers import ids
from handlers.blocks import kit
from prompts import t
from storage.models import ActionItem, Talk


@dataclass(frozen=True)
class Message:
    """A message's fallback text (the notification) and its blocks."""

    text: str
    blocks: list[kit.Block]

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def _action_lines(items: list[ActionItem], names: dict[str, str], locale: str) -> str:
    return "\n".join(
        t(
            "record.action_line",
            locale,
            text=kit.escape(a.text),
            owner=kit.escape(names.get(a.owner_id, a.owner_id)),
            due=a.due_on.isoformat(),
        )
        for a in items
    )


def _record_body(rec: Recorded, policy: Policy, locale: str) -> list[kit.Block]:
    talk = rec.talk
    blocks = [
        kit.context(
            t(
                "record.held",
                locale,
                date=talk.held_on.isoformat(),
                minutes=talk.duration_minutes,
                family=t(f"family.{talk.family}", locale),
            )
        ),
        kit.section(t("record.facts", locale)),
        kit.section(kit.escape(talk.facts)),
        kit.section(t("record.consensus", locale)),
        kit.section(kit.escape(talk.consensus)),
    ]
    names = {rec.employee.slack_id: rec.employee.name, rec.manager.slack_id: rec.manager.name}
    lines = _action_lines(rec.actions, names, locale) or t("record.no_actions", locale)
    blocks.append(kit.section(f"{t('record.actions', locale)}\n{lines}"))
    if rec.completed:
        done = "\n".join(
            t("record.completed_line", locale, text=kit.escape(a.text)) for a in rec.completed
        )
        blocks.append(kit.section(f"{t('record.completed', locale)}\n{done}"))
    return blocks


def _your_actions(rec: Recorded, owner_id: str, locale: str) -> list[kit.Block]:
    mine = [a for a in rec.actions if a.owner_id == owner_id]
    if not mine:
        return []
    lines = "\n".join(f"• {kit.escape(a.text)} · {a.due_on.isoformat()}" for a in mine)
    return [kit.section(f"{t('record.your_actions', locale)}\n{lines}")]


def employee_record(rec: Recorded, *, policy: Policy, locale: str) -> Message:
    """The record the employee receives, with their own actions and an Acknowledge button."""
    kind = kind_label(policy, rec.talk.kind, locale)
    manager = rec.manager.name
    blocks = [
        kit.header(t("record.employee_title", locale, kind=kind, manager=manager)),
        *_record_body(rec, policy, locale),
        *_your_actions(rec, rec.employee.slack_id, locale),
        kit.divider(),
        *acknowledge_blocks(rec.talk, locale, manager=manager),
    ]
    text = t(
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
        return [kit.context(t("record.acknowledged", locale, date=when))]
    button = kit.button(
        t("record.acknowledge", locale), ids.ACKNOWLEDGE, str(talk.id), style="primary"
    )
    return [
        kit.section(
            t("record.acknowledge_prompt", locale, manager=kit.escape(manager)), accessory=button
        )
    ]


def manager_confirmation(rec: Recorded, *, policy: Policy, locale: str) -> Message:
    """The manager's confirmation, with the actions they own."""
    kind = kind_label(policy, rec.talk.kind, locale)
    employee = rec.employee.name
    saved = t(
        "record.manager_saved",
        locale,
        kind=kind,
        employee=kit.escape(employee),
        date=rec.talk.held_on.isoformat(),
    )
    blocks = [kit.section(saved), *_your_actions(rec, rec.manager.slack_id, locale)]
    return Message(t("record.manager_text", locale, kind=kind, employee=employee), blocks)


def acknowledged_notice(talk: Talk, *, employee: str, policy: Policy, locale: str) -> Message:
    """Tell the manager the employee acknowledged a record."""
    text = t(
        "record.manager_acknowledged",
        locale,
        employee=employee,
        kind=kind_label(policy, talk.kind, locale),
        date=talk.held_on.isoformat(),
    )
    return Message(text, [kit.section(kit.escape(text))])


def help_message(locale: str, *, unknown: bool = False) -> Message:
    """What `/checkin` can do."""
    body = t("command.help", locale)
    text = f"{t('command.unknown', locale)}\n{body}" if unknown else body
    return Message(text, [kit.section(text)])


def refusal(key: str, locale: str, **params: object) -> Message:
    """A clear, polite no."""
    text = t(key, locale, **params)
    return Message(text, [kit.section(kit.escape(text))])
