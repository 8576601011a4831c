"""`/api/messages`: only what Teams signs gets in (the Agents SDK's validator, with the
stand-in's keys through CADENCE_TEAMS_TEST_JWKS_URL), and every activity from someone in the
org chart leaves their chat, language and time zone stored, so nudges can reach them."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from bot.request_body import MAX_BODY
from bot.teams.connector import ConversationReference
from storage.db import session_scope
from storage.models import ChatIdentity, Person, Platform, ProcessedEvent
from tests.chat_drivers import elements
from tests.factories import T0
from tests.teams_fixtures import TARA, TESS, TOM, RunningTeams, TeamsUser, tkey


async def _identity(app: RunningTeams, user: TeamsUser) -> ChatIdentity:
    async with session_scope(app.deps.engine) as session:
        found = await session.exec(
            select(ChatIdentity).where(
                ChatIdentity.platform == Platform.TEAMS, ChatIdentity.user_id == user.aad
            )
        )
        return found.scalars().one()


async def _processed(app: RunningTeams) -> int:
    async with session_scope(app.deps.engine) as session:
        return (
            await session.execute(select(func.count()).select_from(ProcessedEvent))
        ).scalar_one()


async def test_a_request_without_a_token_is_refused_and_changes_nothing(teams_app):
    response = await teams_app.post(teams_app.activity(TOM, "message", text="help"), auth=False)

    assert response.status_code == 401
    assert (await _identity(teams_app, TOM)).conversation is None
    assert teams_app.teams.calls_to("send") == []


async def test_tokens_for_another_bot_expired_or_forged_are_refused(teams_app):
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for token in (
        teams_app.teams.token_for("9d8c7b6a-0000-4000-8000-000000000000"),  # another bot's
        teams_app.token(expires_in=-900),  # expired (beyond the SDK's five minutes' leeway)
        teams_app.token(key=other_key),  # signed by someone else
    ):
        response = await teams_app.post(
            teams_app.activity(TOM, "message", text="help"), token=token
        )
        assert response.status_code == 401
    assert (await _identity(teams_app, TOM)).conversation is None
    assert await _processed(teams_app) == 0


async def test_a_malformed_header_is_refused(teams_app):
    for header in ("Basic abc", "Bearer", f"Bearer {teams_app.token()} extra"):
        response = await teams_app.http.post(
            f"{teams_app.url}/api/messages",
            json=teams_app.activity(TOM, "message", text="help"),
            headers={"Authorization": header},
        )
        assert response.status_code == 401


async def test_an_activity_naming_another_service_url_than_its_token_is_refused(teams_app):
    forged = teams_app.activity(TOM, "message", text="help")
    forged["serviceUrl"] = "https://attacker.example/"

    response = await teams_app.post(forged)

    assert response.status_code == 401
    assert (await _identity(teams_app, TOM)).conversation is None


async def test_a_body_that_is_not_an_activity_is_refused(teams_app):
    headers = {"Authorization": f"Bearer {teams_app.token()}", "Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", json.dumps({"type": "message"}).encode()):
        response = await teams_app.http.post(
            f"{teams_app.url}/api/messages", content=body, headers=headers
        )
        assert response.status_code == 400


async def test_a_body_over_the_limit_is_refused_before_it_is_read(teams_app):
    huge = teams_app.activity(TOM, "message", text="x" * (MAX_BODY + 1))

    response = await teams_app.post(huge)

    assert response.status_code == 413


async def test_installing_the_app_stores_the_chat_language_and_zone_and_says_hello(teams_app):
    response = await teams_app.install(TOM)

    assert response.status_code == 200
    identity = await _identity(teams_app, TOM)
    reference = ConversationReference.loads(identity.conversation)
    assert reference is not None
    assert reference.service_url == teams_app.teams.service_url
    assert reference.user_id == TOM.bf_id and reference.tenant_id == teams_app.teams.tenant_id
    assert (identity.locale, identity.timezone) == ("zh", "Asia/Shanghai")  # Teams said zh-CN
    assert identity.person_id == tkey(TOM)
    welcome = teams_app.messages_to(TOM)
    assert len(welcome) == 1 and welcome[0]["attachments"]  # a card, in Tom's language


async def test_a_message_delivered_twice_is_answered_once(teams_app):
    activity = teams_app.activity(TARA, "message", text="help")

    first = await teams_app.post(activity)
    again = await teams_app.post(activity)  # Teams' retry keeps the activity's id

    assert first.status_code == again.status_code == 200
    assert len(teams_app.messages_to(TARA)) == 1


async def test_someone_not_in_the_org_chart_is_told_so_and_nothing_is_stored(teams_app):
    stranger = TeamsUser("00000000-0000-4000-8000-00000000ffff", "Stan Ger")

    response = await teams_app.say(stranger, "checkin")

    assert response.status_code == 200
    said = teams_app.messages_to(stranger)
    assert len(said) == 1 and "org chart" in json.dumps(said[0])
    async with session_scope(teams_app.deps.engine) as session:
        count = await session.execute(
            select(func.count())
            .select_from(ChatIdentity)
            .where(ChatIdentity.user_id == stranger.aad)
        )
        assert count.scalar_one() == 0


async def test_home_shows_a_managers_reports_with_a_button_to_log_a_talk_each(teams_app):
    await teams_app.install(TARA)

    await teams_app.say(TARA, "home")

    [_welcome, overview] = teams_app.messages_to(TARA)
    shown = json.dumps(overview, ensure_ascii=False)
    assert "Tom Li" in shown and "Tess Roy" in shown and "no talk logged yet" in shown
    opens = [
        a["data"]["e"]
        for a in elements(overview["attachments"])
        if a.get("type") == "Action.Submit" and a.get("data", {}).get("form") == "talk"
    ]
    assert sorted(opens) == sorted([tkey(TOM), tkey(TESS)])


async def test_checkin_answers_with_a_card_that_opens_the_form_in_a_dialog(teams_app):
    await teams_app.install(TARA)

    await teams_app.say(TARA, "checkin")
    card = teams_app.messages_to(TARA)[-1]["attachments"][0]["content"]
    [button] = card["actions"]
    picker = (await teams_app.fetch(TARA, button["data"])).json()

    assert button["type"] == "Action.Submit" and button["data"]["msteams"]["type"] == "task/fetch"
    value = picker["task"]["value"]
    assert picker["task"]["type"] == "continue" and value["title"] == "Log a talk"
    assert value["card"]["contentType"] == "application/vnd.microsoft.card.adaptive"
    [choice] = [e for e in elements(value["card"]) if e.get("type") == "Input.ChoiceSet"]
    assert {c["value"] for c in choice["choices"]} == {tkey(TOM), tkey(TESS)}
    form = await teams_app.submit(TARA, {"cadence": "submit", "form": "pick", "picked": tkey(TOM)})
    talk_form = form.json()["task"]["value"]["card"]["content"]
    labels = [e["label"] for e in elements(talk_form) if str(e.get("type")).startswith("Input.")]
    assert all(labels) and "Facts (事实): what happened" in labels


async def test_a_manager_cannot_open_the_form_for_someone_elses_report(teams_app):
    await teams_app.install(TESS)

    refused = (
        await teams_app.fetch(TESS, {"cadence": "form", "form": "talk", "e": tkey(TOM)})
    ).json()

    assert refused["task"]["type"] == "message"
    assert "manager" in refused["task"]["value"]


async def test_someone_the_org_file_names_only_by_email_is_recognised_on_first_contact(
    teams_app, engine
):
    newcomer = TeamsUser("00000000-0000-4000-8000-00000000abcd", "Nora Kim")
    async with session_scope(engine) as session:
        session.add(
            Person(
                id="tNORA",
                name="Nora Kim",
                email="Nora.Kim@example.com",
                manager_id=tkey(TARA),
                created_at=T0,
                updated_at=T0,
            )
        )
        await session.commit()
    teams_app.teams.add_member(
        newcomer.bf_id, name="Nora Kim", email="nora.kim@example.com", aad_object_id=newcomer.aad
    )

    await teams_app.install(newcomer)

    identity = await _identity(teams_app, newcomer)
    assert identity.person_id == "tNORA" and identity.conversation is not None
    assert "org chart" not in json.dumps(teams_app.messages_to(newcomer))  # welcomed, not refused


async def test_a_stranger_is_looked_up_at_most_hourly(teams_app):
    stranger = TeamsUser("00000000-0000-4000-8000-00000000eeee", "Stan Ger")

    for _ in range(3):
        await teams_app.say(stranger, "help")

    assert len(teams_app.teams.calls_to("member")) == 1


async def test_anonymous_mode_answers_without_tokens_and_warns(
    engine, policy, clock, database_url, fast_forward_time, caplog
):
    from bot.dev.teams_standin import TeamsStandIn
    from tests.teams_fixtures import TEAMS_ORG, add_teams_people, serve_teams

    await add_teams_people(engine, TEAMS_ORG)
    with TeamsStandIn(anonymous=True, clock=fast_forward_time.clock) as playground:
        async with serve_teams(
            engine, playground, policy, clock, database_url, fast_forward_time, anonymous=True
        ) as app:
            response = await app.post(app.activity(TOM, "message", text="help"), auth=False)

            assert response.status_code == 200
            [answer] = app.messages_to(TOM)
            assert answer["attachments"]
    assert "ANONYMOUS_ALLOWED is on" in caplog.text
