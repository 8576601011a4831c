"""Tests for the Slack Web API stand-in, driven through the real slack_sdk clients."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from bot.slack_standin import SlackStandIn

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
MODAL = {
    "type": "modal",
    "callback_id": "checkin",
    "title": {"type": "plain_text", "text": "Check-in"},
    "blocks": BLOCKS,
}


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=slack.base_url)


def raw_post(url: str, fields: dict[str, str], timeout: float = 5.0) -> dict:
    data = urllib.parse.urlencode(fields).encode()
    with urllib.request.urlopen(url, data=data, timeout=timeout) as resp:
        return json.loads(resp.read())


def test_auth_test(slack: SlackStandIn, client: WebClient) -> None:
    resp = client.auth_test()
    assert resp["user_id"] == "UBOT"
    assert resp["team_id"] == "T0001"
    assert resp["bot_id"] == "B0001"
    [call] = slack.calls_to("auth.test")
    assert call.status == 200
    assert call.headers["Authorization"] == "Bearer xoxb-test"


def test_auth_failures(slack: SlackStandIn) -> None:
    assert raw_post(slack.base_url + "auth.test", {}) == {"ok": False, "error": "not_authed"}
    bad = raw_post(slack.base_url + "auth.test", {"token": "xoxb-wrong"})
    assert bad == {"ok": False, "error": "invalid_auth"}
    assert raw_post(slack.base_url + "auth.test", {"token": "xoxb-test"})["ok"] is True
    with pytest.raises(SlackApiError) as err:
        WebClient(token="nope", base_url=slack.base_url).auth_test()
    assert err.value.response["error"] == "invalid_auth"


def test_users_info_and_lookup(slack: SlackStandIn, client: WebClient) -> None:
    slack.add_user("U1", name="ana", email="Ana@example.com", tz="Asia/Tokyo", locale="ja-JP")
    user = client.users_info(user="U1", include_locale=True)["user"]
    assert user["id"] == "U1"
    assert user["tz"] == "Asia/Tokyo"
    assert user["tz_offset"] == 9 * 3600
    assert user["locale"] == "ja-JP"
    assert user["profile"]["email"] == "Ana@example.com"
    assert "locale" not in client.users_info(user="U1")["user"]

    assert client.users_lookupByEmail(email="ana@example.com")["user"]["id"] == "U1"
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U404")
    assert err.value.response["error"] == "user_not_found"
    with pytest.raises(SlackApiError) as err:
        client.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"


def test_users_list_paginates(slack: SlackStandIn, client: WebClient) -> None:
    for i in range(5):
        slack.add_user(f"U{i}", name=f"user{i}")
    seen, cursor = [], None
    while True:
        page = client.users_list(limit=2, cursor=cursor)
        seen += [m["id"] for m in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == [f"U{i}" for i in range(5)]
    assert len(slack.calls_to("users.list")) == 3
    with pytest.raises(SlackApiError) as err:
        client.users_list(cursor="bogus")
    assert err.value.response["error"] == "invalid_cursor"


def test_conversations_open_is_deterministic(client: WebClient) -> None:
    assert client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    assert client.conversations_open(users=["U1"])["channel"]["id"] == "DU1"


def test_post_message_records_decoded_blocks(slack: SlackStandIn, client: WebClient) -> None:
    first = client.chat_postMessage(channel="DU1", text="fallback", blocks=BLOCKS)
    second = client.chat_postMessage(channel="DU1", text="again")
    assert first["channel"] == "DU1"
    assert first["message"]["blocks"] == BLOCKS
    assert first["message"]["user"] == "UBOT"
    assert float(first["ts"]) < float(second["ts"])
    call = slack.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == BLOCKS
    assert call.params["text"] == "fallback"


def test_form_encoded_json_fields_are_decoded(slack: SlackStandIn) -> None:
    fields = {"token": "xoxb-test", "channel": "C1", "blocks": json.dumps(BLOCKS)}
    assert raw_post(slack.base_url + "chat.postMessage", fields)["ok"] is True
    assert slack.calls_to("chat.postMessage")[0].params["blocks"] == BLOCKS


def test_bad_json_body_is_recorded(slack: SlackStandIn) -> None:
    req = urllib.request.Request(
        slack.base_url + "chat.postMessage",
        data=b"{not json",
        headers={"Content-Type": "application/json", "Authorization": "Bearer xoxb-test"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert json.loads(resp.read()) == {"ok": False, "error": "channel_not_found"}
    assert slack.calls_to("chat.postMessage")[0].params == {}


def test_get_with_query_params(slack: SlackStandIn) -> None:
    url = (
        slack.base_url
        + "conversations.open?"
        + urllib.parse.urlencode({"token": "xoxb-test", "users": "U9"})
    )
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert json.loads(resp.read())["channel"]["id"] == "DU9"


def test_post_message_errors(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", json={"text": "no channel"})
    assert err.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", json={"channel": "C1"})
    assert err.value.response["error"] == "no_text"


def test_other_chat_methods(client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    updated = client.chat_update(channel="C1", ts=ts, text="v2")
    assert (updated["ts"], updated["text"]) == (ts, "v2")
    assert client.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"] > ts
    assert client.chat_delete(channel="C1", ts=ts)["ts"] == ts
    assert client.api_call("reactions.add", params={"name": "tada"})["ok"] is True


def test_views(slack: SlackStandIn, client: WebClient) -> None:
    view = client.views_open(trigger_id="123.456", view=MODAL)["view"]
    assert view["id"].startswith("V")
    assert view["callback_id"] == "checkin"
    assert view["state"] == {"values": {}}
    assert view["hash"]
    assert slack.calls_to("views.open")[0].params["view"] == MODAL

    with pytest.raises(SlackApiError) as err:
        client.api_call("views.open", json={"view": MODAL})
    assert err.value.response["error"] == "invalid_arguments"

    assert client.views_update(view_id=view["id"], view=MODAL)["view"]["id"] == view["id"]
    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["view"]
    assert home["type"] == "home"
    with pytest.raises(SlackApiError):
        client.api_call("views.publish", json={"view": {"type": "home", "blocks": []}})


def test_views_update_by_external_id(client: WebClient) -> None:
    pushed = client.views_push(trigger_id="t", view={**MODAL, "external_id": "ext-1"})["view"]
    updated = client.views_update(external_id="ext-1", view=MODAL)["view"]
    assert updated["id"] == pushed["id"]


def test_files_upload_v2_sync(slack: SlackStandIn, client: WebClient) -> None:
    resp = client.files_upload_v2(channel="C1", content="# notes", filename="x.md")
    assert resp["file"]["title"] == "x.md"
    [upload] = slack.calls_to("file_upload")
    assert upload.params == {"file_id": resp["file"]["id"], "content": "# notes"}


async def test_files_upload_v2_async(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    resp = await client.files_upload_v2(
        channel="C1", content="hello", filename="x.md", initial_comment="here"
    )
    file_id = resp["file"]["id"]
    assert [c.method for c in slack.calls] == [
        "files.getUploadURLExternal",
        "file_upload",
        "files.completeUploadExternal",
    ]
    assert slack.calls_to("files.getUploadURLExternal")[0].params["length"] == "5"
    assert slack.calls_to("file_upload")[0].params["content"] == "hello"
    complete = slack.calls_to("files.completeUploadExternal")[0].params
    assert complete["files"] == [{"id": file_id, "title": "x.md"}]
    assert complete["channel_id"] == "C1"
    assert complete["initial_comment"] == "here"


async def test_async_client_retries_after_429(slack: SlackStandIn) -> None:
    client = AsyncWebClient(
        token="xoxb-test",
        base_url=slack.base_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    resp = await client.chat_postMessage(channel="C1", text="hi")
    assert resp["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [429, 200]


def test_429_carries_retry_after(slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"


def test_server_errors_and_injected_errors(slack: SlackStandIn, client: WebClient) -> None:
    slack.fail_next("chat.postMessage", status=500)
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="hi")
    slack.fail_next("chat.postMessage", error="channel_not_found", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C1", text="hi")
        assert err.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="hi")["ok"] is True
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200, 200, 200]


async def test_async_client_server_error(slack: SlackStandIn) -> None:
    slack.fail_next("chat.postMessage", status=503)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 503


def test_delay_makes_client_time_out(slack: SlackStandIn) -> None:
    slack.fail_next("auth.test", delay=0.5)
    with pytest.raises((TimeoutError, socket.timeout, urllib.error.URLError)):
        raw_post(slack.base_url + "auth.test", {"token": "xoxb-test"}, timeout=0.1)
    [call] = slack.wait_for("auth.test")
    assert call.status == 200


def test_wait_for_from_another_thread(slack: SlackStandIn, client: WebClient) -> None:
    def post() -> None:
        for i in range(3):
            client.chat_postMessage(channel="C1", text=f"msg {i}")

    worker = threading.Thread(target=post)
    worker.start()
    calls = slack.wait_for("chat.postMessage", lambda c: c.params["text"] != "msg 0", count=2)
    worker.join()
    assert [c.params["text"] for c in calls] == ["msg 1", "msg 2"]


async def test_async_wait_for(slack: SlackStandIn) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
    task = asyncio.create_task(client.chat_postMessage(channel="DU1", text="later"))
    [call] = await slack.async_wait_for("chat.postMessage", lambda c: c.params["channel"] == "DU1")
    assert call.params["text"] == "later"
    assert (await task)["ok"] is True


def test_wait_for_timeout_lists_methods(slack: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"auth\.test x1"):
        slack.wait_for("chat.postMessage", timeout=0.05)


def test_rate_limit(slack: SlackStandIn, client: WebClient) -> None:
    slack.set_rate_limit("chat.postMessage", per_second=5, burst=2, retry_after=3)
    for _ in range(10):
        try:
            client.chat_postMessage(channel="C1", text="x")
        except SlackApiError as err:
            assert err.response.status_code == 429
    calls = slack.calls_to("chat.postMessage")
    statuses = [c.status for c in calls]
    assert len(statuses) == 10
    assert statuses[:2] == [200, 200]  # the burst
    assert 429 in statuses
    # after the burst, at most per_second * elapsed (+1 for a partial token) get through
    assert statuses.count(200) <= 2 + 5 * (calls[-1].at - calls[0].at) + 1
    assert client.auth_test()["ok"] is True  # other methods unaffected


def test_response_url(slack: SlackStandIn) -> None:
    resp = WebhookClient(slack.response_url("abc")).send(text="done", replace_original=True)
    assert resp.status_code == 200
    assert json.loads(resp.body) == {"ok": True}
    [call] = slack.calls_to("response_url")
    assert call.params == {"text": "done", "replace_original": True, "_key": "abc"}


def test_reset_keeps_users(slack: SlackStandIn, client: WebClient) -> None:
    slack.add_user("U1", name="ana")
    slack.fail_next("users.info", error="fatal_error")
    slack.set_rate_limit("users.info", per_second=0.001, burst=1)
    client.auth_test()
    slack.reset()
    assert slack.calls == []
    for _ in range(3):
        assert client.users_info(user="U1")["user"]["name"] == "ana"
    assert len(slack.calls) == 3


def test_concurrent_posts_get_unique_ts(slack: SlackStandIn, client: WebClient) -> None:
    results: list[str] = []

    def post() -> None:
        for _ in range(10):
            results.append(client.chat_postMessage(channel="C1", text="x")["ts"])

    workers = [threading.Thread(target=post) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(set(results)) == 40
    assert len(slack.wait_for("chat.postMessage", count=40, timeout=1)) == 40


def test_stop_closes_port() -> None:
    slack = SlackStandIn().start()
    url = slack.base_url + "auth.test"
    assert raw_post(url, {"token": "xoxb-test"})["ok"] is True
    slack.stop()
    slack.stop()  # idempotent
    with pytest.raises(urllib.error.URLError):
        raw_post(url, {"token": "xoxb-test"}, timeout=1)
