"""What a person is told about their own data: the summary above the "my data" file."""

from __future__ import annotations

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.privacy.my_data import MyData
from handlers.slack.blocks import kit
from handlers.slack.blocks.kit import Message


def my_data_summary(data: MyData, *, policy: Policy, locale: str) -> Message:
    """The counts, what HR reads, and what becomes of private notes, in `locale`."""
    lines = [kit.md("privacy.my_data.summary", locale, **data.summary_counts())]
    notes = data.notes_key()
    if notes is not None:
        lines.append(kit.md(notes, locale, notes=data.counts["private_notes"]))
    if data.hr_reads:
        kinds = ", ".join(kind_label(policy, k, locale) for k in data.hr_reads)
        lines.append(kit.md("privacy.my_data.hr_reads", locale, kinds=kinds))
    else:
        lines.append(kit.md("privacy.my_data.hr_reads_none", locale))
    text = kit.Mrkdwn("\n\n".join(lines))
    return Message(text, kit.sections(text))
