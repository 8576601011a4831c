"""The prep pack's summary message: what fits in a DM, with the full pack attached as a file."""

from __future__ import annotations

from bot.labels import kind_label
from bot.policy import Policy
from bot.prep_pack import PrepPack
from bot.prep_pack_text import agenda, rating_label, reasons, share_text
from handlers.blocks import kit
from prompts import items, t

TIMELINE_LINES = 12


def prep_pack_blocks(pack: PrepPack, *, policy: Policy, locale: str) -> list[kit.Block]:
    """Header, the interview's plan, risks, self-assessment, talking time, agenda, checklist;
    long lists are cut to stay inside Slack's limits (the file has everything)."""
    name = pack.employee.name
    when = t("prep.interview", locale, date=pack.interview_on.isoformat(), minutes=pack.minutes)
    if pack.longer_because:
        when += f" ({t('prep.longer', locale, reasons=reasons(pack, locale))})"
    open_ = sum(1 for a in pack.actions if a.status == "open")
    overdue = sum(1 for a in pack.actions if a.status == "overdue")
    counts = t(
        "prep.summary_counts",
        locale,
        talks=len(pack.timeline),
        facts=len(pack.facts),
        open=open_,
        overdue=overdue,
        goals=len(pack.goals),
    )
    blocks = [
        kit.header(t("prep.title", locale, name=name, cycle=pack.cycle.name)),
        kit.section(f"*{kit.escape(when)}*\n{counts}"),
    ]
    if pack.silent_months:
        months = ", ".join(pack.silent_months)
        blocks.append(kit.section(f"⚠️ {kit.escape(t('prep.silent', locale, months=months))}"))
    lines = [
        f"• {e.held_on.isoformat()} · {kind_label(policy, e.kind, locale)}"
        for e in pack.timeline[-TIMELINE_LINES:]
    ]
    if len(pack.timeline) > TIMELINE_LINES:
        lines.insert(0, f"… (+{len(pack.timeline) - TIMELINE_LINES})")
    blocks.append(
        kit.section(
            f"*{t('prep.timeline', locale)}*\n" + ("\n".join(lines) or t("prep.no_talks", locale))
        )
    )
    own = pack.self_assessment
    self_line = (
        t("prep.self_missing", locale)
        if own is None
        else t("prep.self_rating", locale, rating=rating_label(policy, own.rating, locale))
    )
    blocks.append(kit.section(f"*{t('prep.self', locale)}*\n{kit.escape(self_line)}"))
    blocks.append(
        kit.section(f"*{t('prep.share', locale)}*\n{kit.escape(share_text(pack, locale))}")
    )
    steps = "\n".join(f"{n}. {kit.escape(s)}" for n, s in enumerate(agenda(pack, locale), 1))
    blocks.append(kit.section(f"*{t('prep.agenda', locale)}*\n{steps}"))
    checklist = " · ".join(i.format(name=name) for i in items("prep.checklist_items", locale))
    blocks.append(kit.context(f"{t('prep.checklist', locale)}: {kit.escape(checklist)}"))
    blocks.append(kit.context(t("prep.attached", locale)))
    return blocks
