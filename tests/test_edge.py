"""The edge in front of Bolt: a body is bounded before it is read, a request unsigned by
Slack is refused, a malformed one too, another workspace's is ignored, and a database that is
down is a message to the person, never a 500."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse

from sqlalchemy import func, select

from bot.request_body import MAX_BODY
from storage.db import make_engine, session_scope
from storage.models import Talk
from tests.app_fixtures import SIGNING_SECRET
from tests.blockkit import texts
from tests.factories import opened_view, seed_org, view_submission

FORM = "application/x-www-form-urlencoded"
GOOD = {"facts": "We talked.", "consensus": "We agreed."}


async def talks(engine) -> int:
    async with session_scope(engine) as session:
        return (await session.execute(select(func.count()).select_from(Talk))).scalar_one()


async def open_form(app):
    await app.command("U0MGR", "<@U0EMP>")
    [opened] = await app.slack.async_wait_for("views.open")
    return opened_view(opened)


# -- bounded, then signed, then well formed -------------------------------------------------
async def test_an_oversized_body_gets_413_whatever_its_signature(running_app):
    big = "payload=" + "x" * (MAX_BODY + 1)

    signed = await running_app.post(big, FORM)
    unsigned = await running_app.http.post(
        f"{running_app.url}/slack/events", content=big, headers={"Content-Type": FORM}
    )

    assert (signed.status_code, unsigned.status_code) == (413, 413)
    assert signed.text == unsigned.text == ""


async def test_an_unsigned_or_badly_signed_request_gets_401(running_app):
    body = urllib.parse.urlencode({"command": "/checkin", "user_id": "U0MGR", "text": ""})
    url = f"{running_app.url}/slack/events"

    unsigned = await running_app.http.post(url, content=body, headers={"Content-Type": FORM})
    forged = await running_app.http.post(
        url,
        content=body,
        headers={
            **running_app.sign(body),
            "X-Slack-Signature": "v0=" + "0" * 64,
            "Content-Type": FORM,
        },
    )
    stale = await running_app.http.post(
        url,
        content=body,
        headers={**running_app.sign(body, timestamp=1_000_000_000), "Content-Type": FORM},
    )
    bad_stamp = await running_app.http.post(
        url,
        content=body,
        headers={
            **running_app.sign(body),
            "X-Slack-Request-Timestamp": "soon",
            "Content-Type": FORM,
        },
    )

    assert [r.status_code for r in (unsigned, forged, stale, bad_stamp)] == [401] * 4
    assert running_app.slack.calls_to("views.open") == []


async def test_a_signed_but_malformed_payload_gets_400_and_never_a_500(running_app):
    cases = [
        ("payload=%7Bnot-json", FORM),
        ("payload=" + urllib.parse.quote(json.dumps(["a", "list"])), FORM),
        ("payload=" + urllib.parse.quote(json.dumps({"no": "type"})), FORM),
        ("just=a&form=here", FORM),
        ("{not json", "application/json"),
        (json.dumps({"type": 7}), "application/json"),
        ("plain words", "text/plain"),
        ("payload=%FF%FE", FORM),
    ]
    answers = [await running_app.post(body, kind) for body, kind in cases]

    assert [a.status_code for a in answers] == [400] * len(cases)
    assert all(a.text == "" for a in answers)


async def test_a_chunked_body_is_refused_before_the_client_finished_sending(running_app):
    host, port = running_app.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode()
        + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    )  # fmt: skip
    chunk, sent, answer = b"x" * 65536, 0, b""
    try:
        while sent < 150 * MAX_BODY and not answer:
            writer.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            await writer.drain()
            sent += len(chunk)
            try:
                answer = await asyncio.wait_for(reader.read(64), timeout=0.01)
            except TimeoutError:
                continue
    except (ConnectionError, OSError):
        answer = answer or await reader.read(64)
    finally:
        writer.close()

    assert answer.startswith(b"HTTP/1.1 413")
    assert sent < 8 * MAX_BODY  # far from the 150 MiB it would have sent


async def test_refusals_are_logged_without_the_body(running_app, caplog):
    caplog.set_level(logging.DEBUG)
    marker = "MARKER-in-a-refused-body"
    await running_app.http.post(
        f"{running_app.url}/slack/events",
        content=f"payload={marker}",
        headers={"Content-Type": FORM},
    )
    await running_app.post("payload=" + marker + "x" * MAX_BODY, FORM)

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("bot.")]
    assert any("refused a request with 401" in line for line in lines)
    assert any("refused a request with 413" in line for line in lines)
    assert not any(marker in r.getMessage() for r in caplog.records)


# -- only the installed workspace --------------------------------------------------------------
async def test_another_workspaces_command_opens_nothing(running_app, engine, caplog):
    await seed_org(engine, running_app.slack)
    caplog.set_level(logging.WARNING)
    form = {
        "team_id": "T0EVIL",
        "team_domain": "evil",
        "user_id": "U0MGR",
        "command": "/checkin",
        "text": "<@U0EMP>",
        "api_app_id": "A0CADENCE",
        "trigger_id": running_app.trigger("U0MGR"),
        "response_url": running_app.slack.response_url("evil"),
    }

    answer = await running_app.post(urllib.parse.urlencode(form), FORM)
    await running_app.command("U0MGR", "<@U0EMP>")  # ours still works
    await running_app.slack.async_wait_for("views.open")

    assert (answer.status_code, answer.text) == (200, "")
    assert len(running_app.slack.calls_to("views.open")) == 1
    assert running_app.slack.calls_to("response_url") == []
    [warning] = [r for r in caplog.records if "another workspace" in r.getMessage()]
    assert warning.getMessage() == "ignored a request for another workspace (team T0EVIL)"


async def test_another_workspaces_or_apps_record_submission_saves_nothing(running_app, engine):
    await seed_org(engine, running_app.slack)
    view = await open_form(running_app)
    foreign_team = view_submission("U0MGR", view, GOOD) | {"team": {"id": "T0EVIL"}}
    foreign_app = view_submission("U0MGR", view, GOOD) | {"api_app_id": "A0EVIL"}
    foreign_org = view_submission("U0MGR", view, GOOD) | {"enterprise": {"id": "E0EVIL"}}
    foreign_view = view_submission("U0MGR", view, GOOD)
    foreign_view["view"] = {**foreign_view["view"], "team_id": "T0EVIL"}

    answers = [
        await running_app.interact(p)
        for p in (foreign_team, foreign_app, foreign_org, foreign_view)
    ]

    assert [(a.status_code, a.text) for a in answers] == [(200, "")] * 4
    assert await talks(engine) == 0
    ours = await running_app.interact(view_submission("U0MGR", view, GOOD))
    assert ours.status_code == 200 and await talks(engine) == 1


async def test_another_workspaces_event_is_not_handled(running_app, engine):
    await seed_org(engine, running_app.slack)
    envelope = {
        "token": "legacy",
        "team_id": "T0EVIL",
        "api_app_id": "A0CADENCE",
        "event": {"type": "app_home_opened", "user": "U0MGR", "tab": "home"},
        "type": "event_callback",
        "event_id": "Ev0EVIL",
        "event_time": 1,
    }

    answer = await running_app.post(json.dumps(envelope), "application/json")
    await running_app.event(
        {"type": "app_home_opened", "user": "U0MGR", "tab": "home"}, event_id="Ev0OURS"
    )
    await running_app.slack.async_wait_for("views.publish")

    assert (answer.status_code, answer.text) == (200, "")
    assert len(running_app.slack.calls_to("views.publish")) == 1


# -- the database down ---------------------------------------------------------------------------
async def test_with_the_database_down_people_are_told_to_try_again_and_nothing_is_a_500(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    view = await open_form(running_app)
    down = make_engine("postgresql://postgres@127.0.0.1:1/cadence")
    running_app.deps.engine = down
    try:
        saved = await running_app.interact(view_submission("U0MGR", view, GOOD))
        command = await running_app.command("U0MGR", "<@U0EMP>")
        [reply] = await running_app.slack.async_wait_for("response_url")
    finally:
        running_app.deps.engine = engine
        await down.dispose()

    assert saved.status_code == 200
    [text] = saved.json()["errors"].values()  # under the form's first field, typing kept
    assert "press Save again in a minute" in text
    assert command.status_code == 200
    assert reply.params["response_type"] == "ephemeral"
    assert "try again in a minute" in reply.params["text"]
    assert await talks(engine) == 0


async def test_a_click_with_the_database_down_gets_an_answer_in_its_language(running_app, engine):
    await seed_org(engine, running_app.slack)
    running_app.slack.reset()
    down = make_engine("postgresql://postgres@127.0.0.1:1/cadence")
    running_app.deps.engine = down
    try:
        await running_app.event(
            {"type": "app_home_opened", "user": "U0EMP", "tab": "home"}, event_id="Ev0DOWN"
        )
        click = {
            "type": "block_actions",
            "team": {"id": "T0001"},
            "user": {"id": "U0MGR", "team_id": "T0001"},
            "api_app_id": "A0CADENCE",
            "trigger_id": running_app.trigger("U0MGR"),
            "actions": [{"action_id": "log_talk", "value": "U0EMP", "type": "button"}],
            "container": {"type": "view", "view_id": "V1"},
            "view": {"id": "V1", "type": "home", "blocks": []},
        }
        answer = await running_app.interact(click)
        [dm] = await running_app.slack.async_wait_for("chat.postMessage")
    finally:
        running_app.deps.engine = engine
        await down.dispose()

    assert answer.status_code == 200
    assert "try again in a minute" in texts(dm.params["blocks"])
    assert SIGNING_SECRET not in json.dumps(dm.params)


async def test_a_command_whose_text_says_payload_still_reaches_its_listener(running_app, engine):
    await seed_org(engine, running_app.slack)

    await running_app.command("U0MGR", "payload")

    [reply] = await running_app.slack.async_wait_for("response_url")
    assert reply.params["text"].startswith("I didn't catch that.")
