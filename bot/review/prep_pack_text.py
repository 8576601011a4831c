"""The prep pack as a Markdown document, in the manager's language."""

from __future__ import annotations

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.review.prep_pack import PrepPack, facts_by_goal
from prompts import items, t


def rating_label(policy: Policy, rating: int | None, locale: str) -> str:
    """`4 (Exceeds expectations)`, or `–`."""
    if rating is None:
        return "–"
    label = policy.review.rating_labels.get(rating, {}).get(locale)  # type: ignore[call-overload]  # keys are Locale, any str asks
    return f"{rating} ({label})" if label else str(rating)


def reasons(pack: PrepPack, locale: str) -> str:
    """Why the interview is planned longer, in words."""
    return ", ".join(t(f"prep.reason_{r}", locale) for r in pack.longer_because)


def _list(lines: list[str]) -> list[str]:
    return [f"- {line}" for line in lines]


def _quote(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.strip().splitlines()) or "  –"


def agenda(pack: PrepPack, locale: str) -> list[str]:
    """The interview's agenda: the employee's own view first, decisions last."""
    steps = [step.format(name=pack.employee.name) for step in items("prep.agenda_items", locale)]
    if pack.linked_to_decisions:
        steps.append(t("prep.agenda_decisions", locale))
    return steps


def to_markdown(pack: PrepPack, *, policy: Policy, locale: str) -> str:
    """The whole pack, for a file attached to the DM or printed by the CLI."""
    name = pack.employee.name
    out = [f"# {t('prep.title', locale, name=name, cycle=pack.cycle.name)}", ""]
    when = t("prep.interview", locale, date=pack.interview_on.isoformat(), minutes=pack.minutes)
    if pack.longer_because:
        when += f" ({t('prep.longer', locale, reasons=reasons(pack, locale))})"
    out += [when, ""]
    if pack.previous_rating is not None:
        rating = rating_label(policy, pack.previous_rating, locale)
        out += [t("prep.previous", locale, rating=rating), ""]
    out += [f"## {t('prep.agenda', locale)}", ""]
    out += [f"{n}. {step}" for n, step in enumerate(agenda(pack, locale), start=1)] + [""]
    out += [f"## {t('prep.timeline', locale)}", ""]
    out += _list(
        [
            f"{e.held_on.isoformat()} · {kind_label(policy, e.kind, locale)}"
            f" · {t(f'family.{e.family}', locale)}"
            for e in pack.timeline
        ]
    ) or [t("prep.no_talks", locale)]
    silent = (
        t("prep.silent", locale, months=", ".join(pack.silent_months))
        if pack.silent_months
        else t("prep.no_silent", locale)
    )
    out += ["", f"> {'⚠️ ' if pack.silent_months else ''}{silent}", ""]
    out += [f"## {t('prep.self', locale)}", ""]
    own = pack.self_assessment
    if own is None:
        out += [t("prep.self_missing", locale), ""]
    else:
        out += [t("prep.self_rating", locale, rating=rating_label(policy, own.rating, locale)), ""]
        for key in ("proudest", "redo", "blockers", "support", "other"):
            text = getattr(own, key)
            if text.strip():
                out += [f"- **{t(f'prep.self_{key}', locale)}**", _quote(text)]
        out += [""]
    out += [f"## {t('prep.facts', locale)}", ""]
    for goal, facts in facts_by_goal(pack).items():
        title = t("prep.facts_goal", locale, goal=goal) if goal else t("prep.facts_other", locale)
        out += [f"### {title}", ""]
        for fact in facts:
            out += [
                f"- {fact.held_on.isoformat()} · {kind_label(policy, fact.kind, locale)}",
                _quote(fact.text),
            ]
        out += [""]
    if not pack.facts:
        out += [t("prep.no_talks", locale), ""]
    out += [f"## {t('prep.consensus', locale)}", ""]
    for held, text in pack.consensus:
        out += [f"- {held.isoformat()}", _quote(text)]
    out += ["", f"## {t('prep.actions', locale)}", ""]
    out += _list(
        [
            t(
                "prep.action_line",
                locale,
                text=a.text,
                owner=a.owner,
                due=a.due_on.isoformat(),
                status=t(f"prep.status_{a.status}", locale),
            )
            for a in pack.actions
        ]
    ) or [t("prep.no_actions", locale)]
    out += ["", f"## {t('prep.goals', locale)}", ""]
    out += _list(
        [
            t(
                "prep.goal_line",
                locale,
                title=g.title,
                measure=g.measure,
                due=g.due_on.isoformat(),
                clarified=t("prep.goal_clarified", locale, date=g.clarified_on.isoformat())
                if g.clarified_on
                else t("prep.goal_unclarified", locale),
            )
            for g in pack.goals
        ]
    ) or [t("prep.no_goals", locale)]
    out += ["", f"## {t('prep.share', locale)}", "", share_text(pack, locale), ""]
    out += [f"## {t('prep.questions', locale)}", ""]
    out += [*_list(items("prep.question_items", locale)), ""]
    out += [f"## {t('prep.checklist', locale)}", ""]
    out += [f"- [ ] {line.format(name=name)}" for line in items("prep.checklist_items", locale)]
    return "\n".join(out) + "\n"


def share_text(pack: PrepPack, locale: str) -> str:
    """The talking-time line, against the "at least half" rule."""
    share = pack.share
    if share.average is None:
        return t("prep.share_none", locale)
    line = t(
        "prep.share_line",
        locale,
        name=pack.employee.name,
        half=share.half_or_more,
        rated=share.rated_talks,
        average=round(share.average * 100),
    )
    return f"{line} {t('prep.share_ok' if share.meets_rule else 'prep.share_low', locale)}"


def interview_line(pack: PrepPack, locale: str) -> str:
    """When the interview is and how long, and why longer than usual if it is."""
    when = t("prep.interview", locale, date=pack.interview_on.isoformat(), minutes=pack.minutes)
    if pack.longer_because:
        when += f" ({t('prep.longer', locale, reasons=reasons(pack, locale))})"
    return when


def summary_counts(pack: PrepPack) -> dict[str, int]:
    """The figures of the pack's summary line (`prep.summary_counts`)."""
    return {
        "talks": len(pack.timeline),
        "facts": len(pack.facts),
        "open": sum(1 for a in pack.actions if a.status == "open"),
        "overdue": sum(1 for a in pack.actions if a.status == "overdue"),
        "goals": len(pack.goals),
    }
