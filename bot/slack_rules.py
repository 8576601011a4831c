"""What Slack's Web API refuses in messages, views and metadata, as pure functions.

The Slack stand-in answers with these rules, so a payload Slack would refuse fails in tests.
Grounded in Slack's published references (docs.slack.dev, formerly api.slack.com):
- Block Kit reference: blocks (actions, context, divider, file, header, image, input,
  markdown, rich_text, section, video), block elements (button, checkboxes, date, time and
  datetime pickers, text/email/url/number inputs, file input, image, select and multi-select
  menus, overflow, radio buttons, workflow button) and composition objects (text, option,
  option group, confirmation dialog); each field's "Required" and "Maximum length" columns.
- Views reference (modal and home view objects) and the views.open / views.push /
  views.update / views.publish method pages (errors: invalid_arguments, with
  response_metadata.messages).
- chat.postMessage / chat.update method pages (errors: invalid_blocks, invalid_blocks_format,
  msg_too_long, no_text, invalid_metadata_format, invalid_metadata_schema) and the message
  metadata guide (event_type, event_payload). msg_blocks_too_long (~12,000 characters of
  text in one message's blocks) is not documented; Slack answers it all the same.
slack_sdk's ``validate_json()`` checks some of these limits, but not uniqueness of
``block_id`` / ``action_id``, text object types, or anything at all for a plain dict.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
MESSAGE_BLOCKS_TEXT = 12_000
VIEW_PAYLOAD_BYTES = 250_000
EVENT_TYPE = re.compile(r"[a-zA-Z0-9_]{1,255}")

Surface = str  # "message" | "modal" | "home"
PLAIN = frozenset({"plain_text"})
ANY_TEXT = frozenset({"plain_text", "mrkdwn"})
SURFACES = frozenset({"message", "modal", "home"})


class _Walk:
    """Errors found so far, and what must be unique while walking one message or view."""

    def __init__(self, surface: Surface, root: str) -> None:
        self.surface, self.root = surface, root
        self.errors: list[str] = []
        self.block_ids: set[str] = set()
        self.text_chars = 0

    def err(self, pointer: str, message: str) -> None:
        self.errors.append(f"[ERROR] {message} [json-pointer:{self.root}{pointer}]")


# ---------------------------------------------------------------- field rules
@dataclass(frozen=True)
class Str:
    """A string of ``min``..``max`` characters, optionally matching ``pattern``."""

    max: int
    required: bool = False
    min: int = 0
    pattern: str | None = None

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, str):
            w.err(ptr, "must be a string")
            return
        if len(value) > self.max:
            w.err(ptr, f"must be less than {self.max + 1} characters")
        if len(value) < self.min:
            w.err(ptr, f"must be more than {self.min - 1} characters")
        if self.pattern and not re.fullmatch(self.pattern, value):
            w.err(ptr, "does not match the required format")


@dataclass(frozen=True)
class Bool:
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, bool):
            w.err(ptr, "must be a boolean")


@dataclass(frozen=True)
class Int:
    min: int | None = None
    max: int | None = None
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            w.err(ptr, "must be an integer")
        elif self.min is not None and value < self.min:
            w.err(ptr, f"must be at least {self.min}")
        elif self.max is not None and value > self.max:
            w.err(ptr, f"must be at most {self.max}")


@dataclass(frozen=True)
class OneOf:
    values: frozenset[str]
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if value not in self.values:
            w.err(ptr, f"must be one of {', '.join(sorted(self.values))}")


@dataclass(frozen=True)
class Day:
    """A calendar date written YYYY-MM-DD."""

    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        try:
            ok = isinstance(value, str) and bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value))
            ok = ok and date.fromisoformat(value) is not None
        except ValueError:
            ok = False
        if not ok:
            w.err(ptr, "must be a date in the format YYYY-MM-DD")


@dataclass(frozen=True)
class Text:
    """A composition text object: ``type`` among ``kinds``, ``text`` of 1..``max`` chars."""

    max: int
    kinds: frozenset[str] = PLAIN
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            w.err(ptr, "must provide an object")
            return
        kind = value.get("type")
        if kind not in self.kinds:
            w.err(f"{ptr}/type", f"must be {' or '.join(sorted(self.kinds))}")
        # emoji is a plain_text property, verbatim a mrkdwn one; Slack refuses the other way round
        if kind == "mrkdwn" and "emoji" in value:
            w.err(f"{ptr}/emoji", "is not allowed on a mrkdwn text object")
        if kind == "plain_text" and "verbatim" in value:
            w.err(f"{ptr}/verbatim", "is not allowed on a plain_text text object")
        for flag in ("emoji", "verbatim"):
            if flag in value and not isinstance(value[flag], bool):
                w.err(f"{ptr}/{flag}", "must be a boolean")
        if "text" not in value:
            w.err(ptr, "missing required field: text")
            return
        Str(self.max, min=1).check(w, value["text"], f"{ptr}/text")
        if isinstance(value["text"], str):
            w.text_chars += len(value["text"])


@dataclass(frozen=True)
class Free:
    """A field Slack accepts whose content these rules do not inspect."""

    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        return None


@dataclass(frozen=True)
class Strings:
    """A list of up to ``max`` ids."""

    max: int = 100
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            w.err(ptr, "must be an array of strings")
        elif len(value) > self.max:
            w.err(ptr, f"no more than {self.max} items allowed")


@dataclass(frozen=True)
class Fields:
    """A section's ``fields``: up to 10 text objects of up to 2,000 characters."""

    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list) or not value:
            w.err(ptr, "must provide a non-empty array")
            return
        if len(value) > 10:
            w.err(ptr, "no more than 10 items allowed")
        for i, item in enumerate(value):
            Text(2000, ANY_TEXT).check(w, item, f"{ptr}/{i}")


@dataclass(frozen=True)
class Option:
    """An option object; ``kinds`` are the text types the containing element allows."""

    kinds: frozenset[str] = PLAIN
    url: bool = False
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            w.err(ptr, "must provide an object")
            return
        rules: dict[str, Any] = {
            "text": Text(75, self.kinds, required=True),
            "value": Str(150, required=True, min=1),
            "description": Text(75, self.kinds),
        }
        if self.url:  # only overflow menu options may carry a url
            rules["url"] = Str(3000)
        _fields(w, value, rules, ptr)


@dataclass(frozen=True)
class Options:
    """A list of ``min``..``max`` option objects."""

    max: int
    min: int = 1
    kinds: frozenset[str] = PLAIN
    url: bool = False
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list):
            w.err(ptr, "must provide an array")
            return
        if len(value) > self.max:
            w.err(ptr, f"no more than {self.max} items allowed")
        if len(value) < self.min:
            w.err(ptr, f"must provide at least {self.min} items")
        for i, item in enumerate(value):
            Option(self.kinds, self.url).check(w, item, f"{ptr}/{i}")


@dataclass(frozen=True)
class OptionGroups:
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list):
            w.err(ptr, "must provide an array")
            return
        if len(value) > 100:
            w.err(ptr, "no more than 100 items allowed")
        for i, group in enumerate(value):
            if not isinstance(group, dict):
                w.err(f"{ptr}/{i}", "must provide an object")
                continue
            rules = {"label": Text(75, required=True), "options": Options(100, required=True)}
            _fields(w, group, rules, f"{ptr}/{i}")


@dataclass(frozen=True)
class Confirm:
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, dict):
            w.err(ptr, "must provide an object")
            return
        rules = {
            "title": Text(100, required=True),
            "text": Text(300, ANY_TEXT, required=True),
            "confirm": Text(30, required=True),
            "deny": Text(30, required=True),
            "style": OneOf(frozenset({"primary", "danger"})),
        }
        _fields(w, value, rules, ptr)


@dataclass(frozen=True)
class Element:
    """One block element among ``kinds`` (a section's accessory, an input's element)."""

    kinds: frozenset[str]
    required: bool = False

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        _element(w, value, ptr, self.kinds)


@dataclass(frozen=True)
class Elements:
    """A block's ``elements``: ``min``..``max`` elements among ``kinds``; action_ids unique."""

    kinds: frozenset[str]
    max: int
    min: int = 1
    required: bool = True

    def check(self, w: _Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list):
            w.err(ptr, "must provide an array")
            return
        if len(value) > self.max:
            w.err(ptr, f"no more than {self.max} items allowed")
        if len(value) < self.min:
            w.err(ptr, f"must provide at least {self.min} items")
        for i, item in enumerate(value):
            _element(w, item, f"{ptr}/{i}", self.kinds)


def _fields(w: _Walk, obj: dict[str, Any], rules: dict[str, Any], ptr: str) -> None:
    for name, rule in rules.items():
        if name in obj:
            rule.check(w, obj[name], f"{ptr}/{name}")
        elif rule.required:
            w.err(ptr, f"missing required field: {name}")


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


def _element_extra(w: _Walk, element: dict[str, Any], ptr: str) -> None:
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


def _element(w: _Walk, element: Any, ptr: str, kinds: frozenset[str]) -> None:
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
    _fields(w, element, ELEMENT_RULES[kind], ptr)
    _element_extra(w, element, ptr)


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


def _block(w: _Walk, block: Any, ptr: str) -> None:
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
    _fields(w, block, BLOCK_RULES[kind], ptr)
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
    # every element's action_id); block_id uniqueness spans the whole message or view.
    elements = block.get("elements") if kind in ("actions", "context_actions") else None
    if kind == "section":
        elements = [block.get("accessory")]
    if kind == "input":
        elements = [block.get("element")]
    seen: set[str] = set()
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                where = f"{ptr}/elements/{i}" if kind in ("actions", "context_actions") else ptr
                w.err(f"{where}/action_id", "duplicate action_id within the block")
            seen.add(action_id)


def _blocks(w: _Walk, blocks: Any, ptr: str, limit: int) -> None:
    if not isinstance(blocks, list):
        w.err(ptr, "must provide an array")
        return
    if len(blocks) > limit:
        w.err(ptr, f"no more than {limit} items allowed")
    for i, block in enumerate(blocks):
        _block(w, block, f"{ptr}/{i}")


# ---------------------------------------------------------------- messages
def block_errors(blocks: Any, surface: Surface = "message") -> list[str]:
    """Every reason Slack would refuse these message blocks, as Slack words them."""
    w = _Walk(surface, "")
    _blocks(w, blocks, "/blocks", MESSAGE_BLOCKS)
    return w.errors


def blocks_text_chars(blocks: Any) -> int:
    """Characters of text in the blocks' text objects (what msg_blocks_too_long counts)."""
    w = _Walk("message", "")
    _blocks(w, blocks, "/blocks", 10**9)
    return w.text_chars


def refusal(error: str, messages: list[str] | None = None) -> dict[str, Any]:
    """An ok:false answer, with Slack's ``response_metadata.messages`` when there are some."""
    body: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        body["errors"] = [m.removeprefix("[ERROR] ") for m in messages]
        body["response_metadata"] = {"messages": messages}
    return body


def message_refusal(params: dict[str, Any], *, needs_content: bool = True) -> dict[str, Any] | None:
    """Why Slack would refuse this message (post, update, ephemeral, response_url), or None."""
    text, blocks = params.get("text"), params.get("blocks")
    if text is not None and not isinstance(text, str):
        return refusal("invalid_arguments", ["[ERROR] must be a string [json-pointer:/text]"])
    if isinstance(text, str) and len(text) > MESSAGE_TEXT:
        return refusal("msg_too_long")
    if blocks is not None and not isinstance(blocks, list):
        return refusal("invalid_blocks_format")
    if blocks:
        errors = block_errors(blocks)
        if errors:
            return refusal("invalid_blocks", errors)
        if blocks_text_chars(blocks) > MESSAGE_BLOCKS_TEXT:
            return refusal("msg_blocks_too_long")
    if needs_content and not (text or blocks or params.get("attachments")):
        return refusal("no_text")
    if "metadata" in params:
        problem = metadata_error(params["metadata"])
        if problem:
            return refusal(problem)
    return None


def metadata_error(metadata: Any) -> str | None:
    """Slack's error for a message's ``metadata`` (already JSON-decoded if it could be)."""
    if not isinstance(metadata, dict):
        return "invalid_metadata_format"
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not EVENT_TYPE.fullmatch(event_type):
        return "invalid_metadata_schema"
    # The guide shows event_payload always; slack_sdk's Metadata drops an empty one, so an
    # absent payload is taken (not stricter than Slack), a payload that is no object is not.
    if "event_payload" in metadata and not isinstance(payload, dict):
        return "invalid_metadata_schema"
    return None


# ---------------------------------------------------------------- views
VIEW_RULES: dict[str, dict[str, Any]] = {
    "modal": {
        "title": Text(24, required=True),
        "close": Text(24),
        "submit": Text(24),
        "private_metadata": Str(3000),
        "callback_id": Str(255),
        "external_id": Str(255),
        "clear_on_close": Bool(),
        "notify_on_close": Bool(),
        "submit_disabled": Bool(),
    },
    "home": {
        "private_metadata": Str(3000),
        "callback_id": Str(255),
        "external_id": Str(255),
    },
}


def view_errors(view: Any, kinds: frozenset[str] = frozenset({"modal", "home"})) -> list[str]:
    """Every reason Slack would refuse this view (of one of ``kinds``), as Slack words them."""
    if not isinstance(view, dict):
        return ["[ERROR] must provide an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in kinds:
        return [f"[ERROR] must be one of {', '.join(sorted(kinds))} [json-pointer:/view/type]"]
    w = _Walk(kind, "/view")
    _fields(w, view, VIEW_RULES[kind], "")
    if "blocks" not in view:
        w.err("", "missing required field: blocks")
    else:
        _blocks(w, view["blocks"], "/blocks", VIEW_BLOCKS)
    has_input = isinstance(view.get("blocks"), list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"]
    )
    if kind == "modal" and has_input and "submit" not in view:
        w.err("", "missing required field: submit (the view has input blocks)")
    return w.errors


def view_payload_bytes(view: Any) -> int:
    """Size of the view as sent, compact JSON in UTF-8."""
    return len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode())
