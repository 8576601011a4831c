"""Nothing people wrote is silently cut, and every payload keeps Slack's rules: long text is
split over blocks and posts (never inside an entity), lists say how many more and where,
App Home pages with distinct buttons, and the report pickers search every report."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.slack.blocks import kit
from storage.db import session_scope
from storage.models import Cycle
from tests import hostile
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import (
    T0,
    add_people,
    block_actions,
    block_suggestion,
    key,
    opened_view,
    seed_org,
    suggested,
    view_submission,
)
from tests.slack_rules import (
    assert_every_payload_follows_slacks_rules,
    assert_message_rules,
    assert_text_only,
    assert_view_rules,
    everything_shown,
    mrkdwn_of,
    shown,
    text_objects,
)

ROOT = Path(__file__).resolve().parent.parent


def squashed(text: str) -> str:
    """Text without whitespace: a split drops the one space or line break it cuts at."""
    return re.sub(r"\s+", "", text)


def at_limit(unit: str, tail: str, limit: int = 3000) -> str:
    """`unit` repeated, then `tail`, exactly `limit` characters: the most a field takes."""
    return (unit * limit)[: limit - len(tail)] + tail


async def every_part(app, user_id):
    """All the posts of the first message to a user (its fallback says "(1/N)")."""

    def to_user(call):
        return call.params["channel"] == f"D{user_id}"

    [first] = await app.slack.async_wait_for("chat.postMessage", to_user)
    numbered = re.search(r"\(1/(\d+)\)$", first.params["text"])
    count = int(numbered.group(1)) if numbered else 1
    return await app.slack.async_wait_for("chat.postMessage", to_user, count=count)


def blocks_shown(posts) -> str:
    """What the posts' blocks read, in order (the fallback texts are notifications)."""
    return shown([t for p in posts for t in text_objects(p.params["blocks"], "mrkdwn")])


# -- splitting ------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab &<>\n")), max_size=400),
    st.integers(min_value=8, max_value=60),
)
def test_split_keeps_every_character_and_never_cuts_an_entity(raw, limit):
    pieces = kit.split(raw, limit)

    assert all(len(piece) <= limit for piece in pieces)
    assert squashed("".join(pieces)) == squashed(kit.escape(raw))
    for piece in pieces:  # each piece reads on its own: whole entities only
        assert not re.search(r"&[a-z]{0,3}$", piece), piece
        assert re.sub(r"&(amp|lt|gt);", "", piece).count("&") == 0
        assert html.unescape(piece).count("&") == piece.count("&amp;")


def test_a_long_answer_with_its_title_is_split_on_line_and_word_boundaries():
    answer = "R&D " * 900  # 3,600 characters; 5,400 once escaped
    blocks = kit.sections(kit.lines(kit.bold("Proudest of"), answer))

    assert len(blocks) == 3
    assert blocks[0]["text"]["text"].startswith("*Proudest of*\nR&amp;D")
    assert all(b["text"]["text"].rstrip().endswith("R&amp;D") for b in blocks)
    assert squashed(shown([b["text"]["text"] for b in blocks])) == squashed(
        "*Proudest of*" + answer
    )


def test_a_message_past_slacks_limits_is_posted_in_numbered_parts_buttons_last():
    blocks = [kit.header("Long")] + [kit.section("x" * 2900) for _ in range(8)]
    blocks += [kit.divider()] * 30 + [kit.actions(kit.button("OK", "ok", "1"))]
    message = kit.Message("Long <@U0BOSS>", blocks)

    parts = message.parts()

    assert len(parts) == 3
    assert [p.text for p in parts] == [f"Long &lt;@U0BOSS&gt; ({n}/3)" for n in (1, 2, 3)]
    assert [b for p in parts for b in p.blocks] == blocks  # every block, in order
    for part in parts:
        assert_message_rules(part.as_kwargs())
    assert message.last_part().blocks[-1]["type"] == "actions"
    assert kit.Message("short", blocks[:3]).parts()[0].text == "short"


def test_a_header_too_long_for_slack_becomes_a_bold_section_and_nothing_is_cut():
    title = "Due today: " + "a <b> & c " * 40

    block = kit.header(title)

    assert block["type"] == "section"
    assert shown([block["text"]["text"]]) == f"*{title}*"


# -- the builders with long text and long lists ----------------------------------------------
def test_every_long_text_people_wrote_is_shown_whole_in_every_builder(policy):
    checked = 0
    for sample in hostile.samples(policy, hostile.long, many=40):
        if not sample.shows:
            continue
        everything = squashed(everything_shown(sample.build()))
        for text in sample.shows:
            assert squashed(text) in everything, f"{sample.builder} {sample.label} cut it"
            checked += 1
    assert checked >= 14


def test_app_home_shows_as_many_open_actions_as_fit_and_says_how_many_more(policy):
    [employee_home] = [
        s for s in hostile.samples(policy, hostile.long, many=40) if s.label == "employee"
    ]
    view = employee_home.build()  # 400 open actions of 500 characters

    assert_view_rules(view)
    more = re.search(r"还有 (\d+) 项进行中的行动", texts(view["blocks"]))  # Eli reads Chinese
    assert more is not None
    shown_lines = shown(mrkdwn_of({"view": view})).count("action ")
    assert 0 < int(more.group(1)) < 400 and shown_lines > 0


def test_a_retrospective_names_every_participant_with_a_button_each_or_one_select(policy):
    def milestone_message(many):
        [sample] = [
            s for s in hostile.samples(policy, hostile.short, many) if s.label == "milestone"
        ]
        return sample.build()

    few = milestone_message(3)  # Eli and three reports: a button each
    [row] = [b for b in few.blocks if b["type"] == "actions"]
    buttons = [e for e in row["elements"] if e["type"] == "button"]
    assert len(buttons) == 4 and len({b["action_id"] for b in buttons}) == 4
    assert {json.loads(b["value"])["e"] for b in buttons} == {
        "U0EMP",
        "U0R0000",
        "U0R0001",
        "U0R0002",
    }

    many = milestone_message(40)  # 41 people: one select with all of them
    [row] = [b for b in many.blocks if b["type"] == "actions"]
    [select] = [e for e in row["elements"] if e["action_id"] == "nudge_log_talk_pick"]
    assert len(select["options"]) == 41
    assert "report 39 name" in shown(mrkdwn_of(many.as_kwargs()))  # the body names everyone
    for part in many.parts():
        valid_message(part.as_kwargs())


# -- through the running app ----------------------------------------------------------------
async def test_a_3000_character_record_reaches_the_employee_whole_in_several_posts(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    facts = at_limit("R&D <b> ", " end-facts")
    consensus = at_limit("&&<<>> ", " end-consensus")
    await running_app.command("U0MGR", "<@U0EMP>")
    [opened] = await running_app.slack.async_wait_for("views.open")
    view = opened_view(opened.params)
    answers = {"facts": facts, "consensus": consensus}

    await running_app.interact(view_submission("U0MGR", view, answers))

    posts = await every_part(running_app, "U0EMP")
    assert len(posts) >= 2
    for post in posts:
        valid_message(post.params)
        assert_text_only(mrkdwn_of(post.params))
    everything = squashed(blocks_shown(posts))
    assert squashed(facts) in everything and squashed(consensus) in everything
    assert posts[-1].params["blocks"][-1]["accessory"]["action_id"] == "acknowledge_talk"
    assert posts[0].params["text"].endswith(f"(1/{len(posts)})")
    assert assert_every_payload_follows_slacks_rules(running_app.slack) >= 3


async def test_a_self_assessment_of_long_answers_reaches_the_manager_whole(running_app, engine):
    await seed_org(engine, running_app.slack)
    async with session_scope(engine) as session:
        session.add(
            Cycle(
                name="2026-Q4",
                starts_on=date(2026, 9, 1),
                ends_on=date(2026, 11, 30),
                review_from=date(2026, 12, 1),
                review_to=date(2026, 12, 14),
                created_at=T0,
            )
        )
        await session.commit()
    answers = {
        f"self_{field}": at_limit(f"{field} R&D <x> ", f" end-{field}")
        for field in ("proudest", "redo", "blockers", "support", "other")
    }
    await running_app.command("U0EMP", "self")
    [opened] = await running_app.slack.async_wait_for("views.open")
    view = valid_view(opened_view(opened.params))

    response = await running_app.interact(
        view_submission("U0EMP", view, {"self_rating": "4", **answers})
    )
    assert response.json()["response_action"] == "update", response.text

    posts = await every_part(running_app, "U0MGR")
    assert len(posts) >= 2
    everything = squashed(blocks_shown(posts))
    for answer in answers.values():
        assert squashed(answer) in everything
    assert assert_every_payload_follows_slacks_rules(running_app.slack) >= 3


async def test_a_manager_of_40_reports_pages_app_home_both_ways(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(
        engine,
        [
            dict(slack_id=f"U1R{n:04d}", name=f"Report {n:03d}", manager_id="U0OTH")
            for n in range(40)
        ],
    )
    await running_app.event(
        {"type": "app_home_opened", "user": "U0OTH", "tab": "home"}, event_id="Ev1"
    )
    [page_one] = await running_app.slack.async_wait_for("views.publish")

    async def turn(page, label):
        [pager] = [b for b in page.params["view"]["blocks"] if b["type"] == "actions"]
        button = next(e for e in pager["elements"] if e["text"]["text"] == label)
        running_app.slack.reset()
        await running_app.interact(block_actions("U0OTH", button, view=page.params["view"]))
        [published] = await running_app.slack.async_wait_for("views.publish")
        return published

    page_two = await turn(page_one, "Next")
    [pager] = [b for b in page_two.params["view"]["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in pager["elements"]] == ["home_page_previous", "home_page_next"]
    assert "Page 2 of 3" in texts(page_two.params["view"]["blocks"])
    back = await turn(page_two, "Previous")

    assert "Page 1 of 3" in texts(back.params["view"]["blocks"])
    for view in (page_one, page_two, back):
        assert_view_rules(valid_view(view.params["view"]))


async def test_a_manager_of_130_reports_finds_and_picks_the_130th(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(
        engine,
        [
            dict(slack_id=f"U1R{n:04d}", name=f"Report {n:03d}", manager_id="U0OTH")
            for n in range(1, 131)
        ]
        + [dict(slack_id="U1PCT", name="Sam 50%_off", manager_id="U0OTH")],
    )
    await running_app.command("U0OTH")
    [opened] = await running_app.slack.async_wait_for("views.open")
    picker = valid_view(opened_view(opened.params))
    element = picker["blocks"][0]["element"]
    assert (element["type"], element["min_query_length"]) == ("external_select", 0)

    first = await suggested(running_app, "U0OTH", picker)
    found = await suggested(running_app, "U0OTH", picker, "report 130")
    assert len(first) == 100 and first[0]["text"]["text"] == "Report 001"
    assert [o["value"] for o in found] == [key("U1R0130")]
    assert [o["value"] for o in await suggested(running_app, "U0OTH", picker, "%_")] == [
        key("U1PCT")
    ]
    assert await suggested(running_app, "U0OTH", picker, "Ann") == []  # not Otto's report
    assert await suggested(running_app, "U0MGR", picker, "Report") == []  # nor Mia's

    picked = {"employee": key("U1R0130")}
    response = await running_app.interact(view_submission("U0OTH", picker, picked))

    form = valid_view(response.json()["view"])
    assert form["callback_id"] == "record_talk" and "Report 130" in texts(form["blocks"])
    assert json.loads(form["private_metadata"])["e"] == key("U1R0130")


async def test_hr_finds_anyone_active_and_a_stranger_finds_nobody(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [dict(slack_id="U0GONE", name="Ann Gone", active=False)])
    await add_people(engine, [dict(slack_id="U0HRR", name="Hal Report", manager_id="U0HR")])
    await running_app.command("U0HR")
    [opened] = await running_app.slack.async_wait_for("views.open")
    picker = valid_view(opened_view(opened.params))  # HR with a report: the search picker

    assert [o["value"] for o in await suggested(running_app, "U0HR", picker, "ann")] == [
        key("U0ANN")
    ]
    assert len(await suggested(running_app, "U0HR", picker)) == 5  # everyone active but Hana
    assert await suggested(running_app, "U0NOBODY", picker, "a") == []
    payload = block_suggestion(
        "U0EMP", picker, action_id="pick_report_option", block_id="employee", value="a" * 5000
    )
    assert (await running_app.interact(payload)).json() == {"options": []}  # Eli has no reports


async def test_the_goal_picker_finds_the_130th_report_and_offers_myself(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(
        engine,
        [
            dict(slack_id=f"U1R{n:04d}", name=f"Report {n:03d}", manager_id="U0ANN")
            for n in range(1, 131)
        ],
    )
    await running_app.command("U0ANN", "goal")
    [opened] = await running_app.slack.async_wait_for("views.open")
    view = valid_view(opened_view(opened.params))

    first = await suggested(running_app, "U0ANN", view)
    found = await suggested(running_app, "U0ANN", view, "Report 130")

    assert first[0] == {
        "text": {"type": "plain_text", "text": "Myself (proposed to Mia Chen)", "emoji": True},
        "value": key("U0ANN"),
    }
    assert len(first) == 100 and [o["value"] for o in found] == [key("U1R0130")]
    answers = {"goal_employee": key("U1R0130"), "goal_title": "Ship it", "goal_measure": "Shipped"}
    response = await running_app.interact(
        view_submission("U0ANN", view, {**answers, "goal_due": "2027-03-31"})
    )
    assert response.text == ""
    [dm] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU1R0130"
    )
    assert "Ship it" in texts(dm.params["blocks"])


def test_the_manifest_points_slack_at_the_option_loader():
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    interactivity = manifest["settings"]["interactivity"]

    assert interactivity["message_menu_options_url"] == interactivity["request_url"]


def test_a_long_disagreement_on_a_long_summary_updates_the_clicked_post_and_adds_one(policy):
    def text(field, limit=3000):  # a comment of 3,000 `&`: 15,000 characters once escaped
        return "&" * limit if field == "disagreement" else hostile.long(field, limit)

    samples = {(s.builder, s.label): s for s in hostile.samples(policy, text)}
    posted = samples["review_summary", "open"].build().parts()  # with its buttons

    update, following = samples["summary_update", ""].build()

    assert len(posted) >= 2
    assert update.blocks[0] == posted[-1].blocks[0]  # the clicked post keeps what it showed
    assert following, "the comment does not fit: it goes on in a new post"
    assert squashed(text("disagreement")) in squashed(everything_shown((update, following)))
    for part in (update, *following):
        assert_message_rules(part.as_kwargs())
