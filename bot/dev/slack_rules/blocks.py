"""Block Kit blocks and block elements: which fields each takes, where each may appear,
and the rules that tie fields together (unique ids, initial options among the options)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.dev.slack_rules.fields import (
    ANY_TEXT,
    SURFACES,
    Bool,
    Confirm,
    Day,
    Fields,
    Free,
    Int,
    OneOf,
    Option,
    OptionGroups,
    Options,
    Str,
    Strings,
    Text,
    Walk,
    check_fields,
)

MESSAGE_BLOCKS_TEXT = 12_000  # undocumented: text in one message's blocks (msg_blocks_too_long)


@dataclass(frozen=True)
class Element:
    """One block element among ``kinds`` (a section's accessory, an input's element)."""

    kinds: frozenset[str]
    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        _element(w, value, ptr, self.kinds)


@dataclass(frozen=True)
class Elements:
    """A block's ``elements``: ``min``..``max`` elements among ``kinds``; action_ids unique."""

    kinds: frozenset[str]
    max: int
    min: int = 1
    required: bool = True

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list):
            w.err(ptr, "must provide an array")
            return
        if len(value) > self.max:
            w.err(ptr, f"no more than {self.max} items allowed")
        if len(value) < self.min:
            w.err(ptr, f"must provide at least {self.min} items")
        for i, item in enumerate(value):
            _element(w, item, f"{ptr}/{i}", self.kinds)


# ---------------------------------------------------------------- elements
def _names(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


SELECTS = frozenset(
    f"{kind}_select" for kind in ("static", "external", "users", "conversations", "channels")
)
MULTI_SELECTS = frozenset(f"multi_{kind}" for kind in SELECTS)
PLACEHOLDER = Text(150)
_ACTION = {"action_id": Str(255), "confirm": Confirm(), "focus_on_load": Bool()}
_INPUT = {"action_id": Str(255), "focus_on_load": Bool(), "placeholder": PLACEHOLDER}
_SELECT = {**_ACTION, "placeholder": PLACEHOLDER}
_MULTI = {**_SELECT, "max_selected_items": Int(min=1)}

ELEMENT_RULES: dict[str, dict[str, Any]] = {
    "button": {
        "action_id": Str(255),
        "text": Text(75, required=True),
        "url": Str(3000),
        "value": Str(2000),
        "style": OneOf(frozenset({"primary", "danger"})),
        "confirm": Confirm(),
        "accessibility_label": Str(75),
    },
    "checkboxes": {
        **_ACTION,
        "options": Options(10, kinds=ANY_TEXT, required=True),
        "initial_options": Options(10, min=0, kinds=ANY_TEXT),
    },
    "radio_buttons": {
        **_ACTION,
        "options": Options(10, kinds=ANY_TEXT, required=True),
        "initial_option": Option(ANY_TEXT),
    },
    # Slack's page gives 5 options at most; slack_sdk (Slack's own) allows one at least.
    "overflow": {**_ACTION, "options": Options(5, url=True, required=True)},
    "datepicker": {**_SELECT, "initial_date": Day()},
    "timepicker": {
        **_SELECT,
        "initial_time": Str(5, pattern=r"([01]\d|2[0-3]):[0-5]\d"),
        "timezone": Str(100),
    },
    "datetimepicker": {**_ACTION, "initial_date_time": Int(min=0)},
    "plain_text_input": {
        **_INPUT,
        "initial_value": Str(3000),
        "multiline": Bool(),
        "min_length": Int(0, 3000),
        "max_length": Int(1, 3000),
        "dispatch_action_config": Free(),
    },
    "email_text_input": {**_INPUT, "initial_value": Str(3000), "dispatch_action_config": Free()},
    "url_text_input": {**_INPUT, "initial_value": Str(3000), "dispatch_action_config": Free()},
    "number_input": {
        **_INPUT,
        "is_decimal_allowed": Bool(required=True),
        "initial_value": Str(100),
        "min_value": Str(100),
        "max_value": Str(100),
        "dispatch_action_config": Free(),
    },
    "rich_text_input": {**_INPUT, "initial_value": Free(), "dispatch_action_config": Free()},
    "file_input": {
        "action_id": Str(255),
        "filetypes": Strings(),
        "max_files": Int(1, 10),
    },
    "image": {"image_url": Str(3000), "slack_file": Free(), "alt_text": Str(2000, True, 1)},
    "workflow_button": {
        "action_id": Str(255),
        "text": Text(75, required=True),
        "workflow": Free(required=True),
        "style": OneOf(frozenset({"primary", "danger"})),
        "accessibility_label": Str(75),
    },
    "static_select": {
        **_SELECT,
        "options": Options(100),
        "option_groups": OptionGroups(),
        "initial_option": Option(),
    },
    "multi_static_select": {
        **_MULTI,
        "options": Options(100),
        "option_groups": OptionGroups(),
        "initial_options": Options(100, min=0),
    },
    "external_select": {**_SELECT, "initial_option": Option(), "min_query_length": Int(min=0)},
    "multi_external_select": {
        **_MULTI,
        "initial_options": Options(100, min=0),
        "min_query_length": Int(min=0),
    },
    "users_select": {**_SELECT, "initial_user": Str(255)},
    "multi_users_select": {**_MULTI, "initial_users": Strings()},
    "conversations_select": {
        **_SELECT,
        "initial_conversation": Str(255),
        "default_to_current_conversation": Bool(),
        "response_url_enabled": Bool(),
        "filter": Free(),
    },
    "multi_conversations_select": {
        **_MULTI,
        "initial_conversations": Strings(),
        "default_to_current_conversation": Bool(),
        "filter": Free(),
    },
    "channels_select": {
        **_SELECT,
        "initial_channel": Str(255),
        "response_url_enabled": Bool(),
    },
    "multi_channels_select": {**_MULTI, "initial_channels": Strings()},
    # elements of the AI-app context_actions block: known, not inspected further
    "feedback_buttons": {"action_id": Str(255)},
    "icon_button": {"action_id": Str(255)},
}


def _option_key(option: Any) -> tuple[Any, Any]:
    if not isinstance(option, dict):
        return (None, None)
    text = option.get("text")
    return (option.get("value"), text.get("text") if isinstance(text, dict) else None)


def _numeric(value: Any) -> float | None:
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _element_extra(w: Walk, element: dict[str, Any], ptr: str) -> None:
    """Rules that tie one field of an element to another."""
    kind = element["type"]
    if kind in ("static_select", "multi_static_select"):
        given = [k for k in ("options", "option_groups") if k in element]
        if len(given) != 1:
            w.err(ptr, "must provide exactly one of options or option_groups")
    options = element.get("options")
    if isinstance(options, list) and kind in (
        "static_select",
        "multi_static_select",
        "checkboxes",
        "radio_buttons",
    ):
        known = {_option_key(o) for o in options}
        initial = element.get("initial_option")
        initials = [initial] if initial is not None else element.get("initial_options") or []
        name = "initial_option" if initial is not None else "initial_options"
        if isinstance(initials, list) and any(_option_key(o) not in known for o in initials):
            w.err(f"{ptr}/{name}", "must exactly match one of the provided options")
    if kind == "plain_text_input":
        low, high = element.get("min_length"), element.get("max_length")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            w.err(f"{ptr}/min_length", "must not be greater than max_length")
        value = element.get("initial_value")
        if isinstance(value, str) and isinstance(high, int) and len(value) > high:
            w.err(f"{ptr}/initial_value", "must not be longer than max_length")
    if kind == "number_input":
        numbers = {
            k: element[k] for k in ("initial_value", "min_value", "max_value") if k in element
        }
        for name, raw in numbers.items():
            if _numeric(raw) is None:
                w.err(f"{ptr}/{name}", "must be a number")
        low, high = _numeric(numbers.get("min_value")), _numeric(numbers.get("max_value"))
        if low is not None and high is not None and low > high:
            w.err(f"{ptr}/min_value", "must not be greater than max_value")
    if kind == "image" and not ("image_url" in element or "slack_file" in element):
        w.err(ptr, "must provide either image_url or slack_file")


def _element(w: Walk, element: Any, ptr: str, kinds: frozenset[str]) -> None:
    if not isinstance(element, dict):
        w.err(ptr, "must provide an object")
        return
    kind = element.get("type")
    if kind in ("plain_text", "mrkdwn") and kind in kinds:  # a context block's text
        Text(3000, ANY_TEXT).check(w, element, ptr)
        return
    if kind not in ELEMENT_RULES:
        w.err(f"{ptr}/type", "unsupported element type")
        return
    if kind not in kinds:
        w.err(f"{ptr}/type", f"{kind} is not allowed here")
        return
    check_fields(w, element, ELEMENT_RULES[kind], ptr)
    _element_extra(w, element, ptr)
    if element.get("focus_on_load") is True:  # "Only one element can be set to true."
        if w.focused:
            w.err(f"{ptr}/focus_on_load", "only one element may set focus_on_load")
        w.focused = True


# ---------------------------------------------------------------- blocks
ACTION_ELEMENTS = _names(
    "button checkboxes datepicker datetimepicker overflow radio_buttons timepicker",
    "workflow_button",
) | (SELECTS | MULTI_SELECTS)
ACCESSORIES = _names(
    "button checkboxes datepicker image overflow radio_buttons timepicker workflow_button"
) | (SELECTS | MULTI_SELECTS)
INPUT_ELEMENTS = _names(
    "checkboxes datepicker datetimepicker email_text_input file_input number_input",
    "plain_text_input radio_buttons rich_text_input timepicker url_text_input",
) | (SELECTS | MULTI_SELECTS)

BLOCK_RULES: dict[str, dict[str, Any]] = {
    "actions": {"elements": Elements(ACTION_ELEMENTS, 25)},
    "context": {"elements": Elements(frozenset({"image"}) | ANY_TEXT, 10)},
    "divider": {},
    "header": {"text": Text(150, required=True)},
    "image": {
        "image_url": Str(3000),
        "slack_file": Free(),
        "alt_text": Str(2000, True, 1),
        "title": Text(2000),
    },
    "input": {
        "label": Text(2000, required=True),
        "element": Element(INPUT_ELEMENTS, required=True),
        "dispatch_action": Bool(),
        "hint": Text(2000),
        "optional": Bool(),
    },
    "section": {
        "text": Text(3000, ANY_TEXT),
        "fields": Fields(),
        "accessory": Element(ACCESSORIES),
        "expand": Bool(),
    },
    "file": {"external_id": Str(255, True, 1), "source": OneOf(frozenset({"remote"}), True)},
    "markdown": {"text": Str(MESSAGE_BLOCKS_TEXT, True, 1)},
    "video": {
        "alt_text": Str(2000, True, 1),
        "title": Text(200, required=True),
        "thumbnail_url": Str(3000, True, 1),
        "video_url": Str(3000, True, 1),
    },
    "rich_text": {"elements": Free(required=True)},
    # Known to slack_sdk, used by Slack's calls, tables and AI apps; not inspected here.
    "call": {},
    "table": {},
    "context_actions": {
        "elements": Elements(frozenset({"feedback_buttons", "icon_button"}), 5),
    },
    "task_card": {},
    "plan": {},
    "alert": {},
    "card": {},
    "container": {},
    "carousel": {},
    "auth_provider": {},
}
# Blocks that Slack offers on some surfaces only (Block Kit reference, "Available in surfaces").
BLOCK_SURFACES: dict[str, frozenset[str]] = {
    "file": frozenset({"message"}),
    "markdown": frozenset({"message"}),
    "call": frozenset({"message"}),
    "table": frozenset({"message"}),
}


def _block(w: Walk, block: Any, ptr: str) -> None:
    if not isinstance(block, dict):
        w.err(ptr, "must provide an object")
        return
    kind = block.get("type")
    if kind not in BLOCK_RULES:
        w.err(f"{ptr}/type", "unsupported block type")
        return
    if w.surface not in BLOCK_SURFACES.get(kind, SURFACES):
        w.err(f"{ptr}/type", f"{kind} blocks are not allowed in a {w.surface}")
        return
    block_id = block.get("block_id")
    if "block_id" in block:
        Str(255, min=1).check(w, block_id, f"{ptr}/block_id")
        if isinstance(block_id, str):
            if block_id in w.block_ids:
                w.err(f"{ptr}/block_id", "duplicate block_id")
            w.block_ids.add(block_id)
    check_fields(w, block, BLOCK_RULES[kind], ptr)
    if kind == "section" and "text" not in block and "fields" not in block:
        w.err(ptr, "must provide either text or fields")
    if kind == "image" and not ("image_url" in block or "slack_file" in block):
        w.err(ptr, "must provide either image_url or slack_file")
    if kind == "markdown" and isinstance(block.get("text"), str):
        w.text_chars += len(block["text"])
    # Input blocks exist in modals and Home tabs; a message has no submit button, so Slack
    # takes an input block in a message only when it dispatches its own action
    # (dispatch_action: true). Conservative reading of the input block reference.
    if kind == "input" and w.surface == "message" and block.get("dispatch_action") is not True:
        w.err(f"{ptr}/dispatch_action", "input blocks in messages must set dispatch_action")
    # action_id must be unique among the elements of one block (the reference's words on
    # every element's action_id); a section's accessory and an input's element are alone in
    # their block. block_id uniqueness spans the whole message or view (checked above).
    elements = block.get("elements") if kind in ("actions", "context_actions") else None
    seen: set[str] = set()
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                w.err(f"{ptr}/elements/{i}/action_id", "duplicate action_id within the block")
            seen.add(action_id)


def walk_blocks(w: Walk, blocks: Any, ptr: str, limit: int) -> None:
    """Check a list of at most ``limit`` blocks at ``ptr``, recording errors on ``w``."""
    if not isinstance(blocks, list):
        w.err(ptr, "must provide an array")
        return
    if len(blocks) > limit:
        w.err(ptr, f"no more than {limit} items allowed")
    for i, block in enumerate(blocks):
        _block(w, block, f"{ptr}/{i}")
