"""Test data: an org chart, and Slack payloads shaped like Slack's documented examples."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.dev.slack_standin import SlackStandIn
from storage.db import session_scope
from storage.models import ChatIdentity, Nudge, Person, Platform

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_ids = itertools.count(1)

# The small org most tests use: Hana (HR), Mia manages Eli (Chinese) and Ann; Otto is a
# manager of nobody in particular.
ORG = [
    dict(slack_id="U0HR", name="Hana Berg", email="hana@example.com", is_hr=True, locale="en"),
    dict(slack_id="U0MGR", name="Mia Chen", email="mia@example.com", locale="en"),
    dict(
        slack_id="U0EMP",
        name="Eli Wang",
        email="eli@example.com",
        manager_id="U0MGR",
        locale="zh",
        timezone="Asia/Shanghai",
    ),
    dict(slack_id="U0ANN", name="Ann Lee", email="ann@example.com", manager_id="U0MGR"),
    dict(slack_id="U0OTH", name="Otto Kern", email="otto@example.com"),
]
SLACK_LOCALES = {
    "U0HR": "en-US",
    "U0MGR": "en-US",
    "U0EMP": "zh-CN",
    "U0ANN": "en-GB",
    "U0OTH": "en-US",
}


def key(slack_id: str) -> str:
    """The person key `add_people` gives the person with this Slack id: never the Slack id
    itself, so a test fails wherever the code takes one for the other."""
    return f"k{slack_id}"


async def add_people(engine: AsyncEngine, people: list[dict[str, Any]]) -> None:
    """Insert people (managers before their reports; rows as the org file has them: a
    `slack_id`, a `manager_id` naming the manager's Slack id) under their person keys
    (`key`), each with their Slack identity, as the org import makes them."""
    async with session_scope(engine) as session:
        for row in people:
            fields = {k: v for k, v in row.items() if k != "slack_id"}
            sid = row["slack_id"]
            if fields.get("manager_id"):
                fields["manager_id"] = key(fields["manager_id"])
            session.add(Person(id=key(sid), created_at=T0, updated_at=T0, **fields))
            await session.flush()
            session.add(
                ChatIdentity(
                    person_id=key(sid),
                    platform=Platform.SLACK,
                    user_id=sid,
                    created_at=T0,
                    updated_at=T0,
                )
            )
        await session.commit()


async def seed_org(engine: AsyncEngine, slack: SlackStandIn) -> None:
    """The standard small org, in the database and in Slack."""
    await add_people(engine, ORG)
    for row in ORG:
        slack.add_user(
            row["slack_id"],
            name=row["name"],
            email=row["email"],
            tz=row.get("timezone") or "Asia/Shanghai",
            locale=SLACK_LOCALES[row["slack_id"]],
        )


def fill(view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """The `state.values` Slack would send for `view` with these answers typed in.

    Inputs keep their initial values unless answered; an answer of None clears one.
    """
    values: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element, block_id = block["element"], block["block_id"]
        answer = answers.get(block_id, _initial(element))
        values[block_id] = {element["action_id"]: _element_state(element, answer)}
    return values


def _initial(element: dict[str, Any]) -> Any:
    if "initial_date" in element:
        return element["initial_date"]
    if "initial_option" in element:
        return element["initial_option"]["value"]
    return element.get("initial_value")


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    return next(o for o in element["options"] if o["value"] == value)


def _element_state(element: dict[str, Any], answer: Any) -> dict[str, Any]:
    kind = element["type"]
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input"):
        state["value"] = None if answer is None else str(answer)
    elif kind == "datepicker":
        state["selected_date"] = answer
    elif kind in ("static_select", "radio_buttons"):
        state["selected_option"] = _option(element, answer) if answer else None
    elif kind == "checkboxes":
        state["selected_options"] = [_option(element, v) for v in (answer or [])]
    elif kind == "users_select":
        state["selected_user"] = answer
    elif kind == "external_select":  # its options came from the app's options listener
        option = {"text": {"type": "plain_text", "text": str(answer)}, "value": answer}
        state["selected_option"] = option if answer else None
    return state


def user(user_id: str) -> dict[str, Any]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": "T0001"}


def view_submission(user_id: str, view: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """A `view_submission` payload for a view the app opened (as the stand-in returned it)."""
    submitted = {**view, "state": {"values": fill(view, answers)}}
    submitted.setdefault("id", f"V{next(_ids):08d}")
    submitted.setdefault("hash", "1700000000.abcdef")
    return {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "cadence-test"},
        "user": user(user_id),
        "api_app_id": "A0CADENCE",
        "token": "legacy",
        "trigger_id": f"trigger-{next(_ids)}",
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
    }


def block_actions(
    user_id: str,
    action: dict[str, Any],
    *,
    view: dict[str, Any] | None = None,
    message: dict[str, Any] | None = None,
    channel: str | None = None,
) -> dict[str, Any]:
    """A `block_actions` payload for one clicked element."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0001", "domain": "cadence-test"},
        "user": user(user_id),
        "api_app_id": "A0CADENCE",
        "token": "legacy",
        "trigger_id": f"trigger-{next(_ids)}",
        "actions": [{"action_ts": "1700000000.000001", "block_id": "b", **action}],
        "response_url": "https://hooks.slack.invalid/actions/1",
    }
    if view is not None:
        payload["view"] = view
        payload["container"] = {"type": "view", "view_id": view.get("id")}
    if message is not None:
        payload["message"] = message
        payload["channel"] = {"id": channel, "name": "directmessage"}
        payload["container"] = {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
        }
    return payload


def block_suggestion(
    user_id: str, view: dict[str, Any], *, action_id: str, block_id: str, value: str
) -> dict[str, Any]:
    """A `block_suggestion` payload: someone typed `value` into an external select."""
    return {
        "type": "block_suggestion",
        "team": {"id": "T0001", "domain": "cadence-test"},
        "user": user(user_id),
        "api_app_id": "A0CADENCE",
        "token": "legacy",
        "container": {"type": "view", "view_id": view.get("id")},
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "view": view,
        "action_ts": "1700000000.000002",
    }


def opened_view(call_params: Any) -> dict[str, Any]:
    """The view a views.open/update call sent, with the id Slack would give it.

    Given the recorded call itself, the view as Slack answered it (its real id and hash).
    """
    if hasattr(call_params, "response"):
        return dict(call_params.response["view"])
    view = dict(call_params["view"])
    view.setdefault("id", f"V{next(_ids):08d}")
    view.setdefault("hash", "1700000000.abcdef")
    return view


async def suggested(app: Any, user_id: str, view: dict[str, Any], value: str = "") -> list[dict]:
    """The options the app offers in the view's first external select when `value` is typed
    (a signed `block_suggestion`, as Slack sends it)."""
    block = next(
        b for b in view["blocks"] if (b.get("element") or {}).get("type") == "external_select"
    )
    payload = block_suggestion(
        user_id,
        view,
        action_id=block["element"]["action_id"],
        block_id=block["block_id"],
        value=value,
    )
    response = await app.interact(payload)
    assert response.status_code == 200
    return response.json()["options"]


LOADING = "loading"  # the callback id of the modal opened with the trigger (handlers.slack.opening)


def shown_view(call_params: dict[str, Any]) -> dict[str, Any]:
    """The view a views.update call put in place, with the id of the view it filled."""
    view = dict(call_params["view"])
    view["id"] = call_params.get("view_id") or view.get("id") or f"V{next(_ids):08d}"
    view.setdefault("hash", "1700000000.abcdef")
    return view


async def opened_form(
    slack: SlackStandIn, callback_id: str | None = None, *, count: int = 1
) -> list[dict[str, Any]]:
    """The forms (or refusals) the app showed: a modal opens with the trigger at once (a
    loading view), and what it shows comes by views.update. (A modal opened with its form
    straight away counts as shown too.)"""
    opened = await slack.async_wait_for("views.open", count=count)
    if all((c.params.get("view") or {}).get("callback_id") != LOADING for c in opened):
        return [opened_view(c.params) for c in opened]

    def filled(call: Any) -> bool:
        shown = call.params.get("view") or {}
        return callback_id is None or shown.get("callback_id") == callback_id

    calls = await slack.async_wait_for("views.update", filled, count=count)
    return [shown_view(call.params) for call in calls]


async def sent_message(engine: AsyncEngine, kind: str, slack_id: str) -> dict[str, str]:
    """The channel and ts of the latest message of this outbox kind sent to someone of
    `add_people`'s, named by Slack id (what the bot stored when Slack answered
    chat.postMessage)."""
    recipient_id = key(slack_id)
    async with session_scope(engine) as session:
        rows = await session.execute(
            select(Nudge)
            .where(Nudge.kind == kind, Nudge.recipient_id == recipient_id, Nudge.state == "sent")
            .order_by(Nudge.id.desc())  # type: ignore[union-attr]
        )
        row = rows.scalars().first()
    assert row is not None and row.channel and row.ts, f"no {kind} sent to {recipient_id}"
    return {"channel": row.channel, "ts": row.ts}
