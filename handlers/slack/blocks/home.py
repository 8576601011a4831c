"""App Home: a manager's reports, paged to stay inside Slack's 100-block limit, and one's own
talks and actions."""

from __future__ import annotations

from typing import Any

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.records.overview import Overview, ReportRow
from handlers.slack import ids
from handlers.slack.blocks import kit
from handlers.slack.blocks.self_views import interview_home_block
from prompts import t

FACTS_PREVIEW = 280  # a preview, marked "…"; the whole record is in the talk's DM


def home_view(data: Overview, *, policy: Policy, locale: str) -> dict[str, Any]:
    """The whole Home tab: within Slack's 100 blocks, the reports paged, and the own open
    actions as many as fit, then how many more."""
    blocks: list[kit.Block] = [
        kit.header(t("home.title", locale)),
        kit.context(kit.md("home.intro", locale)),
    ]
    if data.person is None:
        blocks.append(kit.section(kit.md("home.not_in_org", locale)))
        return kit.home(blocks)
    if data.reports:
        blocks += [kit.divider(), kit.section(kit.md("home.reports", locale))]
        for row in data.reports:
            blocks += _report_blocks(row, policy, locale, data.cycle_id)
        if data.pages > 1:
            blocks += _pager(data, locale)
    blocks += [kit.divider(), *_own_talks(data, policy, locale)]
    blocks += _own_actions(data, locale, budget=kit.VIEW_BLOCKS - len(blocks))
    return kit.home(blocks)


def _report_blocks(
    row: ReportRow, policy: Policy, locale: str, cycle_id: int | None
) -> list[kit.Block]:
    talk = row.last_talk
    last = (
        kit.md(
            "home.last",
            locale,
            date=talk.held_on.isoformat(),
            kind=kind_label(policy, talk.kind, locale),
        )
        if talk
        else kit.md("home.never", locale)
    )
    text = kit.md("home.report_line", locale, name=row.person.name, last=last)
    button = kit.button(t("home.log_talk", locale), ids.HOME_LOG_TALK, row.person.id)
    counts = kit.md(
        "home.action_counts", locale, open=row.open_actions, overdue=row.overdue_actions
    )
    interview = interview_home_block(
        row.person.id, row.person.name, locale, cycle_id=cycle_id, initial=row.interview_on
    )
    return [*kit.sections(text, accessory=button), kit.context(counts), interview]


def _pager(data: Overview, locale: str) -> list[kit.Block]:
    buttons = []
    if data.page > 1:
        previous = str(data.page - 1)
        buttons.append(kit.button(t("home.previous", locale), ids.HOME_PAGE_PREVIOUS, previous))
    if data.page < data.pages:
        buttons.append(kit.button(t("home.next", locale), ids.HOME_PAGE_NEXT, str(data.page + 1)))
    return [
        kit.context(kit.md("home.page", locale, page=data.page, pages=data.pages)),
        kit.actions(*buttons),
    ]


def _own_talks(data: Overview, policy: Policy, locale: str) -> list[kit.Block]:
    blocks = [kit.section(kit.md("home.my_talks", locale))]
    if not data.talks:
        blocks.append(kit.context(kit.md("home.no_talks", locale)))
    for talk in data.talks:
        text = kit.md(
            "home.my_talk_line",
            locale,
            date=talk.held_on.isoformat(),
            kind=kind_label(policy, talk.kind, locale),
            manager=data.names.get(talk.manager_id, talk.manager_id),
            facts=kit.clip(talk.facts, FACTS_PREVIEW),  # clipped before escaping: no cut entity
        )
        blocks += kit.sections(text)
    return blocks


def _own_actions(data: Overview, locale: str, *, budget: int) -> list[kit.Block]:
    lines = [
        kit.md(
            "home.my_action_line",
            locale,
            text=a.text,
            owner=data.names.get(a.owner_id, a.owner_id),
            due=a.due_on.isoformat(),
            late=kit.md("home.late", locale) if a.due_on < data.today else "",
        )
        for a in data.open_actions
    ]
    return kit.listing(
        kit.md("home.my_actions", locale),
        lines,
        empty=kit.md("home.no_actions", locale),
        max_blocks=budget,
        more=lambda count: kit.md("home.more_actions", locale, count=count),
    )
