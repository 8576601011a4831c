"""`trigger_id` lives three seconds: a modal whose form is not ready at once opens with a
small loading view and gets its form once the database has answered; when Slack says the
trigger expired, the user is told to try again instead of seeing nothing. (The app waits
`form_wait_seconds` for a form before it opens the loading view; these tests set it to 0, as
if the database were slow.)"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage.db import session_scope
from storage.models import Cycle
from tests.blockkit import texts, valid_view
from tests.factories import T0, block_actions, seed_org, shown_view, view_submission

EXPIRED = "That took longer than Slack waits, so the form didn't open. Please try again."
Q3 = dict(
    name="2026-Q3",
    starts_on=date(2026, 7, 1),
    ends_on=date(2026, 9, 30),
    review_from=date(2026, 10, 1),
    review_to=date(2026, 12, 31),
)
# (who, what they type after /checkin, the form that opens)
COMMANDS = [
    ("U0MGR", "<@U0EMP>", "record_talk"),
    ("U0MGR", "", "pick_report"),
    ("U0MGR", "goal <@U0EMP>", "goal_set"),
    ("U0MGR", "review <@U0EMP>", "review_record"),
    ("U0ANN", "self", "self_assessment"),
]


@pytest.fixture(autouse=True)
def slow_forms(running_app) -> None:
    """No form is ready at once: every modal takes the loading view's road."""
    running_app.deps.form_wait_seconds = 0


async def seed(app, engine) -> None:
    await seed_org(engine, app.slack)
    async with session_scope(engine) as session:
        session.add(Cycle(created_at=T0, **Q3))
        await session.commit()


@pytest.mark.parametrize(("user_id", "text", "callback_id"), COMMANDS)
async def test_every_command_opens_a_loading_view_at_once_and_then_its_form(
    running_app, engine, user_id, text, callback_id
):
    await seed(running_app, engine)

    await running_app.command(user_id, text)

    [opened] = await running_app.slack.async_wait_for("views.open")
    loading = valid_view(opened.params["view"])
    assert texts(loading["blocks"]) == "Loading… / 加载中…"  # nobody's language known yet
    assert "submit" not in loading
    [update] = await running_app.slack.async_wait_for("views.update")
    assert update.at >= opened.at and update.params["hash"]  # in place of the loading view
    assert valid_view(update.params["view"])["callback_id"] == callback_id


@pytest.mark.parametrize(("user_id", "text", "callback_id"), COMMANDS)
async def test_an_expired_trigger_is_explained_and_the_user_asked_to_try_again(
    running_app, engine, user_id, text, callback_id
):
    await seed(running_app, engine)
    running_app.slack.fail_next("views.open", error="expired_trigger_id")

    await running_app.command(user_id, text)

    [reply] = await running_app.slack.async_wait_for("response_url")
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params["text"] == EXPIRED
    assert running_app.slack.calls_to("views.update") == []


async def test_a_trigger_used_already_is_explained_in_the_users_language(running_app, engine):
    await seed(running_app, engine)
    running_app.slack.fail_next("views.open", error="exchanged_trigger_id")

    await running_app.command("U0EMP", "self")

    [reply] = await running_app.slack.async_wait_for("response_url")
    assert reply.params["text"] == "等待时间超过了 Slack 的限制，表单没有打开。请再试一次。"


async def test_the_loading_view_speaks_the_users_language_once_it_is_known(running_app, engine):
    await seed(running_app, engine)
    await running_app.command("U0EMP", "self")
    await running_app.slack.async_wait_for("views.update")  # Eli's language is known now
    running_app.slack.reset()

    await running_app.command("U0EMP", "self")

    [opened] = await running_app.slack.async_wait_for("views.open")
    assert texts(opened.params["view"]["blocks"]) == "加载中…"
    assert opened.params["view"]["close"]["text"] == "关闭"


async def test_log_a_talk_from_home_with_an_expired_trigger_says_so_in_a_dm(running_app, engine):
    await seed(running_app, engine)
    running_app.slack.fail_next("views.open", error="expired_trigger_id")
    button = {"type": "button", "action_id": "log_talk", "value": "U0ANN"}

    await running_app.interact(block_actions("U0MGR", button))

    [dm] = await running_app.slack.async_wait_for("chat.postMessage")
    assert (dm.params["channel"], dm.params["text"]) == ("DU0MGR", EXPIRED)


def from_a_message(app, user_id: str, action: dict) -> dict:
    message = {"ts": "1700000000.000100", "text": "a message", "blocks": []}
    payload = block_actions(user_id, action, message=message, channel=f"D{user_id}")
    payload["response_url"] = app.slack.response_url(f"click-{user_id}")
    return payload


async def recorded_review(app) -> None:
    await app.command("U0MGR", "review <@U0EMP>")
    [update] = await app.slack.async_wait_for("views.update")
    answers = {"review_rating": "3", "review_evidence": "Facts."}
    assert (
        await app.interact(view_submission("U0MGR", shown_view(update.params), answers))
    ).text == ""
    await app.notices_sent()
    app.slack.reset()


@pytest.mark.parametrize(
    ("user_id", "action"),
    [
        (
            "U0MGR",
            {
                "type": "button",
                "action_id": "nudge_log_talk",
                "value": '{"e":"U0ANN","k":"checkin"}',
            },
        ),
        ("U0ANN", {"type": "button", "action_id": "self_open", "value": '{"c": 1}'}),
        ("U0EMP", {"type": "button", "action_id": "review_disagree", "value": "1"}),
    ],
    ids=["log this talk", "open my self-assessment", "disagree"],
)
async def test_a_button_in_a_message_with_an_expired_trigger_says_so_where_it_was_clicked(
    running_app, engine, user_id, action
):
    await seed(running_app, engine)
    await recorded_review(running_app)
    running_app.slack.fail_next("views.open", error="expired_trigger_id")

    await running_app.interact(from_a_message(running_app, user_id, action))

    [reply] = await running_app.slack.async_wait_for("response_url")
    assert reply.params["_key"] == f"click-{user_id}"
    assert reply.params["response_type"] == "ephemeral"
    assert reply.params.get("replace_original") in (False, "false", None)
    expected = (
        EXPIRED if user_id != "U0EMP" else "等待时间超过了 Slack 的限制，表单没有打开。请再试一次。"
    )
    assert reply.params["text"] == expected
    assert running_app.slack.calls_to("views.update") == []


async def test_a_refusal_is_shown_in_the_modal_that_opened(running_app, engine):
    await seed(running_app, engine)
    running_app.clock.now = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

    await running_app.command("U0OTH", "review <@U0EMP>")

    [update] = await running_app.slack.async_wait_for("views.update")
    shown = valid_view(update.params["view"])
    assert texts(shown["blocks"]) == (
        "Only Eli Wang's manager or HR can record Eli Wang's review interview."
    )
    assert shown["close"]["text"] == "Close" and "submit" not in shown


async def test_a_form_ready_at_once_opens_without_a_loading_view(running_app, engine):
    await seed(running_app, engine)
    running_app.deps.form_wait_seconds = 1.0

    await running_app.command("U0MGR", "<@U0EMP>")

    [opened] = await running_app.slack.async_wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "record_talk"
    assert running_app.slack.calls_to("views.update") == []
