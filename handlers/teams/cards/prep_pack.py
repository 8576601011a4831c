"""The whole prep pack in Teams. A bot cannot attach a file to a Teams chat without asking
the manager's consent for each file, so the pack follows its summary as messages of its own:
the same text `prep-pack` prints and Slack attaches, shown literally (its people's words are
never read as markup), split over as many cards as it needs."""

from __future__ import annotations

from bot.review.prep_pack import PrepPack
from handlers.teams.cards.kit import TeamsMessage, adaptive_card, heading, literal
from prompts import t


def full_pack(pack: PrepPack, markdown: str, *, locale: str) -> TeamsMessage:
    """The pack in full, titled, as one message of however many parts it takes."""
    text = t("prep.title", locale, name=pack.employee.name, cycle=pack.cycle.name)
    body = [heading(text)]
    body += [literal(paragraph) for paragraph in markdown.split("\n\n") if paragraph.strip()]
    return TeamsMessage(text, [adaptive_card(body)])
