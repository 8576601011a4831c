"""Goals in Teams: a manager sets one for a report through a dialog, an employee proposes
their own and the manager confirms it with a click on the proposal, which changes in place."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.db import session_scope
from storage.models import Goal
from tests.chat_drivers import card_submission, elements
from tests.teams_fixtures import TARA, TESS, TOM, tkey


def _card(response) -> dict:
    return response.json()["task"]["value"]["card"]["content"]


async def _goals(engine) -> list[Goal]:
    async with session_scope(engine) as session:
        return list((await session.execute(select(Goal))).scalars())


async def test_a_manager_sets_a_goal_for_a_report_and_the_report_hears_in_their_language(
    teams_app, engine
):
    for user in (TARA, TOM):
        await teams_app.install(user)
    await teams_app.say(TARA, "checkin goal")
    [button] = teams_app.messages_to(TARA)[-1]["attachments"][0]["content"]["actions"]
    form = _card(await teams_app.fetch(TARA, button["data"]))
    [whose] = [e for e in elements(form) if e.get("id") == "employee"]
    assert {c["value"] for c in whose["choices"]} == {tkey(TOM), tkey(TESS)}

    missing = _card(await teams_app.submit(TARA, card_submission(form, {"employee": tkey(TOM)})))
    assert "attention" in json.dumps(missing) and await _goals(engine) == []
    answers = {
        "title": "Cut checkout p95 to 300 ms",
        "measure": "Production dashboard",
        "due_on": "2027-03-31",
    }
    saved = card_submission(missing, answers)
    first = await teams_app.submit(TARA, saved)
    again = await teams_app.submit(TARA, saved)  # a second click
    await teams_app.notices_sent()

    assert first.status_code == again.status_code == 200
    [goal] = await _goals(engine)
    assert (goal.employee_id, goal.status, goal.title) == (tkey(TOM), "active", answers["title"])
    told = [m for m in teams_app.messages_to(TOM) if answers["title"] in json.dumps(m)]
    assert len(told) == 1 and "Tara Nowak" in json.dumps(told[0], ensure_ascii=False)


async def test_an_employee_proposes_a_goal_and_the_manager_confirms_it_in_place(teams_app, engine):
    for user in (TARA, TOM):
        await teams_app.install(user)
    opens = {"msteams": {"type": "task/fetch"}, "cadence": "form", "form": "goal"}
    form = _card(await teams_app.fetch(TOM, opens))
    assert "Tara Nowak" in json.dumps(form, ensure_ascii=False)  # proposed to his manager
    answers = {"title": "带新人完成一次上线", "measure": "新人独立发布一次", "due_on": "2027-02-28"}
    await teams_app.submit(TOM, card_submission(form, answers))
    await teams_app.notices_sent()
    [proposal] = [
        m for m in teams_app.messages_to(TARA) if "带新人" in json.dumps(m, ensure_ascii=False)
    ]
    confirm = next(a for a in elements(proposal["attachments"]) if a.get("verb") == "goal_confirm")

    response = await teams_app.execute(TARA, "goal_confirm", confirm["data"])
    await teams_app.notices_sent()

    [goal] = await _goals(engine)
    assert goal.status == "active"
    card = response.json()["value"]
    assert not any(a.get("verb") in ("goal_confirm", "goal_decline") for a in elements(card))
    assert any(
        "带新人" in json.dumps(m, ensure_ascii=False) for m in teams_app.messages_to(TOM)[1:]
    )
