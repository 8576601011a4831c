"""Block Kit checks: every captured view and message must be one Slack accepts.

slack_sdk's models check some limits; ``bot.dev.slack_rules`` (what the stand-in answers with)
checks the rest, such as a duplicate action_id within one block.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.dev import slack_rules

MESSAGE_BLOCKS, VIEW_BLOCKS = slack_rules.MESSAGE_BLOCKS, slack_rules.VIEW_BLOCKS
MESSAGE_TEXT_CHARS = slack_rules.MESSAGE_BLOCKS_TEXT


def valid_view(view: dict[str, Any]) -> dict[str, Any]:
    """Assert a modal or Home view is valid; return it."""
    model = View(**view)
    model.validate_json()
    for block in view["blocks"]:
        Block.parse(block).validate_json()
    errors = slack_rules.view_errors(view)
    assert not errors, f"Slack would refuse this view: {errors}"
    assert slack_rules.view_payload_bytes(view) <= slack_rules.VIEW_PAYLOAD_BYTES
    return view


def valid_message(params: dict[str, Any]) -> dict[str, Any]:
    """Assert a chat.postMessage/chat.update payload is valid; return it."""
    assert params.get("text"), "every message needs fallback text"
    for block in params.get("blocks") or []:
        Block.parse(block).validate_json()
    refused = slack_rules.message_refusal(params)
    assert refused is None, f"Slack would refuse this message: {refused}"
    return params


def texts(blocks: list[dict[str, Any]]) -> str:
    """All the text in some blocks, for asserting what a person reads."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                out.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return "\n".join(out)
