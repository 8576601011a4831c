"""Slack's rules that slack_sdk does not check, asserted on any payload the app sends, and the
check that people's text reaches Slack only as text (no live mention, link or entity)."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.dev.slack_standin import SlackStandIn

MESSAGE_BLOCKS, VIEW_BLOCKS = 50, 100
MESSAGE_TEXT_CHARS = 12_000
SECTION_TEXT, HEADER_TEXT, CONTEXT_ELEMENTS, ACTION_ELEMENTS = 3000, 150, 10, 25
# `&` that does not start one of the three entities Slack uses
_BARE_AMPERSAND = re.compile(r"&(?!(amp|lt|gt);)")
# What Slack turns into a live mention or link inside mrkdwn
LIVE_MARKUP = ("<!", "<@", "<#", "<http", "<mailto")


def _walk(node: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            _walk(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk(value, found)


def text_objects(blocks: list[dict[str, Any]], kind: str) -> list[str]:
    """The text of every `mrkdwn` (or `plain_text`) object in some blocks."""
    found: list[dict[str, Any]] = []
    _walk(blocks, found)
    return [n["text"] for n in found if n.get("type") == kind and isinstance(n.get("text"), str)]


def block_text_length(blocks: list[dict[str, Any]]) -> int:
    """Characters of text in some blocks (what Slack counts for msg_blocks_too_long)."""
    return sum(len(s) for kind in ("mrkdwn", "plain_text") for s in text_objects(blocks, kind))


def assert_block_rules(blocks: list[dict[str, Any]], *, limit: int) -> None:
    """block_id unique in the message or view; action_id unique within each block; sizes."""
    assert len(blocks) <= limit, f"{len(blocks)} blocks, Slack takes {limit}"
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"block_id repeats: {block_ids}"
    for block in blocks:
        elements = list(block.get("elements") or []) if block["type"] == "actions" else []
        elements += [block[k] for k in ("accessory", "element") if k in block]
        action_ids = [e["action_id"] for e in elements if "action_id" in e]
        assert len(action_ids) == len(set(action_ids)), f"action_id repeats in a block: {block}"
        if block["type"] == "actions":
            assert len(block["elements"]) <= ACTION_ELEMENTS
        if block["type"] == "context":
            assert len(block["elements"]) <= CONTEXT_ELEMENTS
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= HEADER_TEXT
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= SECTION_TEXT
        for text in text_objects([block], "mrkdwn"):
            assert len(text) <= SECTION_TEXT


def assert_message_rules(params: dict[str, Any]) -> None:
    """A chat.postMessage / chat.update / ephemeral / response_url payload Slack accepts."""
    assert params.get("text"), "every message needs its fallback text"
    blocks = params.get("blocks") or []
    assert_block_rules(blocks, limit=MESSAGE_BLOCKS)
    assert block_text_length(blocks) <= MESSAGE_TEXT_CHARS, "msg_blocks_too_long"


def assert_view_rules(view: dict[str, Any]) -> None:
    """A modal or Home view Slack accepts."""
    assert_block_rules(view["blocks"], limit=VIEW_BLOCKS)


MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", "response_url")
VIEW_METHODS = ("views.open", "views.update", "views.push", "views.publish")


def assert_every_payload_follows_slacks_rules(slack: SlackStandIn) -> int:
    """Check every message and view the app sent so far; return how many were checked."""
    checked = 0
    for call in slack.calls:
        if call.method in MESSAGE_METHODS and ("blocks" in call.params or "text" in call.params):
            assert_message_rules(call.params)
            checked += 1
        elif call.method in VIEW_METHODS:
            assert_view_rules(call.params["view"])
            checked += 1
    return checked


def mrkdwn_of(params: dict[str, Any]) -> list[str]:
    """What Slack renders as markup: the fallback `text` and every mrkdwn text object."""
    blocks = params.get("blocks") or (params.get("view") or {}).get("blocks") or []
    fallback = [params["text"]] if isinstance(params.get("text"), str) else []
    return fallback + text_objects(blocks, "mrkdwn")


def assert_text_only(texts: list[str], *, allowed: tuple[str, ...] = ()) -> None:
    """No live mention or link (`<!…>`, `<@…>`, `<#…>`, `<http…>`) and no bare `&`, except
    the app's own markup in `allowed`."""
    for text in texts:
        for own in allowed:
            text = text.replace(own, "")
        for markup in LIVE_MARKUP:
            assert markup not in text, f"live {markup!r} in {text[:200]!r}"
        assert "<" not in text and ">" not in text.replace("\n>", "\n").lstrip(">"), text[:200]
        assert not _BARE_AMPERSAND.search(text), f"unescaped & in {text[:200]!r}"


def shown(texts: list[str]) -> str:
    """The text as a person reads it (entities decoded), for asserting nothing was lost."""
    return html.unescape("\n".join(texts))


BLOCK_TYPES = {"section", "context", "actions", "input", "header", "divider", "image"}


def payloads_of(output: Any) -> list[tuple[str, dict[str, Any]]]:
    """What a builder returned, as the payloads Slack would get: ("message", params) for
    each post of a message, ("view", params), ("blocks", params) or ("text", params)."""
    if isinstance(output, tuple):  # an update and the posts that follow it
        return [p for item in (output[0], *output[1]) for p in payloads_of(item)]
    parts = getattr(output, "parts", None)
    if callable(parts):
        return [("message", part.as_kwargs()) for part in parts()]
    if isinstance(output, str):
        return [("text", {"text": output})]
    if isinstance(output, list) and all(isinstance(o, str) for o in output):  # mrkdwn lines
        return [("text", {"text": o}) for o in output]
    if isinstance(output, dict) and output.get("type") in ("modal", "home"):
        return [("view", {"view": output})]
    if isinstance(output, dict) and output.get("type") in BLOCK_TYPES:
        return [("blocks", {"blocks": [output]})]
    if isinstance(output, dict):  # one interactive element
        return [("blocks", {"blocks": [{"type": "actions", "elements": [output]}]})]
    if isinstance(output, list) and all("value" in o and "text" in o for o in output):
        return [("options", {"blocks": [{"type": "context", "elements": output}]})]
    return [("blocks", {"blocks": list(output)})]


def assert_safe_payload(kind: str, params: dict[str, Any], *, allowed: tuple[str, ...]) -> None:
    """Slack's rules for its kind, people's text only as text, plain text never escaped."""
    if kind == "message":
        assert_message_rules(params)
    elif kind == "view":
        assert_view_rules(params["view"])
    elif kind == "blocks":
        assert_block_rules(params["blocks"], limit=VIEW_BLOCKS)
    assert_text_only(mrkdwn_of(params), allowed=allowed)
    blocks = params.get("blocks") or (params.get("view") or {}).get("blocks") or []
    for text in text_objects(blocks, "plain_text"):
        assert not re.search(r"&(amp|lt|gt);", text), f"an entity shows literally: {text[:120]!r}"


def everything_shown(output: Any) -> str:
    """All text a person reads in a builder's output (every post), entities decoded."""
    found: list[str] = []
    for _kind, params in payloads_of(output):
        blocks = params.get("blocks") or (params.get("view") or {}).get("blocks") or []
        # a `>` opening a line is our block quote; people's `>` are `&gt;`
        quoted = [re.sub(r"(?m)^>", "", t) for t in text_objects(blocks, "mrkdwn")]
        found += quoted + text_objects(blocks, "plain_text")
        if _kind == "text":
            found.append(params["text"])
    return shown(found)
