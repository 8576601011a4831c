"""Block Kit JSON from plain data: the one path by which people's words reach Slack.

Slack renders every mrkdwn text (sections, contexts) and a message's fallback `text` (also
in notifications) as markup, where `<!channel>`, `<@U…>` and `<https://…|…>` are live. So
all of them are built here, from two kinds of text:

- `Mrkdwn`: text already rendered, passed through as is. It comes from `md()` (a catalog
  template whose own markup, like `*bold*`, stays, with every parameter escaped), `escape()`,
  or the combinators `lines()`, `join()`, `bold()`, `mention()`.
- any other `str`: people's words, or text of unknown origin. It is escaped as a whole.

A builder that forgets to escape therefore cannot leak a mention or a link: at worst our own
markup would show literally. `plain_text` objects are shown literally by Slack and take plain
strings, never `Mrkdwn` (that would show `&amp;`).

Long text is never cut: `sections()` splits it over several blocks on line or word
boundaries (never inside an entity such as `&amp;`), and `Message.parts()` splits a message
that exceeds what Slack takes in one post. Only plain-text fields with hard limits (option
and button text, placeholders, modal titles) are shortened, visibly, with "…".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from prompts import t

Block = dict[str, Any]

SECTION_LIMIT = 3000  # characters of a section's or a context element's text
HEADER_LIMIT = 150
OPTION_LIMIT = 75  # option, button and overflow item text
PLACEHOLDER_LIMIT = 150
LABEL_LIMIT = 2000  # input labels and hints
TITLE_LIMIT = 24  # modal title, submit and close
CONTEXT_ELEMENTS = 10
ACTIONS_ELEMENTS = 25
SELECT_OPTIONS = 100
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
# Slack refuses a message whose blocks hold more than about 12,000 characters of text
# (`msg_blocks_too_long`, undocumented); a margin keeps JSON escapes and counting
# differences on the safe side.
MESSAGE_TEXT = 11_000

_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class Mrkdwn(str):
    """Text already rendered as mrkdwn (our markup, people's words escaped): used as is."""

    __slots__ = ()


def escape(text: object) -> Mrkdwn:
    """People's text as mrkdwn: Slack's three control characters become entities (once: a
    `Mrkdwn` is returned unchanged)."""
    if isinstance(text, Mrkdwn):
        return text
    raw = str(text)
    return Mrkdwn(raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def unescape(text: str) -> str:
    """Mrkdwn we sent (as Slack gives it back) as the plain text it shows."""
    return str(text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def md(key: str, locale: str, **params: object) -> Mrkdwn:
    """A catalog text as mrkdwn: the template's markup stays, every parameter is escaped
    (a `Mrkdwn` parameter is already rendered; numbers stay numbers for format specs)."""
    template = t(key, locale)
    if not params:
        return Mrkdwn(template)
    safe = {n: v if isinstance(v, int | float) else escape(v) for n, v in params.items()}
    return Mrkdwn(template.format(**safe))


def lines(*parts: object) -> Mrkdwn:
    """Parts on separate lines (each escaped unless already `Mrkdwn`); empty parts dropped."""
    return join("\n", [p for p in parts if p not in (None, "")])


def join(separator: str, parts: Iterable[object]) -> Mrkdwn:
    """Parts joined by our own `separator` (each part escaped unless already `Mrkdwn`)."""
    return Mrkdwn(str(separator).join(escape(p) for p in parts))


def bold(text: object) -> Mrkdwn:
    """Text in bold."""
    return Mrkdwn(f"*{escape(text)}*")


def quote(text: str) -> Mrkdwn:
    """People's text as a block quote, every line of it."""
    return Mrkdwn("\n".join(f">{escape(line)}" for line in text.splitlines() or [""]))


def mention(user_id: str) -> Mrkdwn:
    """A live mention of a Slack user (our own markup; an id of another form is escaped)."""
    return Mrkdwn(f"<@{user_id}>") if _SLACK_ID.match(user_id) else escape(user_id)


def clip(text: str, limit: int) -> str:
    """Shorten plain text to `limit` characters, marking the cut with "…". Only for
    plain-text fields with hard limits; never for mrkdwn (it could cut an entity)."""
    if isinstance(text, Mrkdwn):
        raise TypeError("clip() is for plain text; split mrkdwn with sections()")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    """A plain_text object (shown literally), visibly shortened past `limit`."""
    if isinstance(text, Mrkdwn):
        raise TypeError("plain_text shows text literally: pass the unescaped text")
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def split(text: object, limit: int = SECTION_LIMIT) -> list[Mrkdwn]:
    """Mrkdwn in pieces of at most `limit` characters: at a line break if one is in the
    second half of the piece, else at a space, else anywhere; never inside an entity
    (`&amp;`) or our own `<…>` markup."""
    rest = escape(text)
    pieces: list[Mrkdwn] = []
    while len(rest) > limit:
        window = rest[:limit]
        cut, skip = limit, 0
        for separator in ("\n", " "):
            at = window.rfind(separator)
            if at >= limit // 2:
                cut, skip = at, 1
                break
        cut = _outside_markup(window, cut)
        if cut <= 0:  # one unbreakable run of markup longer than a piece: cannot happen with
            cut, skip = limit, 0  # entities (5 chars) or mentions; cut rather than loop
        pieces.append(Mrkdwn(rest[:cut]))
        rest = Mrkdwn(rest[cut + skip :] if skip and rest[cut : cut + 1] in "\n " else rest[cut:])
    pieces.append(rest)
    return pieces


def _outside_markup(window: str, cut: int) -> int:
    """Move `cut` back before an entity or `<…>` it would land inside."""
    amp = window.rfind("&", max(0, cut - 5), cut)
    if amp != -1 and ";" not in window[amp:cut]:
        cut = amp
    opened = window.rfind("<", 0, cut)
    if opened > window.rfind(">", 0, cut):
        cut = opened
    return cut


def mrkdwn(text: object) -> dict[str, Any]:
    """A mrkdwn text object; the text must fit one (use `sections()` for long text)."""
    rendered = escape(text)
    if len(rendered) > SECTION_LIMIT:
        raise ValueError(f"mrkdwn text of {len(rendered)} characters: use sections()")
    return {"type": "mrkdwn", "text": rendered}


def header(text: str) -> Block:
    """A header; text past its 150 characters becomes a bold section instead, so that no
    name or title is cut."""
    if len(text) <= HEADER_LIMIT:
        return {"type": "header", "text": plain(text, HEADER_LIMIT)}
    return section(bold(text))


def section(
    text: object, *, accessory: dict[str, Any] | None = None, block_id: str | None = None
) -> Block:
    """One section block; for text that may be long, `sections()`."""
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def sections(
    text: object, *, accessory: dict[str, Any] | None = None, block_id: str | None = None
) -> list[Block]:
    """As many section blocks as the text needs; the accessory sits on the first, and a
    `block_id` is suffixed (`_2`, `_3`, …) after the first so ids stay unique."""
    blocks = []
    for n, piece in enumerate(split(text), start=1):
        piece_id = None if block_id is None else (block_id if n == 1 else f"{block_id}_{n}")
        blocks.append(section(piece, accessory=accessory if n == 1 else None, block_id=piece_id))
    return blocks


def context(*texts: object, block_id: str | None = None) -> Block:
    """One context block of up to ten short texts; for long text, `contexts()`."""
    if len(texts) > CONTEXT_ELEMENTS:
        raise ValueError("a context block holds at most 10 elements")
    block: Block = {"type": "context", "elements": [mrkdwn(text) for text in texts]}
    if block_id:
        block["block_id"] = block_id
    return block


def contexts(text: object) -> list[Block]:
    """As many context blocks as the text needs."""
    return [context(piece) for piece in split(text)]


def listing(
    title: object,
    items: Sequence[object],
    *,
    empty: object = None,
    max_blocks: int | None = None,
    more: Any = None,
) -> list[Block]:
    """A titled list as sections, every item whole. With `max_blocks` (a view's budget), the
    items that do not fit are counted: `more(count)` says how many and where they are."""
    if not items:
        return sections(lines(title, empty)) if empty is not None else sections(title)
    blocks = sections(lines(title, *items))
    if max_blocks is None or len(blocks) <= max_blocks:
        return blocks
    for shown in range(len(items) - 1, -1, -1):
        blocks = sections(lines(title, *items[:shown])) if shown else sections(title)
        if len(blocks) + 1 <= max_blocks:
            return [*blocks, context(more(len(items) - shown))]
    return [context(more(len(items)))]


def divider() -> Block:
    """A divider."""
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    """A button (its text is plain and short; what it is about is in the message itself)."""
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, OPTION_LIMIT),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    """An actions block; every element needs its own action id (Slack: invalid_blocks)."""
    if len(elements) > ACTIONS_ELEMENTS:
        raise ValueError("an actions block holds at most 25 elements")
    action_ids = [e.get("action_id") for e in elements]
    if len(set(action_ids)) != len(action_ids):
        raise ValueError(f"action ids repeat within one block: {action_ids}")
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> dict[str, Any]:
    """A select or checkbox option. Its text is plain and at most 75 characters: a longer
    name or label is shortened with "…" (Slack's hard limit); the full text is shown
    elsewhere in the same view or message."""
    return {"text": plain(text, OPTION_LIMIT), "value": value}


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
    dispatch: bool = False,
) -> Block:
    """An input block around one element."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_LIMIT),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, LABEL_LIMIT)
    if dispatch:
        block["dispatch_action"] = True
    return block


def modal(
    callback_id: str,
    title: str,
    blocks: list[Block],
    *,
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str = "",
) -> dict[str, Any]:
    """A modal view (its title, submit and close are our own short words)."""
    _check_view(blocks)
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, TITLE_LIMIT),
        "blocks": blocks,
        "private_metadata": private_metadata,
    }
    if submit:
        view["submit"] = plain(submit, TITLE_LIMIT)
    if close:
        view["close"] = plain(close, TITLE_LIMIT)
    return view


def home(blocks: list[Block]) -> dict[str, Any]:
    """An App Home view."""
    _check_view(blocks)
    return {"type": "home", "blocks": blocks}


def _check_view(blocks: list[Block]) -> None:
    """A view past Slack's limits is a bug in its builder: fail loudly, never trim."""
    if len(blocks) > VIEW_BLOCKS:
        raise ValueError(f"a view holds at most {VIEW_BLOCKS} blocks, not {len(blocks)}")
    _check_block_ids(blocks)


def _check_block_ids(blocks: list[Block]) -> None:
    block_ids = [b["block_id"] for b in blocks if b.get("block_id")]
    if len(set(block_ids)) != len(block_ids):
        raise ValueError(f"block ids repeat: {block_ids}")


def block_text_length(node: object) -> int:
    """How many characters of text some blocks hold (what Slack counts against a message)."""
    if isinstance(node, dict):
        own = len(node["text"]) if isinstance(node.get("text"), str) else 0
        return own + sum(block_text_length(v) for v in node.values())
    if isinstance(node, list):
        return sum(block_text_length(v) for v in node)
    return 0


@dataclass(frozen=True)
class Message:
    """A message: its fallback text (the notification; escaped like any mrkdwn) and blocks.

    One message may need several posts: `parts()` gives them in order, each within Slack's
    50 blocks and ~12,000 characters. Buttons sit at the end, so `last_part()` is the post a
    click on them updates."""

    text: str
    blocks: list[Block]

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", escape(self.text))
        _check_block_ids(self.blocks)

    def as_kwargs(self) -> dict[str, Any]:
        """`text` and `blocks` for a single post (an ephemeral answer); see `parts()`."""
        return {"text": self.text, "blocks": self.blocks}

    def parts(self) -> list[Message]:
        """The posts this message needs, in order (one unless it is long). Each later part
        repeats the fallback text with its number, "(2/3)", so each notification says what
        it continues."""
        groups: list[list[Block]] = [[]]
        size = 0
        for block in self.blocks:
            length = block_text_length(block)
            current = groups[-1]
            if current and (len(current) >= MESSAGE_BLOCKS or size + length > MESSAGE_TEXT):
                # a header goes with what it heads
                header_last = len(current) > 1 and current[-1].get("type") == "header"
                carried = [current.pop()] if header_last else []
                groups.append(carried)
                size = sum(block_text_length(b) for b in carried)
            groups[-1].append(block)
            size += length
        if len(groups) == 1:
            return [self]
        n = len(groups)
        return [
            Message(Mrkdwn(f"{self.text} ({i}/{n})"), group)
            for i, group in enumerate(groups, start=1)
        ]

    def last_part(self) -> Message:
        """The post holding the message's closing blocks (its buttons)."""
        return self.parts()[-1]

    def replacing(self, before: Message) -> tuple[Message, list[Message]]:
        """This message as the update of `before` after a click on its buttons (in its last
        post): the post that replaces the clicked one, and the posts to add after it when
        the update is longer. Parts are cut greedily from the start, so the posts before
        the clicked one are the same in both."""
        parts = self.parts()
        clicked = min(len(before.parts()), len(parts))
        return parts[clicked - 1], parts[clicked:]
