"""One behaviour, both platforms: a driver per chat platform that does what a person does
there (log a talk through the platform's form, click Acknowledge, read their DMs), so a
behaviour test runs unchanged against Slack and Teams (`chat` fixture, parametrised).

The org is the same on both: a manager, her report (who reads Chinese), another report, and
an outsider; `who(role)` is their person key."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from tests.app_fixtures import RunningApp
from tests.blockkit import texts
from tests.factories import block_actions, key, opened_form, seed_org, view_submission
from tests.teams_fixtures import (
    HUGO,
    TARA,
    TEAMS_ORG,
    TESS,
    TOM,
    RunningTeams,
    TeamsUser,
    add_teams_people,
    tkey,
)

ROLES = ("manager", "employee", "colleague", "outsider")


@dataclass
class Submitted:
    """What the platform answered a form's submission: accepted (the form closes), or the
    problems shown, by field name, with the values the form shows again."""

    accepted: bool
    problems: dict[str, str] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)


class Chat(Protocol):
    platform: str

    async def setup(self) -> None: ...

    def who(self, role: str) -> str: ...

    async def open_record_form(self, actor: str, about: str) -> Any: ...

    async def submit_record(self, actor: str, form: Any, answers: dict[str, Any]) -> Submitted: ...

    async def dms(self, role: str) -> list[str]: ...

    async def acknowledge(self, role: str) -> None: ...

    async def settle(self) -> None: ...

    def name(self, role: str) -> str: ...

    def nudger(self) -> Any: ...

    async def nudge_to(self, role: str, about: str) -> Any: ...

    async def snooze_next_week(self, role: str, nudge: Any) -> str: ...

    async def my_data(self, role: str) -> tuple[dict[str, Any], str]:
        """Ask for one's data: the JSON file received, and the summary shown with it."""
        ...


@dataclass
class SlackChat:
    app: RunningApp
    database_url: str = ""
    platform: str = "slack"
    ids: dict[str, str] = field(
        default_factory=lambda: {
            "manager": "U0MGR",
            "employee": "U0EMP",
            "colleague": "U0ANN",
            "outsider": "U0OTH",
        }
    )

    async def setup(self) -> None:
        await seed_org(self.app.deps.engine, self.app.slack)

    def who(self, role: str) -> str:
        return key(self.ids[role])

    async def open_record_form(self, actor: str, about: str) -> Any:
        name = {"employee": "eli", "colleague": "ann", "outsider": "otto"}[about]
        response = await self.app.command(self.ids[actor], f"<@{self.ids[about]}|{name}>")
        assert response.status_code == 200
        [form] = await opened_form(self.app.slack)
        return form

    async def submit_record(self, actor: str, form: Any, answers: dict[str, Any]) -> Submitted:
        response = await self.app.interact(view_submission(self.ids[actor], form, answers))
        assert response.status_code == 200
        if not response.text:
            return Submitted(True)
        errors = response.json().get("errors") or {}
        problems = dict(errors)  # block ids are the fields' names
        return Submitted(False, problems)

    async def dms(self, role: str) -> list[str]:
        await self.app.notices_sent()
        channel = f"D{self.ids[role]}"
        return [
            texts(c.params.get("blocks") or []) + " " + str(c.params.get("text") or "")
            for c in self.app.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel
        ]

    async def acknowledge(self, role: str) -> None:
        await self.app.notices_sent()
        channel = f"D{self.ids[role]}"
        dm = next(
            c for c in self.app.slack.calls_to("chat.postMessage") if c.params["channel"] == channel
        )
        message = {
            "ts": dm.response["ts"],
            "text": dm.params["text"],
            "blocks": dm.params["blocks"],
        }
        button = next(
            b["accessory"]
            for b in dm.params["blocks"]
            if b.get("accessory", {}).get("type") == "button"
        )
        click = block_actions(
            self.ids[role], {**button, "type": "button"}, message=message, channel=channel
        )
        updates = len(self.app.slack.calls_to("chat.update"))
        assert (await self.app.interact(click)).status_code == 200
        # Bolt acks a click before its listener runs: the record redrawn says it is stored
        await self.app.slack.async_wait_for("chat.update", count=updates + 1)
        await self.app.notices_sent()

    async def settle(self) -> None:
        await self.app.notices_sent()

    def name(self, role: str) -> str:
        return {"U0MGR": "Mia Chen", "U0EMP": "Eli Wang", "U0ANN": "Ann Lee", "U0OTH": "Otto Kern"}[
            self.ids[role]
        ]

    def nudger(self) -> Any:
        from tests.app_fixtures import engine_for

        return engine_for(self.app, self.database_url)

    async def nudge_to(self, role: str, about: str) -> Any:
        channel = f"D{self.ids[role]}"
        return next(
            c
            for c in self.app.slack.calls_to("chat.postMessage")
            if c.params["channel"] == channel and self.name(about) in c.params["text"]
        )

    async def snooze_next_week(self, role: str, nudge: Any) -> str:
        element = next(
            e
            for b in nudge.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "nudge_snooze"
        )
        action = {**element, "selected_option": element["options"][1]}
        message = {
            "ts": nudge.response["ts"],
            "text": nudge.params["text"],
            "blocks": nudge.params["blocks"],
        }
        click = block_actions(self.ids[role], action, message=message, channel=f"D{self.ids[role]}")
        assert (await self.app.interact(click)).status_code == 200
        [update] = await self.app.slack.async_wait_for("chat.update")
        return texts(update.params["blocks"])

    async def my_data(self, role: str) -> tuple[dict[str, Any], str]:
        user_id = self.ids[role]
        self.app.slack.reset()
        response = await self.app.command(user_id, "my-data")
        assert response.status_code == 200
        [upload] = await self.app.slack.async_wait_for("file_upload")
        [done] = await self.app.slack.async_wait_for("files.completeUploadExternal")
        assert done.params["channel_id"] == f"D{user_id}"
        return json.loads(str(upload.params["content"])), str(done.params["initial_comment"])


@dataclass
class TeamsChat:
    app: RunningTeams
    platform: str = "teams"
    users: dict[str, TeamsUser] = field(
        default_factory=lambda: {
            "manager": TARA,
            "employee": TOM,
            "colleague": TESS,
            "outsider": HUGO,
        }
    )

    async def setup(self) -> None:
        for user in self.users.values():
            await self.app.install(user)

    def who(self, role: str) -> str:
        return tkey(self.users[role])

    async def open_record_form(self, actor: str, about: str) -> Any:
        data = {
            "msteams": {"type": "task/fetch"},
            "cadence": "form",
            "form": "talk",
            "e": self.who(about),
        }
        response = await self.app.fetch(self.users[actor], data)
        assert response.status_code == 200
        return response.json()

    async def submit_record(self, actor: str, form: Any, answers: dict[str, Any]) -> Submitted:
        card = form["task"]["value"]["card"]["content"]
        response = await self.app.submit(self.users[actor], card_submission(card, answers))
        assert response.status_code == 200
        body = response.json() if response.content else {}
        task = body.get("task") if isinstance(body, dict) else None
        if not task:
            return Submitted(True)
        if task.get("type") == "message":
            return Submitted(False, {"form": task["value"]})
        shown = task["value"]["card"]["content"]
        return Submitted(False, problems_beside_fields(shown), values_of(shown))

    async def dms(self, role: str) -> list[str]:
        await self.app.notices_sent()
        return [json.dumps(m, ensure_ascii=False) for m in self.app.messages_to(self.users[role])]

    async def acknowledge(self, role: str) -> None:
        await self.app.notices_sent()
        for message in self.app.messages_to(self.users[role]):
            for action in card_actions(message):
                if action.get("type") == "Action.Execute" and action.get("verb") == "ack":
                    response = await self.app.execute(self.users[role], "ack", action["data"])
                    assert response.status_code == 200
                    await self.app.notices_sent()
                    return
        raise AssertionError("no Acknowledge button in the employee's chat")

    async def settle(self) -> None:
        await self.app.notices_sent()

    def name(self, role: str) -> str:
        return self.users[role].name

    def nudger(self) -> Any:
        return self.app.platforms.engine

    async def nudge_to(self, role: str, about: str) -> Any:
        return next(
            m
            for m in self.app.messages_to(self.users[role])
            if self.name(about) in m.get("text", "")
        )

    async def snooze_next_week(self, role: str, nudge: Any) -> str:
        button = next(
            a
            for a in card_actions(nudge)
            if a.get("verb") == "snooze" and a["data"].get("u") == "week"
        )
        response = await self.app.execute(self.users[role], "snooze", button["data"])
        assert response.status_code == 200
        return json.dumps(response.json()["value"], ensure_ascii=False)

    async def my_data(self, role: str) -> tuple[dict[str, Any], str]:
        user = self.users[role]
        before = len(self.app.messages_to(user))
        response = await self.app.say(user, "my data")
        assert response.status_code == 200
        summary, offer = self.app.messages_to(user)[before:]
        [consent] = offer["attachments"]
        assert consent["contentType"] == "application/vnd.microsoft.teams.card.file.consent"
        value = self.app.teams.accept_file(consent)
        response = await self.app.invoke(user, "fileConsent/invoke", value)
        assert response.status_code == 200
        [shown] = self.app.messages_to(user)[before + 2 :]
        [info] = shown["attachments"]
        assert info["contentType"] == "application/vnd.microsoft.teams.card.file.info"
        assert info["content"]["uniqueId"] == value["uploadInfo"]["uniqueId"]
        uploaded = self.app.teams.uploaded(value["uploadInfo"]["uniqueId"])
        assert uploaded is not None
        assert consent["content"]["sizeInBytes"] == len(uploaded)
        return json.loads(uploaded), json.dumps(summary, ensure_ascii=False)


# -- reading and filling Adaptive Cards ---------------------------------------------------------
def elements(node: Any) -> list[dict[str, Any]]:
    """Every element of a card, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "type" in node:
            found.append(node)
        for value in node.values():
            found += elements(value)
    elif isinstance(node, list):
        for item in node:
            found += elements(item)
    return found


def card_actions(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for e in elements(message.get("attachments") or [])
        if str(e.get("type", "")).startswith("Action.")
    ]


def values_of(card: dict[str, Any]) -> dict[str, Any]:
    return {
        e["id"]: e.get("value") for e in elements(card) if str(e.get("type")).startswith("Input.")
    }


def card_submission(card: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    """What Teams sends when the card's submit button is pressed with these answers: every
    input's value (as shown, unless answered), merged into the button's data."""
    submit = next(
        e
        for e in elements(card)
        if e.get("type") == "Action.Submit" and "msteams" not in (e.get("data") or {})
    )
    values = {k: v for k, v in values_of(card).items() if v not in (None, "")}
    values.update({k: v for k, v in answers.items() if v is not None})
    return {**submit["data"], **{k: str(v) for k, v in values.items()}}


def problems_beside_fields(card: dict[str, Any]) -> dict[str, str]:
    """Each input's problem: the red text right after it."""
    problems: dict[str, str] = {}
    for container in elements(card):
        items = container.get("body") or container.get("items")
        if not isinstance(items, list):
            continue
        for before, after in itertools.pairwise(items):
            if str(before.get("type", "")).startswith("Input.") and _is_problem(after):
                problems[before["id"]] = _text(after)
    return problems


def _is_problem(element: dict[str, Any]) -> bool:
    return element.get("color") == "attention" or any(
        run.get("color") == "attention" for run in element.get("inlines") or []
    )


def _text(element: dict[str, Any]) -> str:
    """What a person reads: a TextBlock's Markdown escapes shown as the characters."""
    if "text" in element:
        return re.sub(r"\\(.)", r"\1", str(element["text"]))
    return "".join(str(run.get("text", "")) for run in element.get("inlines") or [])


@pytest.fixture(params=["slack", "teams"])
async def chat(
    request: pytest.FixtureRequest,
    engine,
    slack,
    teams,
    policy,
    clock,
    database_url,
    fast_forward_time,
) -> AsyncIterator[Chat]:
    """The same org, on Slack or on Teams."""
    from tests.app_fixtures import serve_app
    from tests.teams_fixtures import serve_teams

    if request.param == "slack":
        async with serve_app(engine, slack, policy, clock, database_url, fast_forward_time) as app:
            driver: Chat = SlackChat(app, database_url)
            await driver.setup()
            yield driver
    else:
        await add_teams_people(engine, TEAMS_ORG)
        async with serve_teams(
            engine, teams, policy, clock, database_url, fast_forward_time
        ) as tapp:
            driver = TeamsChat(tapp)
            await driver.setup()
            yield driver
