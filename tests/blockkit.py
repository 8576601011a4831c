"""Block Kit checks: every captured view and message must parse in slack_sdk.models and validate."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCKS, VIEW_BLOCKS, MESSAGE_TEXT_CHARS = 50, 100, 12000


def valid_view(view: dict[str, Any]) -> dict[str, Any]:
    """Assert a modal or Home view is valid; return it."""
    model = View(**view)
    model.validate_json()
    assert len(view["blocks"]) <= VIEW_BLOCKS
    assert len(json.dumps(view)) < 250_000
    for block in view["blocks"]:
        Block.parse(block).validate_json()
    return view


def valid_message(params: dict[str, Any]) -> dict[str, Any]:
    """Assert a chat.postMessage/chat.update payload is valid; return its blocks."""
    assert params.get("text"), "every message needs fallback text"
    blocks = params.get("blocks") or []
    assert len(blocks) <= MESSAGE_BLOCKS
    for block in blocks:
        Block.parse(block).validate_json()
    assert len(json.dumps(blocks, ensure_ascii=False)) < MESSAGE_TEXT_CHARS * 2
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
