"""The Slack edge's one way of doing each thing (handlers/slack/__init__.py): one date parser
that refuses in the person's language, unreadable ids that name no record, one way to tell
a person something that never fails the listener, and ids spelled only in `ids.py`."""

from __future__ import annotations

import ast
import asyncio
import logging
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.errors import Invalid
from handlers import payload
from handlers.slack import ids, parse, tell
from handlers.slack.blocks.messages import Message
from prompts import t
from storage.db import session_scope
from storage.models import Interview, Talk, new_person_key
from tests.factories import block_actions, key, seed_org, view_submission
from tests.test_interviews import home_picker, picked
from tests.test_record_talk import GOOD, open_record_form
from tests.test_self_assessment import add_cycle

EDGE = Path(__file__).resolve().parent.parent / "handlers" / "slack"


# -- one date parser --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "day"),
    [
        ("2026-12-15", date(2026, 12, 15)),
        ("2024-02-29", date(2024, 2, 29)),
        (None, None),
        ("", None),
    ],
)
def test_the_date_parser_reads_the_days_slack_and_the_commands_send(raw, day):
    assert parse.day(raw) == day


@pytest.mark.parametrize(
    "raw",
    ["2026-13-40", "2026-02-30", "15/12/2026", "20261215", "2026-W50-1", "soon", " ", 20261215],
)
def test_the_date_parser_refuses_anything_else_saying_how_to_write_it_in_both_languages(raw):
    with pytest.raises(parse.Unreadable) as refused:
        parse.day(raw)

    english = t(refused.value.key, "en", **refused.value.params)
    chinese = t(refused.value.key, "zh", **refused.value.params)
    assert f"“{raw}” is not a date I can read" in english and "YYYY-MM-DD" in english
    assert f"无法识别日期“{raw}”" in chinese and "YYYY-MM-DD" in chinese


def test_what_could_not_be_read_is_echoed_shortened_visibly():
    with pytest.raises(parse.Unreadable) as refused:
        parse.day("9" * 5000)

    echoed = refused.value.params["value"]
    assert len(echoed) == payload.ECHO_LIMIT and echoed.endswith("…")


def test_a_form_date_that_cannot_be_read_is_a_problem_of_its_own_field():
    values = {
        "held_on": {"value": {"type": "datepicker", "selected_date": "2026-02-30"}},
        "action_2_due": {"value": {"type": "datepicker", "selected_date": "tomorrow"}},
    }
    view = {"private_metadata": '{"e": "U0EMP"}', "state": {"values": values}}

    with pytest.raises(Invalid) as invalid:
        parse.talk_draft(view)

    assert set(invalid.value.problems) == {"held_on", "action_2_due"}
    assert invalid.value.problems["action_2_due"].params == {"value": "tomorrow"}


async def test_a_forged_date_keeps_the_record_form_open_with_the_problem_under_it(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    view = await open_record_form(running_app)

    response = await running_app.interact(
        view_submission("U0MGR", view, {**GOOD, "held_on": "20261126"})
    )

    problem = "“20261126” is not a date I can read; write it as YYYY-MM-DD, e.g. 2026-12-31."
    assert response.json() == {"response_action": "errors", "errors": {"held_on": problem}}
    async with session_scope(engine) as session:
        assert (await session.exec(select(Talk))).first() is None


# -- ids from payloads ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "read"),
    [("12", 12), (12, 12), ("0012", 12), ("12abc", 0), ("-1", 0), ("1.5", 0), (None, 0),
     (True, 0), ("2147483648", 0), ("9" * 5000, 0), ("١٢", 0), ("²", 0)],
)  # fmt: skip
def test_a_record_id_that_cannot_be_read_is_0_which_names_no_record(raw, read):
    assert parse.record_id(raw) == read


@pytest.mark.parametrize("person", [new_person_key(), "kU0EMP", "U0EMP"])
def test_action_ids_carry_a_person_key_or_the_slack_id_of_older_messages(person):
    picked = {"action_id": ids.interview_date_action(person, 7), "selected_date": "2026-12-10"}

    assert parse.interview_choice(picked) == parse.InterviewChoice(7, person, date(2026, 12, 10))
    assert ids.NUDGE_LOG_TALK_ACTION.match(ids.nudge_log_talk(person))


def test_a_nudge_choice_without_routing_data_asks_for_nothing_in_particular():
    choice = parse.nudge_choice({"value": "not json", "action_id": "nudge_skip"})

    assert (choice.nudge_id, choice.action_id) == (0, 0)
    assert (choice.until, choice.reason) == ("tomorrow", "not_relevant")


# -- telling a person -------------------------------------------------------------------------
async def test_a_dm_slack_refuses_returns_false_and_logs_the_error_class_only(
    running_app, engine, caplog
):
    await seed_org(engine, running_app.slack)
    caplog.set_level(logging.WARNING)
    running_app.slack.fail_next("chat.postMessage", error="cannot_dm_bot")

    sent = await tell.dm(running_app.deps, "U0MGR", Message("Private words", []))

    assert sent is False
    [line] = [r.getMessage() for r in caplog.records if r.name == "handlers.slack.tell"]
    assert line.startswith("could not DM U0MGR: SlackApiError at ")
    assert "Private words" not in line and "cannot_dm_bot" not in line


async def test_an_ephemeral_slack_refuses_does_not_raise(running_app, engine, caplog):
    await seed_org(engine, running_app.slack)
    caplog.set_level(logging.WARNING)
    running_app.slack.fail_next("chat.postEphemeral", error="channel_not_found")

    told = await tell.answer(
        running_app.deps,
        "U0MGR",
        Message("Private words", []),
        client=running_app.deps.gateway.client,
        channel="DU0MGR",
    )

    assert told is False
    [line] = [r.getMessage() for r in caplog.records if r.name == "handlers.slack.tell"]
    assert line.startswith("could not answer U0MGR: SlackApiError at ")


async def logged(caplog, start: str, timeout: float = 5.0) -> list[str]:
    """Our own log lines, once one starting with `start` is among them."""
    for _ in range(int(timeout / 0.05)):
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("handlers.")]
        if any(line.startswith(start) for line in lines):
            return lines
        await asyncio.sleep(0.05)
    raise AssertionError(f"no log line starting with {start!r}")


async def test_an_interview_date_is_set_even_when_slack_refuses_the_confirmation_dm(
    running_app, engine, caplog
):
    await seed_org(engine, running_app.slack)
    await add_cycle(engine)
    view, picker = await home_picker(running_app, "U0MGR", "U0ANN", "EvTell1")
    caplog.set_level(logging.WARNING)
    running_app.slack.fail_next("chat.postMessage", error="cannot_dm_bot")

    await running_app.interact(block_actions("U0MGR", picked(picker, "2026-12-10"), view=view))

    lines = await logged(caplog, "could not DM U0MGR: SlackApiError")
    assert not any("listener failed" in line for line in lines)  # no apology for a success
    [refused] = running_app.slack.calls_to("chat.postMessage")
    assert refused.response is not None and refused.response["error"] == "cannot_dm_bot"
    async with session_scope(engine) as session:
        [interview] = (await session.exec(select(Interview))).scalars()
    assert (interview.employee_id, interview.scheduled_on) == (key("U0ANN"), date(2026, 12, 10))


# -- ids are spelled in ids.py ----------------------------------------------------------------
ID_KEYS = {"action_id", "block_id", "callback_id"}
# Where kit's builders and Bolt's registrations take an id, by position.
ID_ARGUMENTS = {"button": 1, "input_block": 0, "modal": 0, "action": 0, "view": 0, "options": 0,
                "command": 0}  # fmt: skip


def _literal(node: ast.expr | None) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _spelled_ids(path: Path) -> list[str]:
    """Every id written as a literal in a module: a dict's action/block/callback id, such a
    keyword argument, or the id argument of a kit builder or a Bolt registration."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Dict):
            for field, value in zip(node.keys, node.values, strict=True):
                if isinstance(field, ast.Constant) and field.value in ID_KEYS and _literal(value):
                    found.append(f"{path.name}:{node.lineno} {field.value}")
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            for keyword in node.keywords:
                if keyword.arg in ID_KEYS and _literal(keyword.value):
                    found.append(f"{path.name}:{node.lineno} {keyword.arg}=")
            at = ID_ARGUMENTS.get(name)
            if at is not None and len(node.args) > at and _literal(node.args[at]):
                found.append(f"{path.name}:{node.lineno} {name}()")
    return found


def test_no_builder_or_listener_spells_an_id_of_its_own():
    modules = [p for p in EDGE.rglob("*.py") if p.name != "ids.py"]

    assert len(modules) > 20
    assert [spelled for path in modules for spelled in _spelled_ids(path)] == []


def test_only_the_parse_module_reads_dates_and_json_from_payloads():
    readers = {"fromisoformat", "loads", "strptime"}
    found = [
        f"{path.name}:{node.lineno}"
        for path in EDGE.rglob("*.py")
        if path.name != "parse.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in readers
    ]

    assert found == []
