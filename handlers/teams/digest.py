"""HR's digest in Teams: **Full table** offers the coverage table as a file (Teams asks the
person first), and once they accept it is built again, for them, and put in their OneDrive.
HR's alone: the clicker is checked each time, never the card."""

from __future__ import annotations

import logging

from bot.errors import NotAllowed
from bot.logs import describe
from bot.org.worktime import policy_today
from bot.records.coverage_digest import coverage_digest, file_name, full_table_html
from bot.teams.app import Answer, Incoming
from bot.teams.connector import ConnectorError
from handlers.teams.cards import answers as cards
from handlers.teams.cards.digest import table_consent_activity
from handlers.teams.cards.kit import catalog_plain
from handlers.teams.cards.privacy import file_info_activity
from handlers.teams.parse import FileConsent

log = logging.getLogger(__name__)


async def offer_table(incoming: Incoming) -> str:
    """Send the consent card for the full table; the line to answer the click with. Raises
    NotAllowed for anyone not in HR."""
    deps, locale = incoming.deps, incoming.locale
    digest = await coverage_digest(
        deps.engine, reader_id=incoming.actor, policy=deps.policy, now=deps.clock()
    )
    html = await full_table_html(digest, locale=locale)
    day = policy_today(deps.policy, digest.at).isoformat()
    name = file_name(digest, deps.policy)
    await incoming.reply(table_consent_activity(name, html, locale=locale, day=day))
    return catalog_plain("hr_digest.offer", locale)


async def upload_table(incoming: Incoming, answer: FileConsent) -> Answer:
    """The person accepted (or declined) the table's consent card."""
    deps, locale = incoming.deps, incoming.locale
    if not answer.accepted:
        await incoming.reply(cards.refusal("hr_digest.declined", locale).activity())
        return Answer(200, {})
    try:
        digest = await coverage_digest(
            deps.engine, reader_id=incoming.actor, policy=deps.policy, now=deps.clock()
        )
    except NotAllowed as refused:
        await incoming.reply(cards.refusal(refused.key, locale, **refused.params).activity())
        return Answer(200, {})
    html = await full_table_html(digest, locale=locale)
    try:
        await deps.connector.upload(answer.upload_url, html.encode())
    except ConnectorError as exc:
        log.warning("could not upload a coverage table (%s)", describe(exc))
        await incoming.reply(cards.refusal("hr_digest.file_failed", locale).activity())
        return Answer(200, {})
    name = answer.name or file_name(digest, deps.policy)
    await incoming.reply(
        file_info_activity(name, answer.content_url, answer.unique_id, answer.file_type)
    )
    return Answer(200, {})
