"""What a person types in their chat with the bot, and the welcome when the app is added.

Commands open their forms through a card: a dialog opens only from a click (Teams' rule), so
`checkin` answers with a card whose button opens the record form (`task/fetch`)."""

from __future__ import annotations

from bot.errors import NotAllowed
from bot.records import talks
from bot.records.overview import overview
from bot.teams.app import Incoming
from handlers.teams import ids, parse
from handlers.teams.cards import answers as cards
from handlers.teams.cards.home import home_card
from handlers.teams.cards.kit import TeamsMessage


async def on_message(incoming: Incoming) -> None:
    """Answer a typed command."""
    locale = incoming.locale
    if incoming.person is None:
        await incoming.reply(cards.refusal("refusal.not_in_org", locale).activity())
        return
    request = parse.command(incoming.activity.text)
    if request.action == "checkin":
        await incoming.reply(await _checkin(incoming, request.rest))
        return
    if request.action == "goal":
        await incoming.reply(await _goal(incoming, request.rest))
        return
    if request.action == "milestone":
        opens = ids.open_form(ids.FORM_MILESTONE)
        await incoming.reply(cards.opener_card("milestone", locale, opens).activity())
        return
    if request.action == "review":
        await incoming.reply(await _review(incoming, request.rest))
        return
    if request.action == "self":
        await incoming.reply(
            cards.opener_card("self", locale, ids.open_form(ids.FORM_SELF)).activity()
        )
        return
    if request.action == "home":
        await incoming.reply((await home(incoming)).activity())
        return
    unknown = request.action == "unknown"
    await incoming.reply(cards.help_card(locale, unknown=unknown).activity())


async def _checkin(incoming: Incoming, named: str) -> dict[str, object]:
    """The card that opens the record form: for the person named, else with a picker of
    the manager's reports."""
    locale, deps = incoming.locale, incoming.deps
    try:
        employee = ""
        if named:
            employee = await talks.find_employee(deps.engine, handle=named)
        else:
            await talks.report_choices(deps.engine, actor_id=incoming.actor)
    except NotAllowed as refused:
        return cards.refusal(refused.key, locale, **refused.params).activity()
    return cards.log_talk_card(locale, employee_id=employee).activity()


async def _goal(incoming: Incoming, named: str) -> dict[str, object]:
    """The card that opens the goal form: for the person named, else with a choice."""
    employee = None
    if named:
        try:
            employee = await talks.find_employee(incoming.deps.engine, handle=named)
        except NotAllowed as refused:
            return cards.refusal(refused.key, incoming.locale, **refused.params).activity()
    opens = ids.open_form(ids.FORM_GOAL, e=employee)
    return cards.opener_card("goal", incoming.locale, opens).activity()


async def _review(incoming: Incoming, named: str) -> dict[str, object]:
    """The card that opens the review interview's record for the report named."""
    if not named:
        return cards.refusal("teams.review_usage", incoming.locale).activity()
    try:
        employee = await talks.find_employee(incoming.deps.engine, handle=named)
    except NotAllowed as refused:
        return cards.refusal(refused.key, incoming.locale, **refused.params).activity()
    opens = ids.open_form(ids.FORM_REVIEW, e=employee)
    return cards.opener_card("review", incoming.locale, opens).activity()


async def welcome(incoming: Incoming) -> None:
    """Say hello once the app is added: what Cadence does and how to start."""
    if incoming.person is None:
        await incoming.reply(cards.refusal("refusal.not_in_org", incoming.locale).activity())
        return
    hello = cards.help_card(incoming.locale, welcome=True)
    overview_now = await home(incoming)
    for part in TeamsMessage(hello.summary, [*hello.cards, *overview_now.cards]).parts():
        await incoming.reply(part.activity())


async def home(incoming: Incoming, page: int = 1) -> TeamsMessage:
    """The overview App Home shows on Slack, as a card."""
    deps = incoming.deps
    data = await overview(
        deps.engine, user_id=incoming.actor, policy=deps.policy, now=deps.clock(), page=page
    )
    return home_card(data, policy=deps.policy, locale=incoming.locale)
