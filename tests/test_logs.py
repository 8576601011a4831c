"""No log line, at any level, holds what people typed, a request body or a token: every kind
of failure is driven with a marker in every field, and the marker is in no record."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

from sqlalchemy import text

from storage.db import session_scope
from tests.factories import block_actions, opened_view, seed_org, view_submission

MARKER = "MARKER7f3a"
TYPED = {
    "facts": f"{MARKER} facts",
    "consensus": f"{MARKER} consensus",
    "private_note": f"{MARKER} private note",
    "action_1_text": f"{MARKER} action",
    "action_1_owner": "employee",
    "action_1_due": "2026-12-10",
}
FORM = "application/x-www-form-urlencoded"


def leaked(records: list[logging.LogRecord]) -> list[str]:
    """Every log record that holds the marker in its message, its arguments or its
    exception, as the process would print it."""
    formatter = logging.Formatter()
    found = []
    for record in records:
        shown = record.getMessage() + repr(record.args)
        if record.exc_info:
            shown += formatter.formatException(record.exc_info)
        if record.stack_info:
            shown += record.stack_info
        if MARKER in shown:
            found.append(f"{record.name} {record.levelname}: {shown[:300]}")
    return found


async def open_form(app):
    await app.command("U0MGR", "<@U0EMP>")
    [opened] = await app.slack.async_wait_for("views.open")
    return opened_view(opened)


def with_marker_token(payload: dict) -> dict:
    return {**payload, "token": f"{MARKER}-legacy-token"}


async def reject_marker_in_the_database(engine) -> None:
    """A trigger that makes the database refuse a talk carrying the marker."""
    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(
                text(
                    "CREATE TRIGGER reject_marker BEFORE INSERT ON talk"
                    f" WHEN NEW.facts LIKE '%{MARKER}%'"
                    " BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION reject_marker() RETURNS trigger LANGUAGE plpgsql AS $$"
                    f" BEGIN IF NEW.facts LIKE '%{MARKER}%' THEN"
                    " RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER reject_marker BEFORE INSERT ON talk"
                    " FOR EACH ROW EXECUTE FUNCTION reject_marker()"
                )
            )


async def drop_the_trigger(engine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "DROP TRIGGER reject_marker"
                + ("" if engine.dialect.name == "sqlite" else " ON talk")
            )
        )
        if engine.dialect.name != "sqlite":
            await conn.execute(text("DROP FUNCTION reject_marker()"))


async def test_no_failure_puts_what_people_typed_or_a_token_in_the_logs(
    running_app, engine, caplog
):
    caplog.set_level(logging.DEBUG)
    await seed_org(engine, running_app.slack)
    view = await open_form(running_app)
    submission = with_marker_token(view_submission("U0MGR", view, TYPED))
    body = urllib.parse.urlencode({"payload": json.dumps(submission)})
    url = f"{running_app.url}/slack/events"

    # a bad signature, a stale one, and none at all
    forged = {**running_app.sign(body), "X-Slack-Signature": "v0=" + "1" * 64, "Content-Type": FORM}
    stale = {**running_app.sign(body, timestamp=int(time.time()) - 3600), "Content-Type": FORM}
    for headers in (forged, stale, {"Content-Type": FORM}):
        assert (await running_app.http.post(url, content=body, headers=headers)).status_code == 401
    # malformed but signed
    assert (await running_app.post(f"payload={MARKER}", FORM)).status_code == 400

    # the database refuses the record
    await reject_marker_in_the_database(engine)
    try:
        refused = await running_app.interact(submission)
    finally:
        await drop_the_trigger(engine)
    assert "errors" in refused.json()

    # Slack refuses the record's DMs (they wait for a retry)
    running_app.slack.fail_next("chat.postMessage", error="invalid_blocks", times=2)
    assert (await running_app.interact(submission)).status_code == 200
    await running_app.slack.async_wait_for("chat.postMessage", count=2)
    async with session_scope(engine) as session:
        [talk] = (await session.execute(text("SELECT facts FROM talk"))).all()
    assert talk.facts == TYPED["facts"]

    # a listener crashes on a forged value, and an action nobody handles
    snooze = {"action_id": "nudge_snooze", "type": "overflow",
              "selected_option": {"value": json.dumps({"n": MARKER, "u": MARKER})}}  # fmt: skip
    unknown = {"action_id": f"{MARKER}_button", "type": "button", "value": MARKER}
    message = {"ts": "1.2", "text": MARKER, "blocks": []}
    answers = [
        await running_app.interact(
            with_marker_token(block_actions("U0MGR", action, message=message, channel="DU0MGR"))
        )
        for action in (snooze, unknown)
    ]
    assert [a.status_code for a in answers] == [200, 404]  # 404: Bolt has no such listener
    # a command with the marker, and views.open failing for it
    running_app.slack.fail_next("views.open", error="invalid_arguments")
    await running_app.command("U0MGR", f"goal {MARKER}")
    await running_app.command("U0MGR", f"<@U0EMP> {MARKER}")
    await running_app.slack.async_wait_for("views.open", count=2)
    await running_app.slack.async_wait_for("response_url", count=2)

    assert caplog.records, "nothing was logged at all: the test would prove nothing"
    assert leaked(caplog.records) == []
    assert any(r.levelno >= logging.WARNING for r in caplog.records)
