"""The prep pack's summary message: what fits in a DM, with the full pack attached as a file."""

from __future__ import annotations

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.review.prep_pack import PrepPack
from bot.review.prep_pack_text import (
    agenda,
    interview_line,
    rating_label,
    share_text,
    summary_counts,
)
from handlers.slack.blocks import kit
from prompts import items, t

TIMELINE_LINES = 12


def prep_pack_blocks(pack: PrepPack, *, policy: Policy, locale: str) -> list[kit.Block]:
    """Header, the interview's plan, risks, self-assessment, talking time, agenda, checklist.
    The timeline shows the latest talks and says how many more the attached file lists.
    (`bot.review.prep_pack_text` writes plain text with names in it: escaped here as a whole.)"""
    name = pack.employee.name
    when = interview_line(pack, locale)
    counts = kit.md("prep.summary_counts", locale, **summary_counts(pack))
    blocks = [
        kit.header(t("prep.title", locale, name=name, cycle=pack.cycle.name)),
        *kit.sections(kit.lines(kit.bold(when), counts)),
    ]
    if pack.silent_months:
        months = ", ".join(pack.silent_months)
        blocks += kit.sections(kit.join(" ", ["⚠️", t("prep.silent", locale, months=months)]))
    timeline = [
        kit.join(" · ", [f"• {e.held_on.isoformat()}", kind_label(policy, e.kind, locale)])
        for e in pack.timeline[-TIMELINE_LINES:]
    ]
    earlier = len(pack.timeline) - TIMELINE_LINES
    if earlier > 0:
        timeline.insert(0, kit.md("prep.more_talks", locale, count=earlier))
    blocks += kit.listing(
        kit.bold(t("prep.timeline", locale)), timeline, empty=kit.md("prep.no_talks", locale)
    )
    own = pack.self_assessment
    self_line = (
        t("prep.self_missing", locale)
        if own is None
        else t("prep.self_rating", locale, rating=rating_label(policy, own.rating, locale))
    )
    blocks += kit.sections(kit.lines(kit.bold(t("prep.self", locale)), self_line))
    blocks += kit.sections(kit.lines(kit.bold(t("prep.share", locale)), share_text(pack, locale)))
    steps = [f"{n}. {step}" for n, step in enumerate(agenda(pack, locale), 1)]
    blocks += kit.listing(kit.bold(t("prep.agenda", locale)), steps)
    checklist = " · ".join(i.format(name=name) for i in items("prep.checklist_items", locale))
    blocks += kit.contexts(kit.join(": ", [t("prep.checklist", locale), checklist]))
    blocks.append(kit.context(kit.md("prep.attached", locale)))
    return blocks


def file_comment(pack: PrepPack, *, locale: str) -> kit.Mrkdwn:
    """The comment posted with the attached pack (Slack renders it as mrkdwn)."""
    return kit.md("prep.file_comment", locale, name=pack.employee.name, cycle=pack.cycle.name)
