"""Modals: the talk record form and the report picker."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.org.labels import kind_definition, kind_label
from bot.org.policy import Policy
from bot.records.meeting import MAX_MINUTES, TEXT_LIMIT
from bot.records.talks import MAX_ACTIONS, RecordContext
from handlers.slack import ids
from handlers.slack.blocks import kit
from prompts import outline, t
from storage.models import Person, TalkShare

CHECKBOX_LIMIT = 10  # Slack's maximum options in one checkboxes element


def record_modal(
    ctx: RecordContext,
    *,
    policy: Policy,
    locale: str,
    kind: str,
    today: date,
    rows: int = 1,
) -> dict[str, Any]:
    """The form a manager fills in right after a talk."""
    rows = max(1, min(rows, MAX_ACTIONS))
    name = ctx.employee.name
    blocks: list[kit.Block] = [
        *kit.sections(kit.md("modal.with", locale, name=name)),
        _kind_input(policy, locale, kind),
        *kit.contexts(kind_definition(policy, kind, locale)),
        kit.input_block(
            ids.TALK_HELD_ON,
            t("modal.held_on_label", locale),
            {"type": "datepicker", "action_id": ids.VALUE, "initial_date": today.isoformat()},
        ),
        kit.input_block(
            ids.TALK_MINUTES,
            t("modal.minutes_label", locale),
            {
                "type": "number_input",
                "action_id": ids.VALUE,
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(MAX_MINUTES),
                "initial_value": str(policy.kind(kind).default_minutes),
            },
        ),
    ]
    hints = outline(kind, locale)
    if hints:
        bullets = kit.join("\n", [f"• {q}" for q in hints])
        text = kit.lines(kit.md("modal.questions", locale), bullets)
        blocks.append(kit.context(text, block_id=ids.TALK_HINTS))
    blocks += [
        _text_input(ids.TALK_FACTS, locale, "facts"),
        _text_input(ids.TALK_CONSENSUS, locale, "consensus"),
        kit.divider(),
        kit.section(kit.md("modal.actions_header", locale)),
    ]
    for n in range(1, rows + 1):
        blocks += _action_row(n, ctx, locale)
    if rows < MAX_ACTIONS:
        blocks.append(
            kit.actions(
                kit.button(t("modal.add_action", locale), ids.TALK_ADD_ACTION_ROW, str(rows))
            )
        )
    if ctx.open_actions:
        blocks += _completed_input(ctx, locale)
    blocks += [
        kit.divider(),
        kit.input_block(
            ids.TALK_SHARE,
            t("modal.share_label", locale, name=name),
            {
                "type": "radio_buttons",
                "action_id": ids.VALUE,
                "options": [kit.option(t(f"share.{s.value}", locale), s.value) for s in TalkShare],
            },
            optional=True,
            hint=t("modal.share_hint", locale),
        ),
        kit.input_block(
            ids.TALK_PRIVATE_NOTE,
            t("modal.private_label", locale),
            {
                "type": "plain_text_input",
                "action_id": ids.VALUE,
                "multiline": True,
                "max_length": TEXT_LIMIT,
            },
            optional=True,
            hint=t("modal.private_hint", locale),
        ),
    ]
    return kit.modal(
        ids.TALK_MODAL,
        t("modal.title", locale),
        blocks,
        submit=t("modal.save", locale),
        close=t("modal.cancel", locale),
        private_metadata=ids.talk_metadata(ctx.employee.id, rows),
    )


def _kind_input(policy: Policy, locale: str, kind: str) -> kit.Block:
    options = [kit.option(kind_label(policy, k, locale), k) for k in policy.dialogue_kinds()]
    initial = next(o for o in options if o["value"] == kind)
    return kit.input_block(
        ids.TALK_KIND,
        t("modal.kind_label", locale),
        {
            "type": "static_select",
            "action_id": ids.TALK_KIND_SELECT,
            "options": options,
            "initial_option": initial,
        },
        dispatch=True,
    )


def _text_input(block_id: str, locale: str, name: str) -> kit.Block:
    return kit.input_block(
        block_id,
        t(f"modal.{name}_label", locale),
        {
            "type": "plain_text_input",
            "action_id": ids.VALUE,
            "multiline": True,
            "max_length": TEXT_LIMIT,
            "placeholder": kit.plain(t(f"modal.{name}_placeholder", locale), kit.PLACEHOLDER_LIMIT),
        },
    )


def _action_row(n: int, ctx: RecordContext, locale: str) -> list[kit.Block]:
    owners = [
        kit.option(t("owner.employee", locale, name=ctx.employee.name), "employee"),
        kit.option(t("owner.manager", locale, name=ctx.manager.name), "manager"),
    ]
    return [
        kit.input_block(
            ids.talk_action_block(n, "text"),
            t("modal.action_text_label", locale, n=n),
            {
                "type": "plain_text_input",
                "action_id": ids.VALUE,
                "max_length": 500,
                "placeholder": kit.plain(
                    t("modal.action_text_placeholder", locale), kit.PLACEHOLDER_LIMIT
                ),
            },
            optional=True,
        ),
        kit.input_block(
            ids.talk_action_block(n, "owner"),
            t("modal.action_owner_label", locale, n=n),
            {
                "type": "static_select",
                "action_id": ids.VALUE,
                "options": owners,
                "placeholder": kit.plain(
                    t("modal.action_owner_placeholder", locale), kit.PLACEHOLDER_LIMIT
                ),
            },
            optional=True,
        ),
        kit.input_block(
            ids.talk_action_block(n, "due"),
            t("modal.action_due_label", locale, n=n),
            {"type": "datepicker", "action_id": ids.VALUE},
            optional=True,
        ),
    ]


def _completed_input(ctx: RecordContext, locale: str) -> list[kit.Block]:
    """The earlier open actions to tick. A checkbox holds 75 characters of text: an action
    cut there is listed whole just above, so the manager reads what they tick."""
    names = {ctx.employee.id: ctx.employee.name, ctx.manager.id: ctx.manager.name}
    shown = ctx.open_actions[:CHECKBOX_LIMIT]
    options = []
    for item in shown:
        option = kit.option(item.text, str(item.id))
        detail = t(
            "modal.completed_detail",
            locale,
            due=item.due_on.isoformat(),
            owner=names.get(item.owner_id, item.owner_id),
        )
        option["description"] = kit.plain(detail, kit.OPTION_LIMIT)
        options.append(option)
    cut = [item for item in shown if len(item.text) > kit.OPTION_LIMIT]
    full = [f"• {item.text}" for item in cut]
    blocks = (
        kit.contexts(kit.lines(kit.md("modal.completed_in_full", locale), *full)) if cut else []
    )
    blocks.append(
        kit.input_block(
            ids.TALK_COMPLETED,
            t("modal.completed_label", locale),
            {"type": "checkboxes", "action_id": ids.VALUE, "options": options},
            optional=True,
            hint=t("modal.completed_hint", locale),
        )
    )
    hidden = len(ctx.open_actions) - CHECKBOX_LIMIT
    if hidden > 0:
        blocks.append(kit.context(kit.md("modal.completed_more", locale, count=hidden)))
    return blocks


def picker_modal(*, locale: str, any_user: bool) -> dict[str, Any]:
    """Choose whom the talk was with: one of your reports (or, for HR, anyone in the org),
    found by name as you type, however many there are; HR without reports gets Slack's own
    people picker."""
    if any_user:
        element: dict[str, Any] = {"type": "users_select", "action_id": ids.VALUE}
    else:
        element = {
            "type": "external_select",
            "action_id": ids.TALK_PICK_REPORT,
            "min_query_length": 0,
        }
    element["placeholder"] = kit.plain(t("modal.pick_placeholder", locale), kit.PLACEHOLDER_LIMIT)
    block = kit.input_block(ids.TALK_EMPLOYEE, t("modal.pick_label", locale), element)
    return kit.modal(
        ids.TALK_PICK_MODAL,
        t("modal.pick_title", locale),
        [block],
        submit=t("modal.next", locale),
        close=t("modal.cancel", locale),
    )


def report_options(people: list[Person]) -> list[dict[str, Any]]:
    """The report picker's options for what was typed (at most 100; typing narrows). A name
    past 75 characters is shortened (Slack's limit); the record form shows it whole."""
    return [kit.option(p.name, p.id) for p in people[: kit.SELECT_OPTIONS]]
