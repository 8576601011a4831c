"""What a person types in their chat with the bot, and the welcome when the app is added.

Commands open their forms through a card: a dialog opens only from a click (Teams' rule), so
`checkin` answers with a card whose button opens the record form (`task/fetch`)."""

from __future__ import annotations

from bot.errors import NotAllowed
from bot.records import talks
from bot.records.overview import overview
from bot.teams.app import Incoming
from handlers.teams import files, ids, parse
from handlers.teams.cards import answers as cards
from handlers.teams.cards.home import home_card
from handlers.teams.cards.kit import TeamsMessage

# A command and the form its card opens: (the card's words in teams.*, the form).
OPENERS = {
    "checkin": ("log_talk", ids.FORM_TALK),
    "goal": ("goal", ids.FORM_GOAL),
    "milestone": ("milestone", ids.FORM_MILESTONE),
    "self": ("self", ids.FORM_SELF),
    "review": ("review", ids.FORM_REVIEW),
}
NAMING = frozenset({"checkin", "goal", "review"})  # the commands that take a person's name


async def on_message(incoming: Incoming) -> None:
    """Answer a typed command."""
    locale = incoming.locale
    if incoming.person is None:
        await incoming.reply(cards.refusal("refusal.not_in_org", locale).activity())
        return
    request = parse.command(incoming.activity.text)
    if request.action in OPENERS:
        await incoming.reply((await _opener(incoming, request.action, request.rest)).activity())
    elif request.action == "home":
        await incoming.reply((await home(incoming)).activity())
    elif request.action == "my_data":
        await files.offer_my_data(incoming)
    else:
        unknown = request.action == "unknown"
        await incoming.reply(cards.help_card(locale, unknown=unknown).activity())


async def _opener(incoming: Incoming, action: str, named: str) -> TeamsMessage:
    """The card whose button opens the command's form: for the person named (`checkin
    TomLi`), else without one (the form offers a choice); or why not."""
    locale, engine = incoming.locale, incoming.deps.engine
    what, form = OPENERS[action]
    try:
        if named and action in NAMING:
            employee = await talks.find_employee(engine, handle=named)
        elif action == "review":  # whose review: the form has no choice of person
            return cards.refusal("teams.review_usage", locale)
        else:
            employee = None
            if action == "checkin":  # someone with nobody to log a talk with is told now
                await talks.report_choices(engine, actor_id=incoming.actor)
    except NotAllowed as refused:
        return cards.refusal(refused.key, locale, **refused.params)
    return cards.opener_card(what, locale, ids.open_form(form, e=employee))


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
        deps.engine,
        user_id=incoming.actor,
        policy=deps.policy,
        now=deps.clock(),
        platform="teams",
        page=page,
    )
    return home_card(data, policy=deps.policy, locale=incoming.locale)
