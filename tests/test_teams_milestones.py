"""Milestones in Teams: registered through a dialog (anyone who took part, found by name),
posted in the chat with "Mark done", which ends it once and asks each participant's manager
for a retrospective."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.db import session_scope
from storage.models import Milestone
from tests.chat_drivers import card_submission, elements
from tests.teams_fixtures import HUGO, TARA, TESS, TOM, tkey


def _card(response) -> dict:
    return response.json()["task"]["value"]["card"]["content"]


async def test_a_milestone_is_registered_in_a_dialog_and_marked_done_once(teams_app, engine):
    await teams_app.install(TARA)
    await teams_app.say(TARA, "checkin milestone")
    [button] = teams_app.messages_to(TARA)[-1]["attachments"][0]["content"]["actions"]
    form = _card(await teams_app.fetch(TARA, button["data"]))
    [people] = [e for e in elements(form) if e.get("id") == "participants"]
    assert people["isMultiSelect"] and people["choices.data"]["dataset"] == "everyone"
    found = (
        await teams_app.invoke(
            TARA, "application/search", {"queryText": "Hugo", "dataset": "everyone"}
        )
    ).json()
    assert [r["value"] for r in found["value"]["results"]] == [tkey(HUGO)]  # not only reports

    empty = _card(await teams_app.submit(TARA, card_submission(form, {"name": "Payments v2"})))
    assert "Choose at least one person" in json.dumps(empty)
    chosen = ",".join([tkey(TOM), tkey(TESS)])
    saved = card_submission(empty, {"participants": chosen, "due_on": "2026-12-18"})
    await teams_app.submit(TARA, saved)
    await teams_app.submit(TARA, saved)  # pressed twice: registered once

    posted = [m for m in teams_app.messages_to(TARA) if "Payments v2" in json.dumps(m)]
    assert len(posted) == 1
    done = next(a for a in elements(posted[0]["attachments"]) if a.get("verb") == "milestone_done")
    first = (await teams_app.execute(TARA, "milestone_done", done["data"])).json()
    again = (await teams_app.execute(TARA, "milestone_done", done["data"])).json()

    assert first["type"] == again["type"] == "application/vnd.microsoft.card.adaptive"
    assert "marked done" in json.dumps(first["value"])
    async with session_scope(engine) as session:
        [milestone] = (await session.execute(select(Milestone))).scalars().all()
    assert milestone.name == "Payments v2" and milestone.done_at is not None
