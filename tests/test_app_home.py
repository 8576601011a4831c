"""App Home: a manager sees each report's last talk and open actions, paged; an employee sees
their own record, never the manager's private note. Events are handled once per event_id."""

from __future__ import annotations

import json
from datetime import date

from storage.db import session_scope
from storage.models import ActionItem, Talk
from tests.blockkit import texts, valid_view
from tests.factories import T0, add_people, block_actions, key, opened_form, seed_org


async def add_talk(
    engine, *, employee="U0EMP", held="2026-11-02", kind="checkin", due=None, note=None
):
    async with session_scope(engine) as session:
        talk = Talk(
            kind=kind,
            family="dialogue",
            manager_id=key("U0MGR"),
            employee_id=key(employee),
            logged_by=key("U0MGR"),
            held_on=date.fromisoformat(held),
            duration_minutes=15,
            facts=f"Facts of {held}",
            consensus="Agreed.",
            private_note=note,
            submission_key=f"k-{employee}-{held}",
            created_at=T0,
        )
        session.add(talk)
        await session.flush()
        if due:
            session.add(
                ActionItem(
                    talk_id=talk.id,
                    employee_id=key(employee),
                    owner_id=key(employee),
                    text=f"Do it by {due}",
                    due_on=date.fromisoformat(due),
                    created_at=T0,
                )
            )
        await session.commit()


def home_opened(user_id: str) -> dict:
    return {
        "type": "app_home_opened",
        "user": user_id,
        "channel": f"D{user_id}",
        "tab": "home",
        "event_ts": "1700000000.000100",
    }


async def test_manager_home_shows_each_reports_last_talk_and_actions(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_talk(engine, held="2026-10-01", due="2026-11-01")  # overdue by now
    await add_talk(engine, held="2026-11-02", kind="coaching", due="2026-12-20")

    response = await running_app.event(home_opened("U0MGR"), event_id="Ev001")

    assert response.status_code == 200
    [publish] = await running_app.slack.async_wait_for("views.publish")
    assert publish.params["user_id"] == "U0MGR"
    shown = texts(valid_view(publish.params["view"])["blocks"])
    assert "*Eli Wang*\nLast talk: 2026-11-02 (Coaching)" in shown
    assert "2 open actions · 1 overdue" in shown
    assert "*Ann Lee*\nLast talk: no talk logged yet" in shown
    buttons = [b["accessory"] for b in publish.params["view"]["blocks"] if "accessory" in b]
    assert {b["value"] for b in buttons} == {key("U0EMP"), key("U0ANN")}


async def test_employee_home_shows_own_talks_in_their_language_without_private_notes(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    await add_talk(engine, held="2026-11-02", due="2026-11-20", note="Watch for burnout")

    await running_app.event(home_opened("U0EMP"), event_id="Ev002")

    [publish] = await running_app.slack.async_wait_for("views.publish")
    shown = texts(valid_view(publish.params["view"])["blocks"])
    assert "你的对话记录" in shown and "Facts of 2026-11-02" in shown
    assert "Do it by 2026-11-20" in shown and "已逾期" in shown
    assert "burnout" not in str(publish.params["view"])


async def test_a_retried_event_is_handled_once(running_app, engine):
    await seed_org(engine, running_app.slack)

    first = await running_app.event(home_opened("U0MGR"), event_id="Ev003")
    await running_app.slack.async_wait_for("views.publish")
    retry = await running_app.event(home_opened("U0MGR"), event_id="Ev003", retry_num=1)
    other = await running_app.event(home_opened("U0MGR"), event_id="Ev004", retry_num=1)

    assert first.status_code == retry.status_code == other.status_code == 200
    await running_app.slack.async_wait_for("views.publish", count=2)
    assert len(running_app.slack.calls_to("views.publish")) == 2  # Ev003 once, Ev004 once


async def test_manager_with_many_reports_gets_pages_within_slacks_block_limit(running_app, engine):
    await seed_org(engine, running_app.slack)
    await add_people(
        engine,
        [
            dict(slack_id=f"U1{i:04d}", name=f"Report {i:02d}", manager_id="U0MGR")
            for i in range(60)
        ],
    )

    await running_app.event(home_opened("U0MGR"), event_id="Ev005")
    [first] = await running_app.slack.async_wait_for("views.publish")
    page_one = valid_view(first.params["view"])
    assert len(page_one["blocks"]) <= 100
    assert "Page 1 of 5" in texts(page_one["blocks"])
    next_button = next(b for b in page_one["blocks"] if b["type"] == "actions")["elements"][-1]

    await running_app.interact(block_actions("U0MGR", next_button))

    [_, second] = await running_app.slack.async_wait_for("views.publish", count=2)
    page_two = texts(valid_view(second.params["view"])["blocks"])
    assert "Page 2 of 5" in page_two and "Report 13" in page_two and "Report 12" not in page_two


async def test_log_a_talk_button_on_home_opens_the_form_for_that_report(running_app, engine):
    await seed_org(engine, running_app.slack)
    await running_app.event(home_opened("U0MGR"), event_id="Ev006")
    [publish] = await running_app.slack.async_wait_for("views.publish")
    button = next(
        b["accessory"]
        for b in publish.params["view"]["blocks"]
        if b.get("accessory", {}).get("value") == key("U0ANN")
    )

    await running_app.interact(block_actions("U0MGR", button))

    [form] = await opened_form(running_app.slack)
    assert "Ann Lee" in texts(valid_view(form)["blocks"])


async def test_a_button_sent_before_person_keys_still_names_its_report_by_slack_id(
    running_app, engine
):
    await seed_org(engine, running_app.slack)
    # what App Home carried before migration 0009: the report's Slack id as the value
    button = {"type": "button", "action_id": "log_talk", "value": "U0ANN"}

    await running_app.interact(block_actions("U0MGR", button))

    [form] = await opened_form(running_app.slack)
    shown = valid_view(form)
    assert "Ann Lee" in texts(shown["blocks"])
    assert json.loads(shown["private_metadata"])["e"] == key("U0ANN")


async def test_a_button_naming_nobody_opens_no_form(running_app, engine):
    await seed_org(engine, running_app.slack)
    for value in ("U0NOBODY", "kU0NOBODY", ""):
        running_app.slack.reset()
        button = {"type": "button", "action_id": "log_talk", "value": value}

        await running_app.interact(block_actions("U0MGR", button))

        [shown] = await opened_form(running_app.slack)
        assert "submit" not in shown, value
        assert "Ann Lee" not in texts(shown["blocks"]) and "Eli Wang" not in texts(shown["blocks"])


async def test_health_check_answers_once_the_database_is_reachable(running_app):
    response = await running_app.http.get(f"{running_app.url}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_requests_with_a_bad_or_stale_signature_are_refused(running_app, engine):
    await seed_org(engine, running_app.slack)
    body = "command=%2Fcheckin&user_id=U0MGR&text=help"
    url = f"{running_app.url}/slack/events"
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    forged = await running_app.http.post(
        url, content=body, headers={**form, **running_app.sign(body), "X-Slack-Signature": "v0=00"}
    )
    stale = await running_app.http.post(
        url, content=body, headers={**form, **running_app.sign(body, timestamp=1_000_000_000)}
    )

    assert forged.status_code == stale.status_code == 401
    assert running_app.slack.calls_to("views.open") == []
