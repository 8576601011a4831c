"""Adaptive Cards from plain data, and the one path for people's text into Teams.

Teams reads a TextBlock's text as Markdown, so a name like `[x](http://evil)` or `**boss**`
would turn into a link or bold type. Every text here is a `RichTextBlock` of `TextRun`s
instead, which Teams shows literally: people's words (and anything else) can never be read as
markup. Our own catalog's emphasis (`*bold*`, `` `code` ``, written for Slack) becomes a bold
or monospace run; its parameters are filled in afterwards, so what a person typed is never
parsed for it (`catalog_text`).

The notification line (`summary`, the activity's `text`) names people too: it is sent with
`textFormat: plain`, which Teams shows as typed.

Nothing people wrote is cut: a long text is split over several blocks on line or word
boundaries, and a message longer than Teams takes (about 28 KB) is sent in parts
(`TeamsMessage.parts()`), its buttons on the last. Sizes are counted as the Agents SDK posts
the activity (aiohttp's `json=`, every non-ASCII character escaped: a Chinese character is
6 bytes, an emoji 12), not as UTF-8.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.errors import Problem
from prompts import DEFAULT_LOCALE, catalog, t

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # what Teams renders
BLOCK_TEXT = 2000  # characters of one block of text; longer ones are split
BLOCK_BYTES = 12 * 1024  # and its text's JSON as sent (2000 Chinese characters fit; emoji not)
PART_BYTES = 18 * 1024  # JSON of one activity: under 40 KB as UTF-16 (the older documented limit)
NUMBERING = " (999/999)"  # the longest number a part's summary takes
EMPHASIS = re.compile(r"(\*[^*\n]+\*|`[^`\n]+`)")

Element = dict[str, Any]


def adaptive_card(body: list[Element], *, actions: list[Element] | None = None) -> Element:
    """An Adaptive Card of the version Teams renders."""
    card: Element = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def _run(text: str, **style: Any) -> Element:
    run: Element = {"type": "TextRun", "text": text}
    for name, value in style.items():
        if value not in (None, False, ""):
            run[name] = value
    return run


def _style(
    *,
    weight: str | None = None,
    color: str | None = None,
    size: str | None = None,
    subtle: bool = False,
) -> dict[str, Any]:
    return {"weight": weight, "color": color, "size": size, "isSubtle": subtle}


def _block(inlines: list[Element], *, separator: bool = False) -> Element:
    block: Element = {"type": "RichTextBlock", "inlines": inlines}
    if separator:
        block["separator"] = True
        block["spacing"] = "medium"
    return block


def split_text(text: str, limit: int = BLOCK_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` characters (fewer where their JSON as sent would
    pass `BLOCK_BYTES`), cut after a line break or a space where there is one; joined back,
    the pieces are `text`."""
    pieces: list[str] = []
    while True:
        room = limit
        while room > 1 and _size(text[:room]) > BLOCK_BYTES:
            room //= 2
        if len(text) <= room:
            break
        cut = max(text.rfind("\n", 0, room), text.rfind(" ", 0, room))
        cut = cut + 1 if cut > room // 2 else room
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    return pieces


def literal(
    text: str,
    *,
    weight: str | None = None,
    color: str | None = None,
    size: str | None = None,
    subtle: bool = False,
    separator: bool = False,
) -> Element:
    """Text shown exactly as written (one block: for short text such as a name)."""
    style = _style(weight=weight, color=color, size=size, subtle=subtle)
    return _block([_run(text, **style)], separator=separator)


def literals(text: str, **style: Any) -> list[Element]:
    """Text of any length shown exactly as written, over as many blocks as it needs."""
    return [literal(piece, **style) for piece in split_text(text)]


plain = literal  # our own (catalog) text with its parameters already filled in


def heading(text: str) -> Element:
    """A card's heading, shown as written."""
    return literal(text, weight="bolder", size="medium")


def catalog_text(
    key: str,
    locale: str,
    *,
    subtle: bool = False,
    color: str | None = None,
    size: str | None = None,
    separator: bool = False,
    **params: object,
) -> Element:
    """A catalog entry as a block: its own `*bold*` and `` `code` `` kept as styled runs, its
    `{parameters}` filled in literally (never parsed for markup)."""
    template = catalog(locale).get(key, catalog(DEFAULT_LOCALE).get(key))
    if not isinstance(template, str):
        raise KeyError(key)
    style = _style(color=color, size=size, subtle=subtle)
    inlines: list[Element] = []
    for piece in EMPHASIS.split(template):
        if not piece:
            continue
        if piece.startswith("*") and piece.endswith("*") and len(piece) > 2:
            inlines.append(_run(piece[1:-1].format(**params), **{**style, "weight": "bolder"}))
        elif piece.startswith("`") and piece.endswith("`") and len(piece) > 2:
            code = {**style, "fontType": "monospace"}
            inlines.append(_run(piece[1:-1].format(**params), **code))
        else:
            inlines.append(_run(piece.format(**params), **style))
    return _block(inlines, separator=separator)


def catalog_plain(key: str, locale: str, **params: object) -> str:
    """A catalog entry as plain text (a notification, a dialog's one line): its emphasis
    marks dropped, its parameters filled in."""
    template = catalog(locale).get(key, catalog(DEFAULT_LOCALE).get(key))
    if not isinstance(template, str):
        raise KeyError(key)
    pieces = [p[1:-1] if EMPHASIS.fullmatch(p) else p for p in EMPHASIS.split(template)]
    return "".join(p.format(**params) for p in pieces)


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<])")


def escape_markdown(text: str) -> str:
    """`text` with every Markdown character backslash-escaped (CommonMark), so a TextBlock
    shows it as typed."""
    return _MARKDOWN.sub(r"\\\1", text)


def problem(text: str) -> Element:
    """A form's problem, right after its field: a TextBlock in the attention colour (what
    tools reading the card look for; its text escaped, since it may echo what was typed)."""
    return {
        "type": "TextBlock",
        "text": escape_markdown(text),
        "color": "attention",
        "weight": "bolder",
        "wrap": True,
    }


def problem_after(element: Element, problems: Mapping[str, Problem], locale: str) -> list[Element]:
    """A form's input, then its problem (if any) right after it."""
    found = problems.get(element["id"])
    if found is None:
        return [element]
    return [element, problem(t(found.key, locale, **found.params))]


def fact(title: str, value: str) -> Element:
    """A label and its value, one line (the value literal)."""
    return _block([_run(f"{title}: ", weight="bolder"), _run(value)])


def bullets(lines: list[str], **style: Any) -> list[Element]:
    """One literal block per line, each with a bullet."""
    return [piece for line in lines for piece in literals(f"• {line}", **style)]


def action_set(actions: list[Element]) -> Element:
    return {"type": "ActionSet", "actions": actions}


@dataclass(frozen=True)
class TeamsMessage:
    """A message to one person: its notification text (plain: Teams shows it as is) and its
    cards. Long messages are sent as several activities (`parts()`), each under Teams'
    size, the buttons (`actions`) on the last one."""

    summary: str
    cards: list[Element] = field(default_factory=list)

    def attachments(self) -> list[Element]:
        return [{"contentType": ADAPTIVE_CARD, "content": card} for card in self.cards]

    def activity(self) -> Element:
        """This message as one activity (a part of it, once split)."""
        activity: Element = {"type": "message", "text": self.summary, "textFormat": "plain"}
        if self.cards:
            activity["attachments"] = self.attachments()
        return activity

    def parts(self) -> list[TeamsMessage]:
        """The activities this message needs, in order: one unless it is too long for Teams.
        Later parts repeat the summary with their number, "(2/3)"."""
        if _size(self.activity()) <= PART_BYTES:
            return [self]
        numbered = self.summary + NUMBERING

        def size(body: list[Element], actions: list[Element] | None = None) -> int:
            return _size(TeamsMessage(numbered, [adaptive_card(body, actions=actions)]).activity())

        empty = size([])  # a part's envelope; each element adds its JSON and ", "
        groups: list[list[Element]] = [[]]
        used = empty
        actions: list[Element] = []
        for card in self.cards:
            actions += card.get("actions") or []
            for element in card.get("body") or []:
                grows = _size(element) + (2 if groups[-1] else 0)
                if groups[-1] and used + grows > PART_BYTES:
                    groups.append([])
                    used, grows = empty, _size(element)
                groups[-1].append(element)
                used += grows
        if actions and size(groups[-1], actions) > PART_BYTES:
            groups.append([])
        n = len(groups)
        return [
            TeamsMessage(
                f"{self.summary} ({i}/{n})",
                [adaptive_card(group, actions=actions if i == n else None)],
            )
            for i, group in enumerate(groups, start=1)
        ]


def _size(value: object) -> int:
    """Bytes of `value` as JSON the way the SDK posts it (`json.dumps`' ASCII escapes)."""
    return len(json.dumps(value))
