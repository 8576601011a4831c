"""After a record is saved from Teams: its notices go out at once (they were written to the
outbox with the record), or, when a resubmission changed it, the notices already sent are
drawn again on the platform each went out on; the views other platforms keep of the people
concerned (Slack's App Home) are refreshed."""

from __future__ import annotations

from bot.engine import kinds
from bot.records.talks import Recorded
from bot.teams.app import TeamsDeps

TALK_NOTICES = (kinds.TALK_RECORD, kinds.TALK_SAVED)


async def announce_recorded(deps: TeamsDeps, rec: Recorded) -> None:
    """Send a new talk's notices now; redraw them if a resubmission changed the talk."""
    if rec.created:
        deps.kick()
    elif rec.amended and deps.notifier is not None:
        await deps.notifier.redraw_posted(
            subject=kinds.talk_subject(rec.talk.id), kinds=TALK_NOTICES
        )
    else:
        return
    if deps.notifier is not None:  # someone on Slack sees it in their App Home at once
        await deps.notifier.records_changed([rec.employee.id, rec.manager.id, rec.talk.logged_by])
