"""Answering nudges in Teams: skip with a reason, mark an action done, tick earlier actions
in the next record, and the prep pack with the whole pack after its summary."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from bot.engine.outbox import NudgeSpec, enqueue
from storage.db import session_scope
from storage.models import ActionItem, ChatIdentity, Cycle, Nudge, Platform, Talk
from tests.chat_drivers import card_actions, card_submission, elements
from tests.factories import key
from tests.teams_fixtures import TARA, TOM, TeamsUser, tkey
from tests.test_dispatcher import FRI_10_SHANGHAI
from tests.test_prep_pack import NOW, seed_history

GOOD = {
    "facts": "Closed two audit findings.",
    "consensus": "Tom owns the runbook.",
    "action_1_text": "Write the runbook",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}


async def _nudge(app, kind: str, recipient: str, subject: str, payload: dict) -> None:
    async with session_scope(app.deps.engine) as session:
        spec = NudgeSpec(
            kind, recipient, subject, "2026-11", FRI_10_SHANGHAI, tkey(TOM), "manager", payload
        )
        await enqueue(session, [spec], FRI_10_SHANGHAI - timedelta(days=1))
        await session.commit()


async def _log_talk(app, answers: dict) -> dict:
    opens = {"msteams": {"type": "task/fetch"}, "cadence": "form", "form": "talk", "e": tkey(TOM)}
    form = (await app.fetch(TARA, opens)).json()["task"]["value"]["card"]["content"]
    response = await app.submit(TARA, card_submission(form, answers))
    assert response.status_code == 200
    await app.notices_sent()
    return form


async def test_skip_with_a_reason_settles_the_card_and_skips_the_nudge(teams_app, engine):
    await teams_app.install(TARA)
    payload = {"firm": False, "last": None, "since": "2026-11-01", "round": 1}
    await _nudge(teams_app, "checkin", tkey(TARA), tkey(TOM), payload)
    await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)
    card = teams_app.messages_to(TARA)[-1]
    [show] = [a for a in card_actions(card) if a["type"] == "Action.ShowCard"]
    [skip] = [a for a in elements(show["card"]) if a.get("verb") == "skip"]

    response = await teams_app.execute(TARA, "skip", {**skip["data"], "reason": "talked_offline"})

    settled = json.dumps(response.json()["value"])
    assert "Skipped" in settled and not any(
        a.get("verb") for a in elements(response.json()["value"])
    )
    async with session_scope(engine) as session:
        [row] = (await session.execute(select(Nudge))).scalars().all()
    assert (row.state, row.skip_reason) == ("skipped", "talked_offline")


async def test_an_action_is_marked_done_from_its_reminder_and_ticked_in_the_next_record(
    teams_app, engine
):
    for user in (TARA, TOM):
        await teams_app.install(user)
    await _log_talk(teams_app, GOOD)
    async with session_scope(engine) as session:
        [action] = (await session.execute(select(ActionItem))).scalars().all()
    await _nudge(
        teams_app, "action_due", tkey(TOM), f"action:{action.id}", {"action_id": action.id}
    )
    async with session_scope(engine) as session:
        row = (await session.execute(select(Nudge).where(Nudge.kind == "action_due"))).scalar_one()
        row.recipient_id = tkey(TOM)
        await session.commit()
    await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)
    reminder = [m for m in teams_app.messages_to(TOM) if "Write the runbook" in m.get("text", "")][
        -1
    ]
    [done] = [a for a in card_actions(reminder) if a.get("verb") == "done"]

    response = await teams_app.execute(TOM, "done", done["data"])

    assert "已标记完成" in json.dumps(
        response.json()["value"], ensure_ascii=False
    )  # in his language
    async with session_scope(engine) as session:
        assert (await session.get(ActionItem, action.id)).status == "done"


async def test_earlier_open_actions_are_ticked_done_in_the_next_record(teams_app, engine):
    for user in (TARA, TOM):
        await teams_app.install(user)
    await _log_talk(teams_app, GOOD)
    async with session_scope(engine) as session:
        [action] = (await session.execute(select(ActionItem))).scalars().all()

    form = await _log_talk(
        teams_app,
        {
            "facts": "Runbook written.",
            "consensus": "Next: the on-call rota.",
            "completed": str(action.id),
        },
    )

    [tick] = [e for e in elements(form) if e.get("id") == "completed"]
    assert [c["value"] for c in tick["choices"]] == [str(action.id)]
    async with session_scope(engine) as session:
        assert (await session.get(ActionItem, action.id)).status == "done"
        assert len((await session.execute(select(Talk))).scalars().all()) == 2


async def test_the_prep_pack_reaches_a_manager_on_teams_with_the_whole_pack_after_it(
    teams_app, engine
):
    await seed_history(engine)
    mia = TeamsUser("00000000-0000-4000-8000-00000000a1a1", "Mia Chen")
    async with session_scope(engine) as session:
        session.add(
            ChatIdentity(
                person_id=key("U0MGR"),
                platform=Platform.TEAMS,
                user_id=mia.aad,
                created_at=NOW,
                updated_at=NOW,
            )
        )
        for identity in (
            await session.execute(
                select(ChatIdentity).where(
                    ChatIdentity.person_id == key("U0MGR"), ChatIdentity.platform == Platform.SLACK
                )
            )
        ).scalars():
            await session.delete(identity)  # Mia moved to Teams
        [cycle] = (
            (await session.execute(select(Cycle).where(Cycle.name == "2026-Q3"))).scalars().all()
        )
        await session.commit()
    await teams_app.install(mia)
    async with session_scope(engine) as session:
        spec = NudgeSpec(
            "prep_pack",
            key("U0MGR"),
            f"cycle:{cycle.id}:{key('U0EMP')}",
            "2026-Q3",
            FRI_10_SHANGHAI,
            key("U0EMP"),
            "manager",
            {"cycle_id": cycle.id},
        )
        await enqueue(session, [spec], NOW)
        await session.commit()

    report = await teams_app.platforms.engine.dispatch(FRI_10_SHANGHAI)

    assert report.sent == 1
    [_welcome, summary, *whole] = teams_app.messages_to(mia)
    assert "Prep pack: Eli Wang, 2026-Q3 review" in summary["text"]
    assert any(e.get("id") == "interview_on" for e in elements(summary["attachments"]))
    assert whole and "2026-08" in json.dumps(whole, ensure_ascii=False)
