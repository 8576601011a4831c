"""`/checkin` answers within Slack's time, understands how people name someone, and refuses
clearly whoever may not log a talk."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import Talk
from tests.blockkit import texts, valid_view
from tests.factories import (
    add_people,
    block_actions,
    fill,
    key,
    opened_form,
    opened_view,
    seed_org,
    suggested,
    view_submission,
)


async def shown_after(app, user_id: str, text: str = "") -> dict:
    """What the modal `/checkin text` opened ends up showing: the form, or why not."""
    app.slack.reset()
    response = await app.command(user_id, text)
    assert response.status_code == 200
    [shown] = await opened_form(app.slack)
    return shown


async def test_mention_forms_all_open_the_record_form_for_that_report(running_app, engine):
    await seed_org(engine, running_app.slack)
    for text in ("<@U0EMP|eli>", "<@U0EMP>", "@eliwang", "@eli"):
        running_app.slack.reset()
        started = time.monotonic()
        response = await running_app.command("U0MGR", text)
        assert response.status_code == 200
        assert time.monotonic() - started < 3  # the ack comes well inside Slack's 3 s
        [form] = await opened_form(running_app.slack)
        view = valid_view(form)
        assert f'"e": "{key("U0EMP")}"' in view["private_metadata"], text


async def test_plain_name_that_matches_several_people_asks_for_a_mention(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [dict(slack_id="U0AL2", name="Ann Lee", manager_id="U0MGR")])

    shown = await shown_after(running_app, "U0MGR", "@annlee")

    assert "Several people match" in texts(shown["blocks"])
    assert "submit" not in shown  # no form: the loading modal says why


async def test_help_is_explained_in_the_users_language(running_app, engine):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0EMP", "help")
    await running_app.command("U0MGR", "what")

    replies = await running_app.slack.async_wait_for("response_url", count=2)
    by_key = {r.params["_key"]: r.params for r in replies}
    assert "记录你刚和下属进行的一次对话" in by_key["cmd-U0EMP"]["text"]
    assert by_key["cmd-U0MGR"]["text"].startswith("I didn't catch that.")
    assert by_key["cmd-U0MGR"]["response_type"] == "ephemeral"


async def test_someone_who_is_not_the_manager_is_refused_and_no_form_opens(running_app, engine):
    await seed_org(engine, running_app.slack)

    other = await shown_after(running_app, "U0OTH", "<@U0EMP|eli>")
    peer = await shown_after(running_app, "U0ANN", "<@U0EMP|eli>")
    oneself = await shown_after(running_app, "U0EMP", "<@U0EMP|eli>")

    assert texts(other["blocks"]) == (
        "Only Eli Wang's manager or HR can log or read talks about Eli Wang."
    )
    assert texts(peer["blocks"]) == texts(other["blocks"])
    assert texts(oneself["blocks"]) == "不能记录关于自己的对话，请由你的经理记录。"
    assert all("submit" not in view for view in (other, peer, oneself))


async def test_people_outside_the_org_chart_are_told_how_to_get_in(running_app, engine):
    await seed_org(engine, running_app.slack)
    running_app.slack.add_user("U0NEW", name="Newbie", locale="en-US")

    newbie = await shown_after(running_app, "U0NEW", "<@U0EMP|eli>")
    unknown = await shown_after(running_app, "U0MGR", "<@U0NEW|newbie>")

    assert "not in Cadence's org chart" in texts(newbie["blocks"])
    assert "can't find that person" in texts(unknown["blocks"])


async def test_hr_may_log_a_talk_about_anyone(running_app, engine):
    await seed_org(engine, running_app.slack)

    view = await shown_after(running_app, "U0HR", "<@U0EMP|eli>")
    response = await running_app.interact(
        view_submission(
            "U0HR", view, {"facts": "Asked for a transfer.", "consensus": "HR follows up."}
        )
    )
    assert response.text == ""
    async with session_scope(engine) as session:
        talk = (await session.exec(select(Talk))).scalar_one()
    assert (talk.manager_id, talk.logged_by) == (key("U0MGR"), key("U0HR"))


async def test_a_forged_submission_is_checked_again_and_writes_nothing(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await shown_after(running_app, "U0MGR", "<@U0EMP|eli>")
    answers = {"facts": "Forged.", "consensus": "Forged."}

    response = await running_app.interact(view_submission("U0OTH", view, answers))

    assert response.json()["errors"] == {
        "facts": "Only Eli Wang's manager or HR can log or read talks about Eli Wang."
    }
    async with session_scope(engine) as session:
        assert (await session.exec(select(func.count()).select_from(Talk))).scalar_one() == 0


async def test_checkin_alone_lets_the_manager_pick_a_report(running_app, engine):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0MGR")

    [call] = await running_app.slack.async_wait_for("views.open")
    picker = valid_view(opened_view(call.params))
    options = await suggested(running_app, "U0MGR", picker)
    assert [o["value"] for o in options] == [key("U0ANN"), key("U0EMP")]
    response = await running_app.interact(
        view_submission("U0MGR", picker, {"employee": key("U0EMP")})
    )
    body = response.json()
    assert body["response_action"] == "update"
    form = valid_view(body["view"])
    assert form["callback_id"] == "record_talk" and "Eli Wang" in texts(form["blocks"])


async def test_checkin_alone_without_reports_is_refused_but_hr_picks_anyone(running_app, engine):
    await seed_org(engine, running_app.slack)

    assert "no reports" in texts((await shown_after(running_app, "U0OTH"))["blocks"])

    picker = valid_view(await shown_after(running_app, "U0HR"))
    assert picker["blocks"][0]["element"]["type"] == "users_select"


async def test_form_grows_an_action_row_and_follows_the_chosen_kind(running_app, engine):
    await seed_org(engine, running_app.slack)
    await running_app.command("U0MGR", "<@U0EMP>")
    [call] = await running_app.slack.async_wait_for("views.open")
    view = opened_view(call)
    add = next(b for b in view["blocks"] if b["type"] == "actions")["elements"][0]

    view["state"] = {"values": fill(view, {"kind": "milestone_retro"})}
    await running_app.interact(block_actions("U0MGR", add, view=view))

    [update] = await running_app.slack.async_wait_for("views.update")
    redrawn = valid_view(update.params["view"])
    block_ids = [b.get("block_id") for b in redrawn["blocks"]]
    assert "action_2_text" in block_ids and "action_3_text" not in block_ids
    assert "proudest" in texts(redrawn["blocks"])  # the retrospective's questions now
    assert update.params["view_id"] == view["id"]


async def test_wildcards_in_a_name_match_only_themselves_and_name_nobody(running_app, engine):
    await seed_org(engine, running_app.slack)  # emails hana@, mia@, eli@, ann@, otto@
    await add_people(engine, [dict(slack_id="U0DAN", name="Dan Ross", email="dann@example.com")])
    handles = ("@h%", "@_nn", "@_ann", "@%", "@a/nn", "@a\\nn")

    for handle in handles:
        await running_app.command("U0OTH", handle)

    shown = await running_app.slack.async_wait_for("views.open", count=len(handles))
    for call in shown:
        said = texts(valid_view(call.params["view"])["blocks"])
        assert "can't find that person" in said and "submit" not in call.params["view"]
        for name in ("Hana", "Berg", "Ann", "Dan", "Mia", "Eli", "Otto"):
            assert name not in said


async def test_a_plain_email_name_still_finds_that_person(running_app, engine):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0MGR", "@ann")

    [call] = await running_app.slack.async_wait_for("views.open")
    assert f'"e": "{key("U0ANN")}"' in valid_view(call.params["view"])["private_metadata"]
