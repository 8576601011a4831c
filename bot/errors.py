"""What a use case answers when it cannot do what was asked: every one leaves nothing written."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """What is wrong with one field: a prompt key and its parameters."""

    key: str
    params: dict[str, object] = field(default_factory=dict)


class NotAllowed(Exception):
    """The actor may not do this; `key` is the prompt explaining why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class Invalid(Exception):
    """The draft has problems; nothing was written."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__(", ".join(problems))
        self.problems = problems


class SaveFailed(Exception):
    """The database could not take the record; nothing was written. Whatever the raiser
    passes is dropped: a database error's text repeats the statement's parameters (what
    people typed), and this exception is logged. The cause stays chained (`from exc`)."""

    def __init__(self, *_ignored: object) -> None:
        super().__init__("the database could not take the record")
