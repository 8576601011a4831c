"""Files in Teams: `my data` (and, in handlers.teams.digest, HR's coverage table).

`my data`: the summary and a file consent card; once the person accepts, their
file goes into the upload session Teams gives (their OneDrive) and its card into the chat.

Teams lets a bot send a file in a personal chat only this way. The consent card carries no
content, only which file; the file is built again, for the sender alone, when they accept."""

from __future__ import annotations

import logging

from bot.errors import NotAllowed
from bot.logs import describe
from bot.privacy.my_data import MyData, my_data
from bot.teams.app import Answer, Incoming
from bot.teams.connector import ConnectorError
from handlers.teams import parse
from handlers.teams.cards import answers as cards
from handlers.teams.cards.digest import COVERAGE_FILE
from handlers.teams.cards.privacy import (
    MY_DATA_FILE,
    consent_activity,
    file_info_activity,
    my_data_summary,
)
from handlers.teams.digest import upload_table

log = logging.getLogger(__name__)


async def _mine(incoming: Incoming) -> MyData:
    deps = incoming.deps
    return await my_data(
        deps.engine,
        subject_id=incoming.actor,
        reader=incoming.actor,
        platform="teams",
        policy=deps.policy,
        now=deps.clock(),
    )


async def offer_my_data(incoming: Incoming) -> None:
    """Answer `my data`: what is kept, and the card to accept the file."""
    locale = incoming.locale
    try:
        data = await _mine(incoming)
    except NotAllowed as refused:
        await incoming.reply(cards.refusal(refused.key, locale, **refused.params).activity())
        return
    await incoming.reply(
        my_data_summary(data, policy=incoming.deps.policy, locale=locale).activity()
    )
    await incoming.reply(consent_activity(data, locale=locale))


async def consent(incoming: Incoming) -> Answer:
    """The person accepted or declined the file (`fileConsent/invoke`)."""
    locale = incoming.locale
    answer = parse.file_consent(incoming.activity.value)
    if answer is None or answer.file not in (MY_DATA_FILE, COVERAGE_FILE):
        return Answer(200, {})
    if incoming.person is None:
        await incoming.reply(cards.refusal("refusal.not_in_org", locale).activity())
        return Answer(200, {})
    if answer.file == COVERAGE_FILE:
        return await upload_table(incoming, answer)
    if not answer.accepted:
        await incoming.reply(cards.refusal("privacy.my_data.declined", locale).activity())
        return Answer(200, {})
    data = await _mine(incoming)
    try:
        await incoming.deps.connector.upload(answer.upload_url, data.to_json().encode())
    except ConnectorError as exc:
        log.warning("could not upload a my-data file (%s)", describe(exc))
        await incoming.reply(cards.refusal("privacy.my_data.failed", locale).activity())
        return Answer(200, {})
    name = answer.name or data.file_name()
    await incoming.reply(
        file_info_activity(name, answer.content_url, answer.unique_id, answer.file_type)
    )
    return Answer(200, {})
