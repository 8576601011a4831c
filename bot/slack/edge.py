"""The edge between Slack and the app: what a request must be before Bolt sees it.

In this order, each before any work is done for the request:
1. a body over `MAX_BODY` is refused with 413 before it is read whole (Content-Length, or
   counting while it streams), whatever its signature;
2. a request without Slack's valid signature (HMAC-SHA256 of `v0:{timestamp}:{body}` with
   the signing secret, timestamp within five minutes) is refused with 401;
3. a signed request that is not a Slack payload (not form or JSON as it says, a `payload`
   that is not a JSON object, no `type`) is refused with 400;
4. a signed request from another workspace, enterprise or app than the installed one (as
   `auth.test` says) is answered 200 with an empty body, so Slack does not retry, and
   nothing is done.
Bolt's own signature check is switched off because this one ran (Bolt's logs a refused
request's whole body). Nothing here logs a body: refusals log their reason and, for a
foreign workspace, its team id. What escapes Bolt is logged by its class and answered 500
with an empty body. Socket Mode has no signature; `GuardedSocketModeHandler` applies the
workspace check to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import metrics
from bot.clock import Clock, system_clock
from bot.logs import describe
from bot.request_body import Refused, read_bounded

log = logging.getLogger(__name__)

MAX_SKEW = 300  # seconds between Slack's timestamp and ours, as Slack documents


def signed_by_slack(
    body: bytes, timestamp: str, signature: str, secret: str, *, now: float
) -> bool:
    """Whether Slack signed this body (v0 HMAC-SHA256 with the signing secret) in the last
    five minutes. Compares in constant time; decodes nothing."""
    if not secret or not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_SKEW:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def parse_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """The Slack payload a body carries, or Refused(400): a form (a slash command, or
    interactivity's `payload=` JSON object), or a JSON object (Events API)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "a body that is not UTF-8") from None
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        try:
            fields = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            raise Refused(400, "a form that does not parse") from None
        form = {key: values[-1] for key, values in fields.items()}
        if "payload" in form:
            return _json_object(form["payload"], "interactivity payload")
        if form.get("ssl_check") == "1" or (form.get("command") and form.get("user_id")):
            return form
        raise Refused(400, "a form that is neither a command nor interactivity")
    if kind == "application/json":
        return _json_object(text, "event")
    raise Refused(400, f"content type {kind or 'none'}")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise Refused(400, f"an {what} that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise Refused(400, f"an {what} without a type")
    return data


# A payload's `type` → the kind `cadence_request_seconds` names it by; commands carry none.
REQUEST_KINDS = {
    "view_submission": "view_submission",
    "view_closed": "view_closed",
    "block_actions": "action",
    "block_suggestion": "options",
    "shortcut": "shortcut",
    "message_action": "shortcut",
    "event_callback": "event",
    "url_verification": "url_verification",
}


def request_kind(payload: Mapping[str, Any]) -> str:
    """What kind of request a parsed payload is, from its `type` (a command: its form's
    `command` field), one of a fixed set; anything else is "other"."""
    if payload.get("command") and "type" not in payload:
        return "command"
    kind = payload.get("type")
    return REQUEST_KINDS.get(kind, metrics.OTHER) if isinstance(kind, str) else metrics.OTHER


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _nested_id(payload: Mapping[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if isinstance(value, Mapping):
        return _text(value.get("id"))
    return _text(payload.get(f"{key}_id"))


@dataclass(frozen=True)
class Origin:
    """Where a request says it comes from."""

    team_ids: frozenset[str]
    enterprise_ids: frozenset[str]
    app_ids: frozenset[str]

    @property
    def team(self) -> str:
        """One team id to name in a log line (no other request data)."""
        return min(self.team_ids) if self.team_ids else "none"


def origin_of(payload: Mapping[str, Any]) -> Origin:
    """Every workspace, enterprise and app id a payload names (commands: form fields;
    interactivity: `team`, `enterprise`, `api_app_id`, and the view's; events: envelope)."""
    teams = {_nested_id(payload, "team")}
    enterprises = {_nested_id(payload, "enterprise")}
    apps = {_text(payload.get("api_app_id"))}
    view = payload.get("view")
    if isinstance(view, Mapping):
        teams.add(_text(view.get("team_id")))
        apps.add(_text(view.get("app_id")))
    return Origin(
        frozenset(t for t in teams if t),
        frozenset(e for e in enterprises if e),
        frozenset(a for a in apps if a),
    )


@dataclass(frozen=True)
class Installation:
    """The workspace the app is installed in, as `auth.test` says."""

    team_id: str | None
    enterprise_id: str | None
    app_id: str | None

    def serves(self, origin: Origin) -> bool:
        """Whether a request from `origin` is for this installation."""
        if any(team != self.team_id for team in origin.team_ids):
            return False
        if any(enterprise != self.enterprise_id for enterprise in origin.enterprise_ids):
            return False
        return self.app_id is None or all(app == self.app_id for app in origin.app_ids)


class InstalledWorkspace:
    """`auth.test` asked once (again after a failure), shared by every request."""

    def __init__(self, app: AsyncApp) -> None:
        self._app = app
        self._known: Installation | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> Installation:
        """The installation; raises Refused(503) while Slack cannot say."""
        if self._known is not None:
            return self._known
        async with self._lock:
            if self._known is None:
                try:
                    answer = await self._app.client.auth_test()
                except (SlackApiError, OSError, TimeoutError) as exc:
                    log.warning("auth.test failed (%s); requests wait for it", describe(exc))
                    raise Refused(503, "the installed workspace is not known yet") from exc
                self._known = Installation(
                    _text(answer.get("team_id")),
                    _text(answer.get("enterprise_id")),
                    _text(answer.get("app_id")),
                )
        return self._known

    async def admits(self, payload: Mapping[str, Any]) -> bool:
        """Whether a payload is for the installed workspace; a warning (team id only) if not."""
        origin = origin_of(payload)
        if (await self.get()).serves(origin):
            return True
        log.warning("ignored a request for another workspace (team %s)", origin.team)
        return False


class SlackEdge:
    """`POST /slack/events`: the checks above, then Bolt."""

    def __init__(self, app: AsyncApp, signing_secret: str, clock: Clock = system_clock) -> None:
        self.app, self.secret, self.clock = app, signing_secret, clock
        self.workspace = InstalledWorkspace(app)

    async def handle(self, request: Request) -> Response:
        """Answer one request from Slack, timed by its kind."""
        started, kind = time.perf_counter(), "refused"
        try:
            kind, response = await self._answer(request)
            return response
        finally:
            metrics.request("slack", kind, time.perf_counter() - started)

    async def _answer(self, request: Request) -> tuple[str, Response]:
        """The request's kind ("refused" until its payload is read) and the answer."""
        try:
            body = await read_bounded(request)
            timestamp = request.headers.get("x-slack-request-timestamp", "")
            signature = request.headers.get("x-slack-signature", "")
            now = self.clock().timestamp()
            if not signed_by_slack(body, timestamp, signature, self.secret, now=now):
                raise Refused(401, "no valid Slack signature")
            payload = parse_payload(body, request.headers.get("content-type", ""))
        except Refused as refused:
            log.warning("refused a request with %s: %s", refused.status, refused.reason)
            return "refused", Response(status_code=refused.status)
        kind = request_kind(payload)
        try:
            if payload.get("type") != "url_verification" and not await self.workspace.admits(
                payload
            ):
                return kind, Response(status_code=200)
        except Refused as refused:
            log.warning("refused a request with %s: %s", refused.status, refused.reason)
            return kind, Response(status_code=refused.status)
        try:
            # Bolt gets the payload the edge checked, as JSON: its own form parser takes any
            # form whose text holds the word "payload" (a command like `/checkin milestone
            # "payload API" …`) for interactivity and reads it as empty.
            headers: dict[str, str | Sequence[str]] = {
                **request.headers,
                "content-type": "application/json",
            }
            bolt_request = AsyncBoltRequest(
                body=json.dumps(payload), query=dict(request.query_params), headers=headers
            )
            return kind, to_starlette_response(await self.app.async_dispatch(bolt_request))
        except Exception as exc:
            log.error("a Slack request failed: %s", describe(exc))
            return kind, Response(status_code=500)


class GuardedSocketModeHandler(AsyncSocketModeHandler):
    """Socket Mode with the edge's workspace check (Socket Mode carries no signature)."""

    def __init__(self, app: AsyncApp, app_token: str | None) -> None:
        super().__init__(app, app_token)
        self.workspace = InstalledWorkspace(app)

    # Bolt's aiohttp handler narrows its base's client type to the aiohttp one (under the
    # same ignore); this override takes what that handler takes.
    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        """Acknowledge a foreign or malformed envelope with nothing done; else run Bolt."""
        started = time.perf_counter()
        payload = req.payload if isinstance(req.payload, dict) else {}
        kind = request_kind(payload) if payload else "refused"
        try:
            try:
                admitted = bool(payload) and await self.workspace.admits(payload)
            except Refused:
                admitted = False
            if not admitted:
                await send_async_response(client, req, BoltResponse(status=200, body=""), 0.0)
                return
            try:
                await super().handle(client, req)
            except Exception as exc:
                log.error("a Socket Mode request failed: %s", describe(exc))
        finally:
            metrics.request("slack", kind, time.perf_counter() - started)


def slack_routes(app: AsyncApp, *, signing_secret: str) -> list[Route]:
    """Slack's HTTP route, `POST /slack/events`, behind the edge."""
    edge = SlackEdge(app, signing_secret)

    async def slack_events(request: Request) -> Response:
        return await edge.handle(request)

    return [Route("/slack/events", slack_events, methods=["POST"])]
