"""Odd characters in what people type are handled, not fatal: control characters are dropped,
lone surrogates replaced, and text that shows nothing counts as empty (both databases)."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.db import session_scope
from storage.models import Goal, Talk
from tests.blockkit import texts, valid_view
from tests.factories import block_actions, key, opened_view, seed_org, view_submission

INVISIBLE = "\u200b\u2060\ufeff"  # zero-width space, word joiner, byte order mark


async def record_form(app):
    await app.command("U0MGR", "<@U0EMP|eli>")
    [call] = await app.slack.async_wait_for("views.open")
    return opened_view(call.params)


async def talks(engine) -> list[Talk]:
    async with session_scope(engine) as session:
        return list((await session.exec(select(Talk))).scalars())


async def test_control_characters_are_dropped_and_the_record_is_saved_and_sent(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await record_form(running_app)
    answers = {
        "facts": "Shipped\r\nthe\tmigration.",
        "consensus": "Agreed\x00 on the\x07 plan.",
        "private_note": "\x00Watch\x1b[31m the\x07 load.",
    }

    response = await running_app.interact(view_submission("U0MGR", view, answers))

    assert response.status_code == 200 and response.text == ""
    [talk] = await talks(engine)
    assert talk.facts == "Shipped\nthe\tmigration."
    assert talk.consensus == "Agreed on the plan."
    assert talk.private_note == "Watch[31m the load."
    [dm] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP"
    )
    assert "Agreed on the plan." in texts(dm.params["blocks"])


async def test_facts_made_only_of_invisible_characters_are_required_and_nothing_is_written(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    view = await record_form(running_app)

    response = await running_app.interact(
        view_submission("U0MGR", view, {"facts": INVISIBLE, "consensus": "Agreed."})
    )

    assert response.json()["response_action"] == "errors"
    assert response.json()["errors"] == {"facts": "Write down at least one fact."}
    assert await talks(engine) == []


async def test_a_lone_surrogate_in_a_goal_title_is_replaced_and_the_goal_saved(running_app, engine):
    await seed_org(engine, running_app.slack)
    await running_app.command("U0MGR", "goal <@U0EMP|eli>")
    [call] = await running_app.slack.async_wait_for("views.open")
    view = valid_view(opened_view(call.params))
    answers = {
        "goal_title": "Ship v2 \ud800 on time",
        "goal_measure": "Live for \udfff every customer",
        "goal_due": "2027-03-31",
    }

    response = await running_app.interact(view_submission("U0MGR", view, answers))

    assert response.status_code == 200 and response.text == ""
    async with session_scope(engine) as session:
        [goal] = (await session.exec(select(Goal))).scalars()
        assert (await session.exec(select(func.count()).select_from(Goal))).scalar_one() == 1
    assert (goal.title, goal.measure) == (
        "Ship v2 \ufffd on time",
        "Live for \ufffd every customer",
    )
    [dm] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0EMP"
    )
    assert "Ship v2 \ufffd on time" in texts(dm.params["blocks"])


async def test_a_disagreement_of_invisible_characters_needs_a_comment_and_nul_is_dropped(
    running_app, engine
):
    from storage.models import Review
    from tests.test_reviews import buttons, click, record, seed

    await seed(running_app, engine)
    dm = await record(running_app)
    running_app.slack.reset()
    await running_app.interact(click("U0EMP", buttons(dm)["review_disagree"], dm))
    [opened] = await running_app.slack.async_wait_for("views.open")
    modal = valid_view(opened_view(opened.params))

    blank = await running_app.interact(
        view_submission("U0EMP", modal, {"review_comment": INVISIBLE + " \n"})
    )
    sent = await running_app.interact(
        view_submission("U0EMP", modal, {"review_comment": "Not\x00 fair\x07."})
    )

    assert list(blank.json()["errors"]) == ["review_comment"]
    assert sent.text == ""
    async with session_scope(engine) as session:
        [review] = (await session.exec(select(Review))).scalars()
    assert review.disagreement == "Not fair."


async def test_self_assessment_answers_with_control_characters_are_saved_clean(running_app, engine):
    from storage.models import SelfAssessment
    from tests.test_self_assessment import add_cycle, element, open_by_command, with_state

    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    view = await open_by_command(running_app, "U0ANN")
    draft = {"self_rating": "3", "self_proudest": "Ship\x00ped \ud800it", "self_other": "\x1b"}
    save = element(view["blocks"], "self_save_draft")

    await running_app.interact(block_actions("U0ANN", save, view=with_state(view, draft)))

    await running_app.slack.async_wait_for("views.update")
    async with session_scope(engine) as session:
        [row] = (await session.exec(select(SelfAssessment))).scalars()
    assert (row.proudest, row.other) == ("Shipped \ufffdit", "")


async def test_a_milestone_name_is_cleaned_and_an_invisible_one_is_no_name(running_app, engine):
    from storage.models import Milestone
    from tests.test_milestones import register

    await seed_org(engine, running_app.slack)

    invisible = await register(running_app, "U0MGR", f'"{INVISIBLE}" <@U0EMP|eli>')
    await register(running_app, "U0MGR", '"Launch\x00 v2\x07" <@U0EMP|eli>')

    assert "Put the milestone's name in quotes first." in invisible["text"]
    async with session_scope(engine) as session:
        names = list((await session.exec(select(Milestone.name))).scalars())
    assert names == ["Launch v2"]


async def test_a_lone_surrogate_in_a_record_saves_the_talk(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await record_form(running_app)

    answers = {"facts": "Broken \ud800 emoji", "consensus": "Agreed."}
    response = await running_app.interact(view_submission("U0MGR", view, answers))

    assert response.status_code == 200 and response.text == ""
    [talk] = await talks(engine)
    assert talk.facts == "Broken \ufffd emoji"


async def test_a_milestone_name_with_ampersand_and_brackets_is_stored_as_typed(running_app, engine):
    from storage.models import Milestone
    from tests.test_milestones import register

    await seed_org(engine, running_app.slack)

    # Slack sends a command's &, < and > as entities
    await register(running_app, "U0MGR", '"R&amp;D &lt;launch&gt;" <@U0EMP|eli>')

    async with session_scope(engine) as session:
        names = list((await session.exec(select(Milestone.name))).scalars())
    assert names == ["R&D <launch>"]


async def test_a_nul_typed_in_a_report_search_still_finds_people(running_app, engine):
    from tests.factories import suggested

    await seed_org(engine, running_app.slack)
    await running_app.command("U0MGR")
    [opened] = await running_app.slack.async_wait_for("views.open")

    options = await suggested(running_app, "U0MGR", opened_view(opened), "E\x00li")

    assert [o["value"] for o in options] == [key("U0EMP")]
