"""After a record is saved: send what it owes people (its notices), redraw the messages they
became when the record changes, refresh Home tabs."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.engine import kinds
from bot.engine.dispatch import NoLongerNeeded
from bot.engine.kinds import TALK_RECORD, TALK_SAVED
from bot.engine.notice_content import notice_content
from bot.logs import failure
from bot.records.overview import overview
from bot.records.talks import Recorded
from bot.slack.deps import Deps
from handlers.slack.blocks.home import home_view
from handlers.slack.blocks.notices import notice_message
from handlers.slack.parse import Clicked
from storage.models import Nudge

log = logging.getLogger(__name__)

TALK_NOTICES = (TALK_RECORD, TALK_SAVED)


async def announce_recorded(deps: Deps, rec: Recorded) -> None:
    """Send the record's notices (the employee's record, the manager's confirmation, written
    with the talk) at once, or redraw them if a resubmission changed the talk, and refresh
    the Home tab of everyone concerned."""
    if rec.created:
        deps.kick()
    elif rec.amended:
        await redraw_posted(deps, subject=kinds.talk_subject(rec.talk.id), kinds=TALK_NOTICES)
    else:
        return
    await publish_homes_of(deps, [rec.employee.id, rec.manager.id, rec.talk.logged_by])


async def redraw_posted(
    deps: Deps, *, subject: str, kinds: tuple[str, ...], version: str | None = None
) -> None:
    """Redraw the notices about `subject` that were sent already, each on the platform it
    went out on, from the record as it is now."""
    if deps.notifier is not None:
        await deps.notifier.redraw_posted(subject=subject, kinds=kinds, version=version)


async def redraw(deps: Deps, row: Nudge) -> None:
    """Draw a sent notice again where it was sent (the outbox row's channel and ts), in its
    recipient's language, from the record as it is now."""
    try:
        content = await notice_content(deps.engine, row, policy=deps.policy)
    except NoLongerNeeded:
        return
    locale = await deps.locale_for_person(row.recipient_id)
    message = notice_message(content, policy=deps.policy, locale=locale)
    try:
        # the stored ts is the post that carries the buttons: the message's last part
        await deps.gateway.client.chat_update(
            channel=row.channel, ts=row.ts, **message.last_part().as_kwargs()
        )
    except SlackApiError as exc:
        error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        log.warning("could not redraw notice %s (%s): %s", row.id, row.kind, error)


def note_payload_place(rows: list[Nudge], clicked: Clicked, *, what: str) -> None:
    """Messages are only ever updated where the outbox says they were sent; a payload that
    names another message (forged, or stale) is logged with ids only and not followed."""
    if rows and (clicked.channel, clicked.ts) not in {(row.channel, row.ts) for row in rows}:
        log.warning(
            "%s %s: the payload names message %s/%s, not where it was sent; using the outbox's",
            what,
            ",".join(str(row.id) for row in rows),
            clicked.channel,
            clicked.ts,
        )


async def publish_homes_of(deps: Deps, person_keys: list[str]) -> None:
    """Refresh the Home tab of each of these people who is on Slack."""
    for key in dict.fromkeys(person_keys):
        user_id = await deps.slack_user(key)
        if user_id is not None:
            await publish_home(deps, user_id)


async def publish_home(deps: Deps, user_id: str, page: int = 1) -> None:
    """Render and publish a Slack user's Home tab."""
    locale = await deps.locale_for(user_id)
    key = await deps.person_key(user_id)
    data = await overview(
        deps.engine,
        user_id=key,
        policy=deps.policy,
        now=deps.clock(),
        platform="slack",
        page=page,
    )
    try:
        await deps.gateway.client.views_publish(
            user_id=user_id, view=home_view(data, policy=deps.policy, locale=locale)
        )
    except SlackApiError:
        failure(log, "could not publish App Home for %s", user_id)
