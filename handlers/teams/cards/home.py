"""The overview a Slack user gets in App Home, as a Teams card (the `home` command, and under
the welcome): a manager's reports with their last talk and open actions and a "Log a talk"
button each, paged; one's own talks and open actions."""

from __future__ import annotations

from bot.org.labels import kind_label
from bot.org.policy import Policy
from bot.records.overview import Overview, ReportRow
from handlers.teams import ids
from handlers.teams.cards.kit import (
    Element,
    TeamsMessage,
    adaptive_card,
    catalog_plain,
    catalog_text,
    heading,
)
from prompts import t

FACTS_PREVIEW = 280  # a preview, marked "…"; the whole record is in the talk's message
OWN_ACTIONS = 25  # listed; the rest counted


def _preview(text: str) -> str:
    return text if len(text) <= FACTS_PREVIEW else text[: FACTS_PREVIEW - 1] + "…"


def home_card(data: Overview, *, policy: Policy, locale: str) -> TeamsMessage:
    """The overview as one card (long ones are sent in parts, the pager last)."""
    body: list[Element] = [
        heading(t("home.title", locale)),
        catalog_text("home.intro", locale, subtle=True),
    ]
    buttons: list[Element] = []
    if data.person is None:
        body.append(catalog_text("home.not_in_org", locale))
        return TeamsMessage(t("home.title", locale), [adaptive_card(body)])
    if data.reports:
        body.append(catalog_text("home.reports", locale, separator=True))
        for row in data.reports:
            body += _report(row, policy, locale)
        if data.pages > 1:
            body.append(
                catalog_text("home.page", locale, subtle=True, page=data.page, pages=data.pages)
            )
            if data.page > 1:
                buttons.append(
                    ids.execute(ids.HOME_PAGE, t("home.previous", locale), p=data.page - 1)
                )
            if data.page < data.pages:
                buttons.append(ids.execute(ids.HOME_PAGE, t("home.next", locale), p=data.page + 1))
    body.append(catalog_text("home.my_talks", locale, separator=True))
    if not data.talks:
        body.append(catalog_text("home.no_talks", locale, subtle=True))
    for talk in data.talks:
        body.append(
            catalog_text(
                "home.my_talk_line",
                locale,
                date=talk.held_on.isoformat(),
                kind=kind_label(policy, talk.kind, locale),
                manager=data.names.get(talk.manager_id, talk.manager_id),
                facts=_preview(talk.facts),
            )
        )
    body.append(catalog_text("home.my_actions", locale, separator=True))
    if not data.open_actions:
        body.append(catalog_text("home.no_actions", locale, subtle=True))
    for action in data.open_actions[:OWN_ACTIONS]:
        late = catalog_plain("home.late", locale) if action.due_on < data.today else ""
        body.append(
            catalog_text(
                "home.my_action_line",
                locale,
                text=action.text,
                owner=data.names.get(action.owner_id, action.owner_id),
                due=action.due_on.isoformat(),
                late=late,
            )
        )
    more = len(data.open_actions) - OWN_ACTIONS
    if more > 0:
        body.append(catalog_text("home.more_actions", locale, subtle=True, count=more))
    return TeamsMessage(t("home.title", locale), [adaptive_card(body, actions=buttons)])


def _report(row: ReportRow, policy: Policy, locale: str) -> list[Element]:
    talk = row.last_talk
    last = (
        catalog_plain(
            "home.last",
            locale,
            date=talk.held_on.isoformat(),
            kind=kind_label(policy, talk.kind, locale),
        )
        if talk
        else catalog_plain("home.never", locale)
    )
    log = {
        "type": "Action.Submit",
        "title": t("home.log_talk", locale),
        "data": ids.open_form(ids.FORM_TALK, e=row.person.id),
    }
    counts = catalog_text(
        "home.action_counts",
        locale,
        subtle=True,
        open=row.open_actions,
        overdue=row.overdue_actions,
    )
    return [
        catalog_text("home.report_line", locale, separator=True, name=row.person.name, last=last),
        counts,
        {"type": "ActionSet", "actions": [log]},
    ]
