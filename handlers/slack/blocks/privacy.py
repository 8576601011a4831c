"""What a person is told about their own data: the summary above the "my data" file."""

from __future__ import annotations

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.privacy.my_data import MyData
from handlers.slack.blocks import kit
from handlers.slack.blocks.kit import Message


def my_data_summary(data: MyData, *, policy: Policy, locale: str) -> Message:
    """The counts, what HR reads, and what becomes of private notes, in `locale`."""
    counts = data.counts
    lines = [
        kit.md(
            "privacy.my_data.summary",
            locale,
            talks=counts["talks"],
            actions=counts["actions"],
            goals=counts["goals"],
            selves=counts["self_assessments"],
            reviews=counts["reviews"],
            reads=counts["reads"],
        )
    ]
    if counts["private_notes"]:
        key = "privacy.my_data.notes_shown" if data.notes_shown else "privacy.my_data.notes_hidden"
        lines.append(kit.md(key, locale, notes=counts["private_notes"]))
    if data.hr_reads:
        kinds = ", ".join(kind_label(policy, k, locale) for k in data.hr_reads)
        lines.append(kit.md("privacy.my_data.hr_reads", locale, kinds=kinds))
    else:
        lines.append(kit.md("privacy.my_data.hr_reads_none", locale))
    text = kit.Mrkdwn("\n\n".join(lines))
    return Message(text, kit.sections(text))
