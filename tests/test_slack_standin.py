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

from bot.dev.slack_standin import SlackStandIn, manifest_scopes

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
    view = client.views_open(trigger_id=slack.issue_trigger("U1"), view=MODAL)["view"]
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


def test_views_update_by_external_id(slack: SlackStandIn, client: WebClient) -> None:
    trigger = slack.issue_trigger("U1")
    pushed = client.views_push(trigger_id=trigger, view={**MODAL, "external_id": "ext-1"})["view"]
    updated = client.views_update(external_id="ext-1", view=MODAL)["view"]
    assert updated["id"] == pushed["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_open(
            trigger_id=slack.issue_trigger("U1"), view={**MODAL, "external_id": "ext-1"}
        )
    assert err.value.response["error"] == "duplicate_external_id"


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


# ---------------------------------------------------------------- Block Kit, as Slack refuses it
def section(text: str = "hi", **extra: object) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str = "go", text: str = "Go", **extra: object) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        **extra,
    }


def actions(*elements: dict, **extra: object) -> dict:
    return {"type": "actions", "elements": list(elements), **extra}


def option(text: str = "One", value: str = "1", **extra: object) -> dict:
    return {"text": {"type": "plain_text", "text": text}, "value": value, **extra}


def select(options: list[dict], kind: str = "static_select", **extra: object) -> dict:
    return {"type": kind, "action_id": "pick", "options": options, **extra}


def plain_input(**element: object) -> dict:
    return {
        "type": "input",
        "block_id": "answer",
        "label": {"type": "plain_text", "text": "Answer"},
        "element": {"type": "plain_text_input", "action_id": "value", **element},
    }


def refusal(err: pytest.ExceptionInfo[SlackApiError]) -> tuple[str, list[str]]:
    body = err.value.response.data
    return body["error"], body.get("response_metadata", {}).get("messages", [])


# Each case: a message's blocks Slack refuses, and the JSON pointer its error names.
INVALID_MESSAGE_BLOCKS = {
    "duplicate action_id in an actions block": (
        [actions(button("nudge_log_talk"), button("nudge_log_talk"))],
        "/blocks/0/elements/1/action_id",
    ),
    "duplicate block_id": (
        [section(block_id="b1"), section(block_id="b1")],
        "/blocks/1/block_id",
    ),
    "block_id over 255": ([section(block_id="b" * 256)], "/blocks/0/block_id"),
    "action_id over 255": ([actions(button("a" * 256))], "/blocks/0/elements/0/action_id"),
    "51 blocks": ([section() for _ in range(51)], "/blocks"),
    "section text over 3000": ([section("x" * 3001)], "/blocks/0/text/text"),
    "empty section text": ([section("")], "/blocks/0/text/text"),
    "section without text or fields": ([{"type": "section"}], "/blocks/0"),
    "11 section fields": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "/blocks/0/fields",
    ),
    "section field over 2000": (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "/blocks/0/fields/0/text",
    ),
    "mrkdwn header": (
        [{"type": "header", "text": {"type": "mrkdwn", "text": "*Hi*"}}],
        "/blocks/0/text/type",
    ),
    "header over 150": (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "/blocks/0/text/text",
    ),
    "emoji on mrkdwn": (
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}],
        "/blocks/0/text/emoji",
    ),
    "unknown text type": (
        [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
        "/blocks/0/text/type",
    ),
    "11 context elements": (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "/blocks/0/elements",
    ),
    "26 buttons in an actions block": (
        [actions(*(button(f"b{i}") for i in range(26)))],
        "/blocks/0/elements",
    ),
    "button text over 75": ([actions(button(text="t" * 76))], "/blocks/0/elements/0/text/text"),
    "mrkdwn button text": (
        [actions({**button(), "text": {"type": "mrkdwn", "text": "Go"}})],
        "/blocks/0/elements/0/text/type",
    ),
    "button value over 2000": (
        [actions(button(value="v" * 2001))],
        "/blocks/0/elements/0/value",
    ),
    "button url over 3000": (
        [actions(button(url="https://x.example/" + "u" * 3000))],
        "/blocks/0/elements/0/url",
    ),
    "101 select options": (
        [actions(select([option(value=str(i)) for i in range(101)]))],
        "/blocks/0/elements/0/options",
    ),
    "option text over 75": (
        [actions(select([option("o" * 76)]))],
        "/blocks/0/elements/0/options/0/text/text",
    ),
    "option value over 150": (
        [actions(select([option(value="v" * 151)]))],
        "/blocks/0/elements/0/options/0/value",
    ),
    "option description over 75": (
        [actions(select([option(description={"type": "plain_text", "text": "d" * 76})]))],
        "/blocks/0/elements/0/options/0/description/text",
    ),
    "mrkdwn option in a select": (
        [actions(select([{"text": {"type": "mrkdwn", "text": "*1*"}, "value": "1"}]))],
        "/blocks/0/elements/0/options/0/text/type",
    ),
    "initial option not among the options": (
        [actions(select([option()], initial_option=option("Two", "2")))],
        "/blocks/0/elements/0/initial_option",
    ),
    "101 multi-select options": (
        [actions(select([option(value=str(i)) for i in range(101)], "multi_static_select"))],
        "/blocks/0/elements/0/options",
    ),
    "placeholder over 150": (
        [actions(select([option()], placeholder={"type": "plain_text", "text": "p" * 151}))],
        "/blocks/0/elements/0/placeholder/text",
    ),
    "six overflow options": (
        [actions({**select([option(value=str(i)) for i in range(6)]), "type": "overflow"})],
        "/blocks/0/elements/0/options",
    ),
    "11 checkboxes": (
        [actions({**select([option(value=str(i)) for i in range(11)]), "type": "checkboxes"})],
        "/blocks/0/elements/0/options",
    ),
    "11 radio buttons": (
        [actions({**select([option(value=str(i)) for i in range(11)]), "type": "radio_buttons"})],
        "/blocks/0/elements/0/options",
    ),
    "datepicker date not YYYY-MM-DD": (
        [actions({"type": "datepicker", "action_id": "d", "initial_date": "2026-13-01"})],
        "/blocks/0/elements/0/initial_date",
    ),
    "unknown block type": ([{"type": "sectoin", "text": "x"}], "/blocks/0/type"),
    "unknown element type": (
        [actions({"type": "buton", "action_id": "b"})],
        "/blocks/0/elements/0/type",
    ),
    "text input in an actions block": (
        [actions({"type": "plain_text_input", "action_id": "t"})],
        "/blocks/0/elements/0/type",
    ),
    "input block in a message without dispatch_action": (
        [plain_input()],
        "/blocks/0/dispatch_action",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_MESSAGE_BLOCKS))
def test_a_message_slack_would_refuse_is_invalid_blocks(client: WebClient, case: str) -> None:
    blocks, pointer = INVALID_MESSAGE_BLOCKS[case]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    error, messages = refusal(err)
    assert error == "invalid_blocks"
    assert any(
        m.startswith("[ERROR] ") and m.endswith(f"[json-pointer:{pointer}]") for m in messages
    )


def test_every_refused_rule_is_listed_not_just_the_first(client: WebClient) -> None:
    blocks = [section("x" * 3001, block_id="b"), section(block_id="b"), actions(button(), button())]
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="fallback", blocks=blocks)
    error, messages = refusal(err)
    assert error == "invalid_blocks"
    assert [m.rsplit("[json-pointer:", 1)[1] for m in messages] == [
        "/blocks/0/text/text]",
        "/blocks/1/block_id]",
        "/blocks/2/elements/1/action_id]",
    ]
    assert err.value.response.data["errors"] == [m.removeprefix("[ERROR] ") for m in messages]


def test_one_action_id_in_different_blocks_is_fine(client: WebClient) -> None:
    blocks = [actions(button("nudge_log_talk")), actions(button("nudge_log_talk"))]
    assert client.chat_postMessage(channel="C1", text="t", blocks=blocks)["ok"] is True


def test_blocks_built_with_slack_sdk_models_are_accepted(slack: SlackStandIn) -> None:
    """What slack_sdk builds and validates, Slack takes: the stand-in is not stricter."""
    from slack_sdk.models import blocks as bk
    from slack_sdk.models.views import View

    opts = [bk.Option(text=f"Option {i}", value=str(i)) for i in range(3)]
    message = [
        bk.HeaderBlock(text="Check-in"),
        bk.SectionBlock(
            block_id="s1",
            text=bk.MarkdownTextObject(text="*Facts*"),
            fields=[bk.MarkdownTextObject(text="a"), bk.PlainTextObject(text="b")],
            accessory=bk.StaticSelectElement(
                action_id="pick", placeholder="Pick", options=opts, initial_option=opts[1]
            ),
        ),
        bk.DividerBlock(),
        bk.ContextBlock(
            elements=[
                bk.ImageElement(image_url="https://x.example/a.png", alt_text="a"),
                bk.MarkdownTextObject(text="_note_"),
            ]
        ),
        bk.ActionsBlock(
            elements=[
                bk.ButtonElement(text="Yes", action_id="yes", value="1", style="primary"),
                bk.ButtonElement(text="Open", action_id="open", url="https://x.example"),
                bk.OverflowMenuElement(action_id="more", options=opts[:2]),
                bk.DatePickerElement(action_id="day", initial_date="2026-12-01"),
                bk.CheckboxesElement(action_id="boxes", options=opts, initial_options=opts[:1]),
                bk.RadioButtonsElement(action_id="radio", options=opts, initial_option=opts[0]),
                bk.UserSelectElement(action_id="who", placeholder="Who"),
            ]
        ),
        bk.ImageBlock(image_url="https://x.example/b.png", alt_text="b", title="B"),
        bk.InputBlock(
            label="Quick note",
            element=bk.PlainTextInputElement(action_id="note", max_length=200),
            dispatch_action=True,
        ),
    ]
    inputs = [
        bk.InputBlock(
            block_id=name,
            label=name,
            element=element,
            hint="A hint",
            optional=True,
        )
        for name, element in {
            "text": bk.PlainTextInputElement(
                action_id="t", multiline=True, min_length=1, max_length=3000, initial_value="hi"
            ),
            "day": bk.DatePickerElement(action_id="d"),
            "number": bk.NumberInputElement(
                action_id="n", is_decimal_allowed=False, min_value="1", max_value="5"
            ),
            "choice": bk.StaticSelectElement(
                action_id="c", option_groups=[bk.OptionGroup(label="G", options=opts)]
            ),
            "many": bk.StaticMultiSelectElement(action_id="m", options=opts, max_selected_items=2),
            "email": bk.EmailInputElement(action_id="e"),
        }.items()
    ]
    modal = View(
        type="modal",
        callback_id="c",
        title="A form",
        submit="Save",
        close="Cancel",
        private_metadata="{}",
        blocks=[*message[:6], *inputs],
    )
    home = View(type="home", blocks=[*message, *inputs])
    for model in (*message, modal, home):
        model.validate_json()
    client = WebClient(token="xoxb-test", base_url=slack.base_url)
    blocks = [b.to_dict() for b in message]
    assert client.chat_postMessage(channel="C1", text="t", blocks=blocks)["ok"] is True
    assert client.views_open(trigger_id=slack.issue_trigger("U1"), view=modal)["ok"] is True
    assert client.views_publish(user_id="U1", view=home)["ok"] is True


def test_message_text_and_size_limits(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x" * 40_001)
    assert refusal(err)[0] == "msg_too_long"
    assert client.chat_postMessage(channel="C1", text="x" * 40_000)["ok"] is True

    four = [section("x" * 3000) for _ in range(4)]  # 12,000 characters: the most Slack takes
    assert client.chat_postMessage(channel="C1", text="t", blocks=four)["ok"] is True
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="t", blocks=[*four, section("y")])
    assert refusal(err)[0] == "msg_blocks_too_long"

    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", json={"channel": "C1", "blocks": []})
    assert refusal(err)[0] == "no_text"
    with pytest.raises(SlackApiError) as err:
        client.api_call("chat.postMessage", json={"channel": "C1", "blocks": {"type": "x"}})
    assert refusal(err)[0] == "invalid_blocks_format"


def test_update_ephemeral_and_response_url_are_checked_too(
    slack: SlackStandIn, client: WebClient
) -> None:
    twins = [actions(button("same"), button("same"))]
    ts = client.chat_postMessage(channel="C1", text="v1")["ts"]
    with pytest.raises(SlackApiError) as err:
        client.chat_update(channel="C1", ts=ts, text="v2", blocks=twins)
    assert refusal(err)[0] == "invalid_blocks"
    with pytest.raises(SlackApiError) as err:
        client.chat_postEphemeral(channel="C1", user="U1", text="psst", blocks=twins)
    assert refusal(err)[0] == "invalid_blocks"
    assert slack.messages_in("C1")[0]["text"] == "v1"  # the refused update changed nothing

    webhook = WebhookClient(slack.response_url("cmd"))
    refused = webhook.send(text="t", blocks=twins)
    assert refused.status_code == 400
    assert json.loads(refused.body)["error"] == "invalid_blocks"
    assert webhook.send(text="fine", blocks=[section()]).status_code == 200
    assert webhook.send(delete_original=True).status_code == 200
    assert [c.status for c in slack.calls_to("response_url")] == [400, 200, 200]


# ---------------------------------------------------------------- views
def modal(*blocks: dict, **extra: object) -> dict:
    return {**MODAL, "blocks": list(blocks) or BLOCKS, **extra}


INVALID_VIEWS = {
    "title over 24": (modal(title={"type": "plain_text", "text": "t" * 25}), "/view/title/text"),
    "no title": ({"type": "modal", "blocks": BLOCKS}, "/view"),
    "mrkdwn title": (modal(title={"type": "mrkdwn", "text": "T"}), "/view/title/type"),
    "submit over 24": (
        modal(plain_input(), submit={"type": "plain_text", "text": "s" * 25}),
        "/view/submit/text",
    ),
    "close over 24": (modal(close={"type": "plain_text", "text": "c" * 25}), "/view/close/text"),
    "input blocks without submit": (modal(plain_input()), "/view"),
    "101 blocks": (modal(*(section() for _ in range(101))), "/view/blocks"),
    "private_metadata over 3000": (modal(private_metadata="m" * 3001), "/view/private_metadata"),
    "callback_id over 255": (modal(callback_id="c" * 256), "/view/callback_id"),
    "label over 2000": (
        modal(
            {**plain_input(), "label": {"type": "plain_text", "text": "l" * 2001}},
            submit={"type": "plain_text", "text": "Save"},
        ),
        "/view/blocks/0/label/text",
    ),
    "hint over 2000": (
        modal(
            {**plain_input(), "hint": {"type": "plain_text", "text": "h" * 2001}},
            submit={"type": "plain_text", "text": "Save"},
        ),
        "/view/blocks/0/hint/text",
    ),
    "max_length 0": (
        modal(plain_input(max_length=0), submit={"type": "plain_text", "text": "Save"}),
        "/view/blocks/0/element/max_length",
    ),
    "max_length over 3000": (
        modal(plain_input(max_length=3001), submit={"type": "plain_text", "text": "Save"}),
        "/view/blocks/0/element/max_length",
    ),
    "initial value longer than max_length": (
        modal(
            plain_input(max_length=3, initial_value="four"),
            submit={"type": "plain_text", "text": "Save"},
        ),
        "/view/blocks/0/element/initial_value",
    ),
    "duplicate block_id": (
        modal(section(block_id="x"), section(block_id="x")),
        "/view/blocks/1/block_id",
    ),
    "a home view opened as a modal": ({"type": "home", "blocks": BLOCKS}, "/view/type"),
    "two elements with focus_on_load": (
        modal(
            plain_input(focus_on_load=True),
            {**plain_input(focus_on_load=True), "block_id": "again"},
            submit={"type": "plain_text", "text": "Save"},
        ),
        "/view/blocks/1/element/focus_on_load",
    ),
    "file blocks only live in messages": (
        modal({"type": "file", "external_id": "e", "source": "remote"}),
        "/view/blocks/0/type",
    ),
}


@pytest.mark.parametrize("case", list(INVALID_VIEWS))
def test_a_view_slack_would_refuse_is_invalid_arguments(
    slack: SlackStandIn, client: WebClient, case: str
) -> None:
    view, pointer = INVALID_VIEWS[case]
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=slack.issue_trigger("U1"), view=view)
    error, messages = refusal(err)
    assert error == "invalid_arguments"
    assert any(m.endswith(f"[json-pointer:{pointer}]") for m in messages), messages


def test_app_home_pager_with_one_action_id_twice_is_refused(client: WebClient) -> None:
    pager = actions(button("home_page", "Previous"), button("home_page", "Next"))
    with pytest.raises(SlackApiError) as err:
        client.views_publish(user_id="U1", view={"type": "home", "blocks": [pager]})
    error, messages = refusal(err)
    assert error == "invalid_arguments"
    assert messages == [
        "[ERROR] duplicate action_id within the block "
        "[json-pointer:/view/blocks/0/elements/1/action_id]"
    ]
    home = {"type": "home", "blocks": [plain_input(dispatch_action=True)]}  # inputs live here
    assert client.views_publish(user_id="U1", view=home)["ok"] is True


def test_views_publish_over_250_kb_is_refused(client: WebClient) -> None:
    big = {"type": "home", "blocks": [section("é" * 1500) for _ in range(90)]}  # 270 kB
    with pytest.raises(SlackApiError) as err:
        client.views_publish(user_id="U1", view=big)
    assert refusal(err)[0] == "invalid_arguments"
    small = {"type": "home", "blocks": [section("e" * 2000) for _ in range(100)]}  # 210 kB
    assert client.views_publish(user_id="U1", view=small)["ok"] is True


# ---------------------------------------------------------------- trigger_id
def test_a_trigger_opens_one_view_once(slack: SlackStandIn, client: WebClient) -> None:
    trigger = slack.issue_trigger("U1")
    with pytest.raises(SlackApiError) as err:  # a refused view leaves the trigger unused
        client.views_open(trigger_id=trigger, view=modal(section("")))
    assert refusal(err)[0] == "invalid_arguments"
    assert client.views_open(trigger_id=trigger, view=MODAL)["ok"] is True
    for method in (client.views_open, client.views_push):
        with pytest.raises(SlackApiError) as err:
            method(trigger_id=trigger, view=MODAL)
        assert refusal(err)[0] == "exchanged_trigger_id"


def test_an_unknown_trigger_is_invalid(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="12345.98765.abcdef", view=MODAL)
    assert refusal(err)[0] == "invalid_trigger_id"


def test_a_trigger_expires(slack: SlackStandIn, client: WebClient) -> None:
    assert slack.trigger_ttl == 3.0
    slack.trigger_ttl = 0.0  # any time at all is too late
    trigger = slack.issue_trigger("U1")
    with pytest.raises(SlackApiError) as err:
        client.views_push(trigger_id=trigger, view=MODAL)
    assert refusal(err)[0] == "expired_trigger_id"
    slack.trigger_ttl = 60.0
    assert client.views_push(trigger_id=trigger, view=MODAL)["ok"] is True


# ---------------------------------------------------------------- history and metadata
def meta(row: int) -> dict:
    return {"event_type": "cadence_outbox", "event_payload": {"row": row}}


def test_history_is_newest_first_and_shows_metadata_only_when_asked(
    slack: SlackStandIn, client: WebClient
) -> None:
    from slack_sdk.models.metadata import Metadata

    dm = client.conversations_open(users="U1")["channel"]["id"]
    assert client.conversations_history(channel=dm)["messages"] == []
    first = client.chat_postMessage(channel=dm, text="one", metadata=meta(1))["ts"]
    second = client.chat_postMessage(
        channel=dm, text="two", metadata=Metadata(event_type="cadence_outbox", event_payload={})
    )["ts"]
    plain = client.conversations_history(channel=dm)
    assert [m["ts"] for m in plain["messages"]] == [second, first]
    assert all("metadata" not in m for m in plain["messages"])
    assert plain["has_more"] is False
    full = client.conversations_history(channel=dm, include_all_metadata=True)["messages"]
    assert [m.get("metadata") for m in full] == [{"event_type": "cadence_outbox"}, meta(1)]
    assert {m["user"] for m in full} == {"UBOT"} and {m["bot_id"] for m in full} == {"B0001"}
    assert [m["text"] for m in slack.messages_in(dm)] == ["one", "two"]
    reply = slack.say(dm, "U1", "thanks")
    [latest] = client.conversations_history(channel=dm, limit=1, include_all_metadata=True)[
        "messages"
    ]
    assert (latest["ts"], latest["user"], "bot_id" in latest) == (reply, "U1", False)


def test_history_pages_with_a_cursor_and_honours_oldest_latest_inclusive(
    client: WebClient,
) -> None:
    stamps = [client.chat_postMessage(channel="DU1", text=str(i))["ts"] for i in range(5)]
    seen, cursor, pages = [], None, 0
    while True:
        page = client.conversations_history(channel="DU1", limit=2, cursor=cursor)
        seen += [m["text"] for m in page["messages"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not cursor:
            break
    assert (seen, pages) == (["4", "3", "2", "1", "0"], 3)

    def texts_between(**bounds: object) -> list[str]:
        return [
            m["text"] for m in client.conversations_history(channel="DU1", **bounds)["messages"]
        ]

    assert texts_between(oldest=stamps[1], latest=stamps[3]) == ["2"]
    assert texts_between(oldest=stamps[1], latest=stamps[3], inclusive=True) == ["3", "2", "1"]
    assert texts_between(oldest=stamps[3]) == ["4"]
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel="DU1", cursor="not-a-cursor!")
    assert refusal(err)[0] == "invalid_cursor"
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel="DU1", oldest="yesterday")
    assert refusal(err)[0] == "invalid_ts_oldest"


def test_history_of_an_unknown_channel_is_channel_not_found(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel="DU404")
    assert refusal(err)[0] == "channel_not_found"


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"event_type": "has space", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "x" * 256, "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "ok_type", "event_payload": "row 1"}, "invalid_metadata_schema"),
        ({"event_type": 7, "event_payload": {}}, "invalid_metadata_schema"),
        ("not json", "invalid_metadata_format"),
        (["a", "list"], "invalid_metadata_format"),
    ],
)
def test_invalid_metadata_is_refused(slack: SlackStandIn, metadata: object, error: str) -> None:
    fields = {"token": "xoxb-test", "channel": "C1", "text": "t"}
    fields["metadata"] = metadata if isinstance(metadata, str) else json.dumps(metadata)
    assert raw_post(slack.base_url + "chat.postMessage", fields) == {"ok": False, "error": error}
    assert slack.messages_in("C1") == []


def test_update_and_delete_change_what_history_holds(
    slack: SlackStandIn, client: WebClient
) -> None:
    ts = client.chat_postMessage(channel="DU1", text="v1", blocks=BLOCKS)["ts"]
    client.chat_update(channel="DU1", ts=ts, text="v2")
    [message] = slack.messages_in("DU1")
    assert (message["text"], message["blocks"], message["edited"]["user"]) == ("v2", BLOCKS, "UBOT")
    client.chat_postEphemeral(channel="DU1", user="U1", text="only you")
    assert [m["text"] for m in slack.messages_in("DU1")] == ["v2"]  # ephemerals are not kept
    for method in (client.chat_update, client.chat_delete):
        with pytest.raises(SlackApiError) as err:
            method(channel="DU1", ts="1.000001", text="x")
        assert refusal(err)[0] == "message_not_found"
    client.chat_delete(channel="DU1", ts=ts)
    assert slack.messages_in("DU1") == []


def test_posting_to_a_user_id_lands_in_their_dm(slack: SlackStandIn, client: WebClient) -> None:
    assert client.chat_postMessage(channel="U7", text="hi")["channel"] == "DU7"
    assert [m["text"] for m in slack.messages_in("DU7")] == ["hi"]


# ---------------------------------------------------------------- scopes and tokens
def test_the_manifest_grants_the_scopes_by_default(slack: SlackStandIn) -> None:
    assert slack.scopes == manifest_scopes()
    assert {"chat:write", "im:write", "im:history", "users:read", "files:write"} <= slack.scopes


@pytest.mark.parametrize(
    ("call", "needed"),
    [
        (lambda c: c.chat_postMessage(channel="C1", text="t"), "chat:write"),
        (lambda c: c.chat_update(channel="C1", ts="1.1", text="t"), "chat:write"),
        (lambda c: c.chat_delete(channel="C1", ts="1.1"), "chat:write"),
        (lambda c: c.chat_postEphemeral(channel="C1", user="U1", text="t"), "chat:write"),
        (lambda c: c.conversations_open(users="U1"), "im:write"),
        (lambda c: c.conversations_history(channel="DU1"), "im:history"),
        (lambda c: c.users_info(user="U1"), "users:read"),
        (lambda c: c.users_list(), "users:read"),
        (lambda c: c.users_lookupByEmail(email="a@example.com"), "users:read.email"),
        (lambda c: c.files_getUploadURLExternal(filename="a", length=1), "files:write"),
    ],
)
def test_a_method_without_its_scope_is_missing_scope(call, needed: str) -> None:
    with SlackStandIn(scopes=["commands"]) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        with pytest.raises(SlackApiError) as err:
            call(client)
    assert err.value.response.data == {
        "ok": False,
        "error": "missing_scope",
        "needed": needed,
        "provided": "commands",
    }


def test_views_and_auth_test_need_no_scope() -> None:
    with SlackStandIn(scopes=[]) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        assert client.auth_test()["ok"] is True
        assert client.views_open(trigger_id=slack.issue_trigger("U1"), view=MODAL)["ok"] is True
        assert client.views_publish(user_id="U1", view={"type": "home", "blocks": []})["ok"]


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive", "invalid_auth"])
def test_a_revoked_token_fails_every_method_until_restored(
    slack: SlackStandIn, client: WebClient, error: str
) -> None:
    slack.revoke_token(error)
    for call in (
        client.auth_test,
        lambda: client.chat_postMessage(channel="C1", text="t"),
        lambda: client.views_publish(user_id="U1", view={"type": "home", "blocks": []}),
    ):
        with pytest.raises(SlackApiError) as err:
            call()
        assert err.value.response.data == {"ok": False, "error": error}
    slack.restore_token()
    assert client.auth_test()["ok"] is True
    with pytest.raises(ValueError):
        slack.revoke_token("user_not_found")  # about a person, not the token


def test_an_unreachable_person_fails_only_their_own_dm(
    slack: SlackStandIn, client: WebClient
) -> None:
    dm = client.conversations_open(users="U2")["channel"]["id"]
    slack.make_unreachable("U2", "cannot_dm_bot")
    with pytest.raises(SlackApiError) as err:
        client.conversations_open(users="U2")
    assert refusal(err)[0] == "cannot_dm_bot"
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel=dm, text="t")
    assert refusal(err)[0] == "cannot_dm_bot"
    assert client.chat_postMessage(channel="DU3", text="t")["ok"] is True
    assert client.auth_test()["ok"] is True
    with pytest.raises(ValueError):
        slack.make_unreachable("U2", "token_revoked")


# ---------------------------------------------------------------- per-channel rate limit
def test_posts_are_limited_per_channel_when_asked(slack: SlackStandIn, client: WebClient) -> None:
    for _ in range(5):  # off by default
        client.chat_postMessage(channel="C0", text="x")
    slack.set_channel_rate_limit(per_second=0.01, burst=2, retry_after=4)
    for channel in ("C1", "C1", "C2"):
        assert client.chat_postMessage(channel=channel, text="x")["ok"] is True
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "4"
    assert client.chat_postMessage(channel="C2", text="x")["ok"] is True  # its own channel
    assert client.chat_postEphemeral(channel="C1", user="U1", text="x")["ok"] is True
    assert len(slack.messages_in("C1")) == 2
    slack.set_channel_rate_limit(None)
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True


def test_each_call_records_the_answer(slack: SlackStandIn, client: WebClient) -> None:
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C1", text="t", blocks=[section("")])
    [call] = slack.calls_to("chat.postMessage")
    assert call.status == 200 and call.response is not None
    assert call.response["error"] == "invalid_blocks"


def test_views_update_needs_a_view_slack_opened_and_its_current_hash(
    slack: SlackStandIn, client: WebClient
) -> None:
    opened = client.views_open(trigger_id=slack.issue_trigger("U1"), view=MODAL)["view"]
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id="V404", view=MODAL)
    assert refusal(err)[0] == "not_found"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:  # the view changed since this hash was read
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert refusal(err)[0] == "hash_conflict"
    assert client.views_update(view_id=opened["id"], view=MODAL)["ok"] is True  # no hash: last wins
