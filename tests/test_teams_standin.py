"""The Bot Connector stand-in speaks the protocol the Microsoft 365 Agents SDK's own
`ConnectorClient` speaks, and refuses what Teams refuses: proven here through that client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from microsoft_agents.activity import Activity, Attachment, ChannelAccount, ConversationParameters
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.dev.teams_standin import ADAPTIVE_CARD, MESSAGE_LIMIT, TeamsStandIn

ELI = "0a0b0c0d-1111-2222-3333-444455556666"  # an Entra object id


@pytest.fixture
def teams() -> Iterator[TeamsStandIn]:
    with TeamsStandIn() as standin:
        yield standin


@pytest.fixture
async def client(teams: TeamsStandIn) -> AsyncIterator[ConnectorClient]:
    connector = ConnectorClient(teams.service_url, teams.token)
    yield connector
    await connector.close()


def card(version: str = "1.5", **extra: object) -> Attachment:
    content = {"type": "AdaptiveCard", "version": version, "body": [], **extra}
    return Attachment(content_type=ADAPTIVE_CARD, content=content)


def chat_with(user_id: str, tenant_id: str) -> ConversationParameters:
    return ConversationParameters(
        is_group=False,
        bot=ChannelAccount(id="28:cadence"),
        members=[ChannelAccount(id=user_id)],
        tenant_id=tenant_id,
    )


async def test_a_proactive_chat_needs_the_app_installed_for_the_user(teams, client):
    with pytest.raises(aiohttp.ClientResponseError) as refused:
        await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))
    assert refused.value.status == 403  # the SDK keeps the reason; Teams' code is in the body
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{teams.service_url}v3/conversations",
            json={"members": [{"id": ELI}], "tenantId": teams.tenant_id},
            headers={"Authorization": f"Bearer {teams.token}"},
        )
        assert (await response.json())["error"]["code"] == "BotNotInConversationRoster"

    teams.install(ELI)
    created = await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))
    again = await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))

    assert created.id and again.id == created.id  # one 1:1 chat per user


async def test_a_card_is_sent_recorded_and_updated_in_place(teams, client):
    teams.install(ELI)
    chat = await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))

    sent = await client.conversations.send_to_conversation(
        chat.id, Activity(type="message", text="Time for a check-in", attachments=[card()])
    )
    await client.conversations.update_activity(
        chat.id, sent.id, Activity(type="message", text="Snoozed", attachments=[card()])
    )

    [message] = teams.messages_with(ELI)
    assert (message["id"], message["text"]) == (sent.id, "Snoozed")
    assert message["attachments"][0]["contentType"] == ADAPTIVE_CARD
    assert [c.operation for c in teams.calls_to("send")] == ["send"]
    assert [c.status for c in teams.calls_to("update")] == [200]


@pytest.mark.parametrize(
    ("activity", "status"),
    [
        (Activity(type="message"), 400),  # neither text nor attachments
        (Activity(type="message", attachments=[card("1.6")]), 400),  # Teams renders up to 1.5
        (Activity(type="message", attachments=[card("1.5", body="not a list")]), 400),
        (Activity(type="message", text="x" * MESSAGE_LIMIT), 413),
    ],
)
async def test_what_teams_refuses_is_refused(teams, client, activity, status):
    teams.install(ELI)
    chat = await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))

    with pytest.raises(aiohttp.ClientResponseError) as refused:
        await client.conversations.send_to_conversation(chat.id, activity)

    assert refused.value.status == status
    assert teams.messages_with(ELI) == []


async def test_an_unknown_conversation_or_activity_is_not_found(teams, client):
    teams.install(ELI)
    chat = await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))

    for call in (
        client.conversations.send_to_conversation("a:nope", Activity(type="message", text="x")),
        client.conversations.update_activity(chat.id, "1nope", Activity(type="message", text="x")),
    ):
        with pytest.raises(aiohttp.ClientResponseError) as refused:
            await call
        assert refused.value.status == 404


async def test_a_request_without_the_bots_token_is_refused(teams):
    teams.install(ELI)
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{teams.service_url}v3/conversations",
            json={"members": [{"id": ELI}], "tenantId": teams.tenant_id},
        )
        assert response.status == 401
    assert teams.calls_to("create")[0].status == 401


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_failures_on_demand_come_once_with_retry_after_for_a_429(teams, client, status):
    teams.install(ELI)
    chat = await client.conversations.create_conversation(chat_with(ELI, teams.tenant_id))
    teams.fail_next("send", status, retry_after=2 if status == 429 else None)

    with pytest.raises(aiohttp.ClientResponseError) as failed:
        await client.conversations.send_to_conversation(
            chat.id, Activity(type="message", text="hello")
        )
    sent = await client.conversations.send_to_conversation(
        chat.id, Activity(type="message", text="hello")
    )

    assert failed.value.status == status
    assert (failed.value.headers or {}).get("Retry-After") == ("2" if status == 429 else None)
    assert sent.id and len(teams.messages_with(ELI)) == 1


def test_only_the_failures_the_connector_answers_can_be_asked_for():
    with pytest.raises(ValueError):
        TeamsStandIn().fail_next("send", 500)


def test_each_stand_in_signs_under_a_key_id_of_its_own(teams):
    import jwt

    with TeamsStandIn() as other:
        ids = {
            jwt.get_unverified_header(standin.token_for("bot"))["kid"] for standin in (teams, other)
        }
    # the SDK caches key sets by URL for the whole process: a later stand-in on a port an
    # earlier one used is then looked up by an id the cache lacks, so the keys are fetched anew
    assert len(ids) == 2
