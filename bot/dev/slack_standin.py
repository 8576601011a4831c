"""A real HTTP server that answers like Slack's Web API, for tests and the offline demo.

It runs in its own thread with its own event loop and records every call. It refuses what
Slack refuses (Block Kit and view rules in ``bot.dev.slack_rules``; trigger ids that are unknown,
used or older than 3 s; missing scopes; a revoked token; people the bot cannot reach), keeps
the messages it accepted (``conversations.history``, ``messages_in``), and supports failure
injection (``fail_next``), per-method and per-channel rate limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from aiohttp import web

from bot.dev import slack_rules as rules
from bot.dev.loopback import LoopbackServer
from bot.dev.project_files import slack_manifest
from bot.dev.slack_workspace import Workspace, truthy

# Form fields that slack_sdk (and Slack) send as JSON-encoded strings.
JSON_FIELDS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "unfurls", "options", "outputs"}
)
TOKEN_ERRORS = frozenset(
    {"token_revoked", "account_inactive", "invalid_auth", "token_expired", "not_authed"}
)
RECIPIENT_ERRORS = frozenset(
    {"user_not_found", "user_disabled", "cannot_dm_bot", "user_not_visible", "is_archived"}
)
# The scope each method needs (method reference pages, "Required scopes"); others need none.
SCOPES = {
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
}
HISTORY_SCOPES = {"D": "im:history", "C": "channels:history", "G": "groups:history"}


@dataclass
class Call:
    """One recorded request."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int
    response: dict[str, Any] | None = None  # the JSON body answered, if any


@dataclass
class _Failure:
    status: int
    error: str | None
    retry_after: int | None
    delay: float


@dataclass
class _Bucket:
    per_second: float
    burst: int
    retry_after: int
    clock: Callable[[], float]
    tokens: float = 0.0
    stamp: float = field(init=False)

    def __post_init__(self) -> None:
        self.stamp = self.clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def manifest_scopes() -> frozenset[str]:
    """The bot scopes ``manifest.yaml`` asks for (what an installation grants)."""
    manifest = yaml.safe_load(slack_manifest().read_text(encoding="utf-8"))
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


def needed_scope(method: str, params: dict[str, Any]) -> str | None:
    """The scope Slack requires for this call, or None."""
    if method == "conversations.history":
        return HISTORY_SCOPES.get(str(params.get("channel") or "")[:1])
    if method == "conversations.open" and len(str(params.get("users") or "").split(",")) > 1:
        return "mpim:write"
    return SCOPES.get(method)


class SlackStandIn:
    """Slack Web API stand-in on 127.0.0.1; use as ``with SlackStandIn() as slack: ...``."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        scopes: Iterable[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bot_token, self.team_id, self.bot_user_id = bot_token, team_id, bot_user_id
        # monotonic seconds for `Call.at` and the rate limits: the tests hand in the clock the
        # bot under test waits on, so the gaps recorded are the ones the bot made
        self.clock = clock
        self.scopes = frozenset(manifest_scopes() if scopes is None else scopes)
        self.root_url = ""
        self.base_url = ""
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._channel_limit: tuple[float, int, int] | None = None
        self._channel_buckets: dict[str, _Bucket] = {}
        self._token_error: str | None = None
        self._workspace = Workspace(
            team_id=team_id, bot_user_id=bot_user_id, root_url=lambda: self.root_url
        )
        self._server = LoopbackServer("slack-standin", self._app)

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> SlackStandIn:
        """Start the server thread on a free port; block until it accepts requests."""
        if not self._server.running:
            self.root_url = self._server.start()
            self.base_url = f"{self.root_url}/api/"
        return self

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/respond/{key}", self._handle_respond)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        return app

    def stop(self) -> None:
        """Shut the server down and join its thread (idempotent)."""
        self._server.stop()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- test API
    @property
    def calls(self) -> list[Call]:
        """A snapshot copy of every recorded call, oldest first."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls to ``method``."""
        return [c for c in self.calls if c.method == method]

    def reset(self) -> None:
        """Forget calls, queued failures and rate limits; the workspace (users, messages) stays."""
        with self._cond:
            self._calls.clear()
            self._failures.clear()
            self._buckets.clear()
            self._channel_limit = None
            self._channel_buckets.clear()

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Block until ``count`` matching calls to ``method`` exist; return the first ``count``."""

        def matching() -> list[Call]:
            return [
                c for c in self._calls if c.method == method and (predicate is None or predicate(c))
            ]

        with self._cond:
            if self._cond.wait_for(lambda: len(matching()) >= count, timeout=timeout):
                return matching()[:count]
            got = len(matching())
            seen = Counter(c.method for c in self._calls)
            same = [c.params for c in self._calls if c.method == method][-5:]
        summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
        raise AssertionError(
            f"timed out after {timeout}s waiting for {count} call(s) to {method!r}"
            f"{' matching predicate' if predicate else ''}; got {got}. "
            f"Methods seen: {summary}. Last params for {method!r}: {same}"
        )

    async def async_wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Awaitable ``wait_for`` usable from any event loop."""
        return await asyncio.to_thread(
            self.wait_for, method, predicate, count=count, timeout=timeout
        )

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        email: str | None = None,
        tz: str = "UTC",
        locale: str = "en-US",
        deleted: bool = False,
        is_bot: bool = False,
    ) -> None:
        """Add (or replace) a user in the directory behind users.* methods."""
        ZoneInfo(tz)  # fail early on unknown zones
        with self._cond:
            self._workspace.users[user_id] = {
                "id": user_id,
                "name": name,
                "email": email,
                "tz": tz,
                "locale": locale,
                "deleted": deleted,
                "is_bot": is_bot,
            }

    def fail_next(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail (429, 5xx, or ok:false ``error``).

        ``delay`` seconds pass before answering; with status 200 and no error the call
        is only slowed down and then answered normally.
        """
        with self._cond:
            queue = self._failures.setdefault(method, deque())
            queue.extend(_Failure(status, error, retry_after, delay) for _ in range(times))

    def set_rate_limit(
        self, method: str, *, per_second: float, burst: int = 1, retry_after: int = 1
    ) -> None:
        """Token-bucket limit for ``method``; calls over it get HTTP 429 + Retry-After."""
        with self._cond:
            self._buckets[method] = _Bucket(
                per_second, burst, retry_after, self.clock, tokens=float(burst)
            )

    def set_channel_rate_limit(
        self, per_second: float | None = 1.0, *, burst: int = 3, retry_after: int = 1
    ) -> None:
        """Limit chat.postMessage per channel as Slack does (about 1/s, short bursts); None: off."""
        with self._cond:
            self._channel_buckets.clear()
            self._channel_limit = None if per_second is None else (per_second, burst, retry_after)

    @property
    def trigger_ttl(self) -> float:
        """Seconds an issued trigger_id stays usable (Slack: 3)."""
        return self._workspace.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        with self._cond:
            self._workspace.trigger_ttl = seconds

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as Slack sends with an interaction of ``user_id``: one use, 3 s."""
        with self._cond:
            return self._workspace.issue_trigger(user_id)

    def revoke_token(self, error: str = "token_revoked") -> None:
        """Make every method (auth.test included) answer ``error``: the installation is gone."""
        if error not in TOKEN_ERRORS:
            raise ValueError(f"not a token-level error: {error}")
        with self._cond:
            self._token_error = error

    def restore_token(self) -> None:
        """Undo ``revoke_token``."""
        with self._cond:
            self._token_error = None

    def make_unreachable(self, user_id: str, error: str = "user_not_found") -> None:
        """Make conversations.open with ``user_id``, and posts to their DM, answer ``error``."""
        if error not in RECIPIENT_ERRORS:
            raise ValueError(f"not a recipient error: {error}")
        with self._cond:
            self._workspace.unreachable[user_id] = error

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """The messages Slack holds in ``channel`` (as last updated), oldest first."""
        with self._cond:
            return json.loads(json.dumps(self._workspace.messages.get(channel, [])))

    def say(self, channel: str, user_id: str, text: str) -> str:
        """Post ``text`` as the person ``user_id`` in ``channel`` (seen in history); its ts."""
        with self._cond:
            return self._workspace.human_message(channel, user_id, text)

    def response_url(self, key: str = "r") -> str:
        """A URL whose POSTs are recorded as ``Call(method="response_url")`` with ``_key``."""
        return f"{self.root_url}/respond/{key}"

    # ---------------------------------------------------------------- HTTP plumbing
    def _record(
        self, method: str, params: dict[str, Any], request: web.Request, response: web.Response
    ) -> None:
        body = None
        if response.content_type == "application/json" and response.text:
            body = json.loads(response.text)
        call = Call(method, params, dict(request.headers), self.clock(), response.status, body)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    async def _injected(self, method: str) -> web.Response | None:
        """Apply a queued failure or the rate limit; return the response to send, if any."""
        with self._cond:
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
            bucket = self._buckets.get(method)
            limited = failure is None and bucket is not None and not bucket.take()
        if limited and bucket is not None:
            return self._ratelimited(bucket.retry_after)
        if failure is None:
            return None
        if failure.delay:
            await asyncio.sleep(failure.delay)
        if failure.status == 429:
            return self._ratelimited(failure.retry_after or 1)
        if failure.status >= 500 or (failure.status != 200 and not failure.error):
            return web.Response(status=failure.status, text=f"stand-in error {failure.status}")
        if failure.error:
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status)
        return None

    @staticmethod
    def _ratelimited(retry_after: int) -> web.Response:
        return web.json_response(
            {"ok": False, "error": "ratelimited"},
            status=429,
            headers={"Retry-After": str(retry_after)},
        )

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = None
                with contextlib.suppress(ValueError):  # bad JSON: the method sees no params
                    body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                params.update(
                    {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
                )
        for key in JSON_FIELDS & params.keys():
            value = params[key]
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(value)
        return params

    async def _answer(
        self,
        method: str,
        params: dict[str, Any],
        request: web.Request,
        build: Callable[[], web.Response],
    ) -> web.Response:
        response = await self._injected(method) or build()
        self._record(method, params, request, response)
        return response

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)

        def build() -> web.Response:
            auth = request.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else params.get("token")
            if not token:
                return web.json_response({"ok": False, "error": "not_authed"})
            if token != self.bot_token:
                return web.json_response({"ok": False, "error": "invalid_auth"})
            with self._cond:
                if self._token_error:
                    return web.json_response({"ok": False, "error": self._token_error})
                scope = needed_scope(method, params)
                if scope and scope not in self.scopes:
                    return web.json_response(self._missing_scope(scope))
                retry_after = self._channel_limited(method, params)
                if retry_after is not None:
                    return self._ratelimited(retry_after)
                handler = self._workspace.handlers.get(method, lambda _p: {"ok": True})
                return web.json_response(handler(params))

        return await self._answer(method, params, request, build)

    def _missing_scope(self, scope: str) -> dict[str, Any]:
        provided = ",".join(sorted(self.scopes))
        return {"ok": False, "error": "missing_scope", "needed": scope, "provided": provided}

    def _channel_limited(self, method: str, params: dict[str, Any]) -> int | None:
        """Retry-After seconds when this post is over its channel's limit (lock held)."""
        if method != "chat.postMessage" or self._channel_limit is None:
            return None
        per_second, burst, retry_after = self._channel_limit
        channel = self._workspace.channel_of(str(params.get("channel") or ""))
        bucket = self._channel_buckets.get(channel)
        if bucket is None:
            bucket = self._channel_buckets[channel] = _Bucket(
                per_second, burst, retry_after, self.clock, tokens=float(burst)
            )
        return None if bucket.take() else bucket.retry_after

    async def _handle_respond(self, request: web.Request) -> web.Response:
        params = {**await self._params(request), "_key": request.match_info["key"]}

        def build() -> web.Response:
            # response_url answers like an incoming webhook: HTTP 400 for a refused message.
            if truthy(params.get("delete_original")):
                return web.json_response({"ok": True})
            refused = rules.message_refusal(params)
            if refused:
                return web.json_response(refused, status=400)
            return web.json_response({"ok": True})

        return await self._answer("response_url", params, request, build)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id, raw = request.match_info["file_id"], await request.read()
        try:
            content: str | bytes = raw.decode("utf-8")
        except UnicodeDecodeError:
            content = raw

        def build() -> web.Response:
            with self._cond:
                if file_id not in self._workspace.uploads:
                    return web.Response(status=404, text="unknown file_id")
                self._workspace.uploads[file_id]["content"] = content
            return web.Response(text=f"OK - {len(raw)}")

        params = {"file_id": file_id, "content": content}
        return await self._answer("file_upload", params, request, build)
