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
from typing import Any

from bot.dev.slack_rules.blocks import MESSAGE_BLOCKS_TEXT, walk_blocks
from bot.dev.slack_rules.fields import Bool, Str, Text, Walk, check_fields

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40_000
VIEW_PAYLOAD_BYTES = 250_000
EVENT_TYPE = re.compile(r"[a-zA-Z0-9_]{1,255}")


# ---------------------------------------------------------------- messages
def block_errors(blocks: Any, surface: str = "message") -> list[str]:
    """Every reason Slack would refuse these message blocks, as Slack words them."""
    w = Walk(surface, "")
    walk_blocks(w, blocks, "/blocks", MESSAGE_BLOCKS)
    return w.errors


def blocks_text_chars(blocks: Any) -> int:
    """Characters of text in the blocks' text objects and markdown blocks."""
    # Slack does not say what msg_blocks_too_long counts; this counts every text object
    # (sections, fields, headers, context, button and option labels), so a message right
    # at the limit is refused here first.
    w = Walk("message", "")
    walk_blocks(w, blocks, "/blocks", 10**9)
    return w.text_chars


def refusal(error: str, messages: list[str] | None = None) -> dict[str, Any]:
    """An ok:false answer, with Slack's ``response_metadata.messages`` when there are some."""
    body: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        body["errors"] = [m.removeprefix("[ERROR] ") for m in messages]
        body["response_metadata"] = {"messages": messages}
    return body


def message_refusal(params: dict[str, Any]) -> dict[str, Any] | None:
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
    if not (text or blocks or params.get("attachments")):
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
    w = Walk(kind, "/view")
    check_fields(w, view, VIEW_RULES[kind], "")
    if "blocks" not in view:
        w.err("", "missing required field: blocks")
    else:
        walk_blocks(w, view["blocks"], "/blocks", VIEW_BLOCKS)
    has_input = isinstance(view.get("blocks"), list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"]
    )
    if kind == "modal" and has_input and "submit" not in view:
        w.err("", "missing required field: submit (the view has input blocks)")
    return w.errors


def view_payload_bytes(view: Any) -> int:
    """Size of the view as sent, compact JSON in UTF-8."""
    return len(json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode())
