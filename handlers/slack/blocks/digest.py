"""HR's weekly digest in Block Kit: this period's numbers, what moved most, and the button
to the full table (the chart follows as an image file of its own)."""

from __future__ import annotations

from bot.records.coverage_digest import CoverageDigest
from handlers.slack import ids
from handlers.slack.blocks import kit
from handlers.slack.blocks.messages import Message
from prompts import t


def digest_message(digest: CoverageDigest, *, locale: str) -> Message:
    """The digest as one message."""
    title = t("hr_digest.title", locale)
    key, counts = digest.summary()
    summary = kit.md(key, locale, **counts)
    moved = [kit.md("hr_digest.change", locale, **shown) for shown in digest.moved(locale)]
    changes = (
        kit.lines(
            kit.md("hr_digest.changes", locale),
            kit.join("\n", [kit.Mrkdwn(f"• {m}") for m in moved]),
        )
        if moved
        else kit.md("hr_digest.no_changes", locale)
    )
    table = kit.button(t("hr_digest.full_table", locale), ids.DIGEST_FULL_TABLE, ids.DIGEST_VALUE)
    blocks = [
        kit.header(title),
        *kit.sections(summary),
        *kit.sections(changes),
        kit.context(kit.md("hr_digest.chart_below", locale)),
        kit.actions(table, block_id=ids.DIGEST_ACTIONS_BLOCK),
    ]
    return Message(title, blocks)
