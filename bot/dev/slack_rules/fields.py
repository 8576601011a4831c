"""The field rules Block Kit objects are checked with: strings, numbers, text objects,
options and confirmation dialogs, each reporting errors as Slack words them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

PLAIN = frozenset({"plain_text"})
ANY_TEXT = frozenset({"plain_text", "mrkdwn"})
SURFACES = frozenset({"message", "modal", "home"})


class Walk:
    """Errors found so far, and what must be unique while walking one message or view."""

    def __init__(self, surface: str, root: str) -> None:
        self.surface, self.root = surface, root
        self.errors: list[str] = []
        self.block_ids: set[str] = set()
        self.text_chars = 0
        self.focused = False

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

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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
    """A boolean."""

    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, bool):
            w.err(ptr, "must be a boolean")


@dataclass(frozen=True)
class Int:
    """An integer within ``min``..``max``."""

    min: int | None = None
    max: int | None = None
    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            w.err(ptr, "must be an integer")
        elif self.min is not None and value < self.min:
            w.err(ptr, f"must be at least {self.min}")
        elif self.max is not None and value > self.max:
            w.err(ptr, f"must be at most {self.max}")


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of strings."""

    values: frozenset[str]
    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        if value not in self.values:
            w.err(ptr, f"must be one of {', '.join(sorted(self.values))}")


@dataclass(frozen=True)
class Day:
    """A calendar date written YYYY-MM-DD."""

    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        return None


@dataclass(frozen=True)
class Strings:
    """A list of up to ``max`` ids."""

    max: int = 100
    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            w.err(ptr, "must be an array of strings")
        elif len(value) > self.max:
            w.err(ptr, f"no more than {self.max} items allowed")


@dataclass(frozen=True)
class Fields:
    """A section's ``fields``: up to 10 text objects of up to 2,000 characters."""

    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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
        check_fields(w, value, rules, ptr)


@dataclass(frozen=True)
class Options:
    """A list of ``min``..``max`` option objects."""

    max: int
    min: int = 1
    kinds: frozenset[str] = PLAIN
    url: bool = False
    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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
    """Up to 100 option groups, each a label and up to 100 options."""

    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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
            check_fields(w, group, rules, f"{ptr}/{i}")


@dataclass(frozen=True)
class Confirm:
    """A confirmation dialog object."""

    required: bool = False

    def check(self, w: Walk, value: Any, ptr: str) -> None:
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
        check_fields(w, value, rules, ptr)


def check_fields(w: Walk, obj: dict[str, Any], rules: dict[str, Any], ptr: str) -> None:
    """Check each field of ``obj`` that has a rule; report required fields that are absent."""
    for name, rule in rules.items():
        if name in obj:
            rule.check(w, obj[name], f"{ptr}/{name}")
        elif rule.required:
            w.err(ptr, f"missing required field: {name}")
