"""App Home: a manager's reports, paged to stay inside Slack's 100-block limit, and one's own
talks and actions."""

from __future__ import annotations

from typing import Any

from bot.labels import kind_label
from bot.overview import Overview, ReportRow
from bot.policy import Policy
from handlers import ids
from handlers.blocks import kit
from handlers.blocks.self_views import interview_home_block
from prompts import t

FACTS_PREVIEW = 280


def home_view(data: Overview, *, policy: Policy, locale: str) -> dict[str, Any]:
    """The whole Home tab."""
    blocks: list[kit.Block] = [
        kit.header(t("home.title", locale)),
        kit.context(t("home.intro", locale)),
    ]
    if data.person is None:
        blocks.append(kit.section(t("home.not_in_org", locale)))
        return {"type": "home", "blocks": blocks}
    if data.reports:
        blocks += [kit.divider(), kit.section(t("home.reports", locale))]
        for row in data.reports:
            blocks += _report_blocks(row, policy, locale, data.cycle_id)
        if data.pages > 1:
            blocks += _pager(data, locale)
    blocks += [kit.divider(), *_own_blocks(data, policy, locale)]
    return {"type": "home", "blocks": blocks}


def _report_blocks(
    row: ReportRow, policy: Policy, locale: str, cycle_id: int | None
) -> list[kit.Block]:
    talk = row.last_talk
    last = (
        t(
            "home.last",
            locale,
            date=talk.held_on.isoformat(),
            kind=kind_label(policy, talk.kind, locale),
        )
        if talk
        else t("home.never", locale)
    )
    text = t("home.report_line", locale, name=kit.escape(row.person.name), last=last)
    button = kit.button(t("home.log_talk", locale), ids.LOG_TALK, row.person.slack_id)
    counts = t("home.action_counts", locale, open=row.open_actions, overdue=row.overdue_actions)
    interview = interview_home_block(
        row.person.slack_id, row.person.name, locale, cycle_id=cycle_id, initial=row.interview_on
    )
    return [kit.section(text, accessory=button), kit.context(counts), interview]


def _pager(data: Overview, locale: str) -> list[kit.Block]:
    buttons = []
    if data.page > 1:
        buttons.append(kit.button(t("home.previous", locale), ids.HOME_PAGE, str(data.page - 1)))
    if data.page < data.pages:
        buttons.append(kit.button(t("home.next", locale), ids.HOME_PAGE, str(data.page + 1)))
    return [
        kit.context(t("home.page", locale, page=data.page, pages=data.pages)),
        kit.actions(*buttons),
    ]


def _own_blocks(data: Overview, policy: Policy, locale: str) -> list[kit.Block]:
    blocks = [kit.section(t("home.my_talks", locale))]
    if not data.talks:
        blocks.append(kit.context(t("home.no_talks", locale)))
    for talk in data.talks:
        text = t(
            "home.my_talk_line",
            locale,
            date=talk.held_on.isoformat(),
            kind=kind_label(policy, talk.kind, locale),
            manager=kit.escape(data.names.get(talk.manager_id, talk.manager_id)),
            facts=kit.escape(kit.clip(talk.facts, FACTS_PREVIEW)),
        )
        blocks.append(kit.section(text))
    lines = [
        t(
            "home.my_action_line",
            locale,
            text=kit.escape(a.text),
            owner=kit.escape(data.names.get(a.owner_id, a.owner_id)),
            due=a.due_on.isoformat(),
            late=t("home.late", locale) if a.due_on < data.today else "",
        )
        for a in data.open_actions[:20]
    ]
    body = "\n".join(lines) if lines else t("home.no_actions", locale)
    blocks.append(kit.section(f"{t('home.my_actions', locale)}\n{body}"))
    return blocks
