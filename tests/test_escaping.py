"""Mentions and links in people's text stay text everywhere: in every block and in every
message's fallback `text` (which Slack renders as markup, notifications too)."""

from __future__ import annotations

import inspect
import json
from datetime import UTC, datetime

import pytest

from handlers.slack.blocks import kit, nudges
from tests import hostile
from tests.blockkit import texts, valid_message, valid_view
from tests.factories import add_people, block_actions, key, opened_view, seed_org, view_submission
from tests.slack_rules import (
    assert_every_payload_follows_slacks_rules,
    assert_safe_payload,
    assert_text_only,
    mrkdwn_of,
    payloads_of,
    shown,
)

HOSTILE_TITLE = "MS <!channel> <https://evil.example|click> <@U0BOSS> <!here>"
HOSTILE_MEASURE = "R&D <!subteam^S0HR> <#C0ALL|all> & <mailto:x@evil.example|mail> > 3"
MILESTONE = "MS <!channel> <https://evil.example|click>"
BOB = dict(slack_id="U0BOB", name="Bob <@U0BOSS> & Co", email="bob@example.com", manager_id="U0OTH")
FRI_10_SHANGHAI = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def retrospectives_to(slack, user_id):
    return [
        c
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] == f"D{user_id}" and "retrospective" in c.params["text"]
    ]


async def test_a_hostile_goal_title_reaches_the_manager_and_the_employee_only_as_text(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    await running_app.command("U0ANN", "goal")
    [opened] = await running_app.slack.async_wait_for("views.open")
    view = valid_view(opened_view(opened.params))
    answers = {
        "goal_title": HOSTILE_TITLE,
        "goal_measure": HOSTILE_MEASURE,
        "goal_due": "2027-03-31",
    }

    response = await running_app.interact(view_submission("U0ANN", view, answers))

    assert response.text == ""
    [proposal] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0MGR"
    )
    valid_message(proposal.params)
    assert_text_only(mrkdwn_of(proposal.params))
    assert HOSTILE_TITLE in proposal.params["text"].replace("&lt;", "<").replace("&gt;", ">")
    assert HOSTILE_TITLE in shown(mrkdwn_of(proposal.params))  # shown whole, as typed
    assert HOSTILE_MEASURE in shown(mrkdwn_of(proposal.params))

    confirm = next(
        e for b in proposal.params["blocks"] if b["type"] == "actions" for e in b["elements"]
    )
    message = {"ts": proposal.response["ts"], **{k: proposal.params[k] for k in ("text", "blocks")}}
    await running_app.notices_sent()  # stored where it went, long before anyone clicks
    await running_app.interact(block_actions("U0MGR", confirm, message=message, channel="DU0MGR"))

    [update] = await running_app.slack.async_wait_for("chat.update")
    [notice] = await running_app.slack.async_wait_for(
        "chat.postMessage", lambda c: c.params["channel"] == "DU0ANN"
    )
    for params in (update.params, notice.params):
        assert_text_only(mrkdwn_of(params))
        assert HOSTILE_TITLE in shown(mrkdwn_of(params))
    assert assert_every_payload_follows_slacks_rules(running_app.slack) >= 4


async def test_a_hostile_milestone_name_reaches_no_one_as_markup_and_each_report_has_a_button(
    running_app, engine, nudge_engine
):
    await seed_org(engine, running_app.slack)
    await add_people(engine, [BOB])
    running_app.slack.add_user("U0BOB", name=BOB["name"], tz="Asia/Shanghai", locale="en-US")

    await running_app.command("U0MGR", f'milestone "{MILESTONE}" @eli @ann <@U0BOB> 2026-12-15')

    [reply] = await running_app.slack.async_wait_for("response_url")
    assert_text_only(mrkdwn_of(reply.params))
    assert MILESTONE in shown(mrkdwn_of(reply.params))
    done = next(b["accessory"] for b in reply.params["blocks"] if "accessory" in b)
    payload = block_actions("U0MGR", done)
    payload["response_url"] = running_app.slack.response_url("done")
    await running_app.interact(payload)
    [answer] = await running_app.slack.async_wait_for(
        "response_url", lambda c: c.params["_key"] == "done"
    )
    assert_text_only(mrkdwn_of(answer.params))
    assert "Bob <@U0BOSS> & Co" in shown(mrkdwn_of(answer.params))

    await nudge_engine.tick(FRI_10_SHANGHAI)

    [to_mia] = retrospectives_to(running_app.slack, "U0MGR")
    [to_otto] = retrospectives_to(running_app.slack, "U0OTH")
    for post in (to_mia, to_otto):
        valid_message(post.params)
        assert_text_only(mrkdwn_of(post.params))
        assert MILESTONE in shown(mrkdwn_of(post.params))
    assert "Bob <@U0BOSS> & Co" in shown(mrkdwn_of(to_otto.params))
    assert assert_every_payload_follows_slacks_rules(running_app.slack) >= 4
    [row] = [b for b in to_mia.params["blocks"] if b["type"] == "actions"]
    log_buttons = [e for e in row["elements"] if e["action_id"].startswith("nudge_log_talk")]
    assert [json.loads(b["value"])["e"] for b in log_buttons] == [key("U0ANN"), key("U0EMP")]
    assert "Log talk with Ann Lee" in texts([row]) and "Log talk with Eli Wang" in texts([row])

    running_app.slack.reset()
    message = {"ts": "1700000000.000300", **{k: to_mia.params[k] for k in ("text", "blocks")}}
    await running_app.interact(
        block_actions("U0MGR", log_buttons[1], message=message, channel="DU0MGR")
    )

    [opened] = await running_app.slack.async_wait_for("views.open")
    form = valid_view(opened.params["view"])
    assert json.loads(form["private_metadata"])["e"] == key("U0EMP")
    assert form["blocks"][1]["element"]["initial_option"]["value"] == "milestone_retro"


# -- every builder, with hostile text in every field --------------------------------------
def test_the_sweep_covers_every_public_builder_and_every_nudge_kind(policy):
    public = {
        name
        for module in hostile.MODULES
        for name, value in inspect.getmembers(module, inspect.isfunction)
        if value.__module__ == module.__name__ and not name.startswith("_")
    }
    swept = {s.builder for s in hostile.samples(policy, hostile.short)}

    assert public - swept - set(hostile.NOT_RENDERING) == set(), "a builder the sweep misses"
    assert swept | set(hostile.NOT_RENDERING) <= public, "the sweep names a builder that is gone"
    kinds = {s.nudge_kind for s in hostile.samples(policy, hostile.short) if s.nudge_kind}
    assert kinds == set(nudges.BUILDERS)


@pytest.mark.parametrize("text", [hostile.short, hostile.long], ids=["short", "long"])
def test_every_builder_keeps_peoples_text_as_text_within_slacks_rules(policy, text):
    checked = 0
    for sample in hostile.samples(policy, text, many=3 if text is hostile.short else 40):
        for kind, params in payloads_of(sample.build()):
            allowed = (f"<@{hostile.HR_RECORDER}>",)
            try:
                assert_safe_payload(kind, params, allowed=allowed)
            except AssertionError as failure:
                raise AssertionError(f"{sample.builder} {sample.label}: {failure}") from None
            checked += 1
    assert checked > 60


def test_a_mention_fragment_of_our_own_is_kept_but_a_strange_id_is_escaped():
    assert kit.mention("U0HR") == "<@U0HR>"
    assert kit.mention("U0HR> <!channel") == "U0HR&gt; &lt;!channel"
    assert kit.md("refusal.not_your_report", "en", name=kit.mention("U0HR")).count("<@U0HR>") == 2
