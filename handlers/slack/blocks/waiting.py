"""Modals that stand in for a form: "Loading…" while it is prepared, or a message in its
place (a refusal, or news the form cannot show)."""

from __future__ import annotations

from typing import Any

from handlers.slack import ids
from handlers.slack.blocks import kit
from prompts import LOCALES, t


def _in(key: str, locale: str | None) -> str:
    """The prompt in the user's language, or in every language when it is not known."""
    return " / ".join(t(key, loc) for loc in ([locale] if locale else LOCALES))


def loading_view(locale: str | None) -> dict[str, Any]:
    """The modal opened at once with the trigger, before the form is ready."""
    return {
        "type": "modal",
        "callback_id": ids.LOADING_MODAL,
        "title": kit.plain(t("wait.title", locale or LOCALES[0]), 24),
        "close": kit.plain(_in("wait.close", locale), 24),
        "blocks": [kit.section(kit.escape(_in("wait.loading", locale)))],
    }


def message_view(text: str, *, locale: str) -> dict[str, Any]:
    """A modal holding one message, such as a refusal, where a form would have been."""
    return {
        "type": "modal",
        "callback_id": ids.MESSAGE_MODAL,
        "title": kit.plain(t("wait.title", locale), 24),
        "close": kit.plain(t("wait.close", locale), 24),
        "blocks": [kit.section(kit.escape(text))],
    }
