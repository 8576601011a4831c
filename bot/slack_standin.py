"""A real HTTP server that answers like Slack's Web API, for tests and the offline demo.

It runs in its own thread with its own event loop, records every call, and supports
failure injection (``fail_next``) and per-method rate limits (``set_rate_limit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

# Form fields that slack_sdk (and Slack) send as JSON-encoded strings.
JSON_FIELDS = frozenset(
    {"blocks", "attachments", "view", "files", "metadata", "unfurls", "options", "outputs"}
)
Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Call:
    """One recorded request."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float
    status: int


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
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(float(self.burst), self.tokens + (now - self.stamp) * self.per_second)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in {"1", "true", "yes"}


class SlackStandIn:
    """Slack Web API stand-in on 127.0.0.1; use as ``with SlackStandIn() as slack: ...``."""

    def __init__(
        self, *, bot_token: str = "xoxb-test", team_id: str = "T0001", bot_user_id: str = "UBOT"
    ) -> None:
        self.bot_token, self.team_id, self.bot_user_id = bot_token, team_id, bot_user_id
        self.root_url = ""
        self.base_url = ""
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, dict[str, Any]] = {}
        self._external_views: dict[str, str] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._channel_buckets: dict[str, tuple[float, int, int]] = {}
        self._channel_bucket: dict[tuple[str, str], _Bucket] = {}
        self._refused: str | None = None
        self._last_ts = 0.0
        self._counter = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "users.list": self._users_list,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "views.open": self._views("views.open"),
            "views.push": self._views("views.push"),
            "views.update": self._views("views.update"),
            "views.publish": self._views("views.publish"),
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> SlackStandIn:
        """Start the server thread on a free port; block until it accepts requests."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, errors), name="slack-standin", daemon=True
        )
        self._thread.start()
        ready.wait()
        if errors:
            self._thread.join()
            self._thread = None
            raise RuntimeError("SlackStandIn failed to start") from errors[0]
        return self

    def _serve(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/respond/{key}", self._handle_respond)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        try:
            runner = self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            port = runner.addresses[0][1]
            self.root_url = f"http://127.0.0.1:{port}"
            self.base_url = f"{self.root_url}/api/"
        except BaseException as exc:  # report any startup failure to start()
            errors.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def stop(self) -> None:
        """Shut the server down and join its thread (idempotent)."""
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

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
        """Forget calls, queued failures and rate limits; the user directory stays."""
        with self._cond:
            self._calls.clear()
            self._failures.clear()
            self._buckets.clear()

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
            self._users[user_id] = {
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
            self._buckets[method] = _Bucket(per_second, burst, retry_after, tokens=float(burst))

    def set_channel_rate_limit(
        self, method: str, *, per_second: float, burst: int = 1, retry_after: int = 1
    ) -> None:
        """A token bucket per ``channel`` for ``method`` (Slack: ~1 post a second per channel)."""
        with self._cond:
            self._channel_buckets[method] = (per_second, burst, retry_after)
            self._channel_bucket = {k: v for k, v in self._channel_bucket.items() if k[0] != method}

    def refuse_token(self, error: str = "token_revoked") -> None:
        """Answer every call ``ok: false`` with ``error`` (a revoked or uninstalled app)."""
        with self._cond:
            self._refused = error

    def accept_token(self) -> None:
        """Accept the bot token again (the app was reinstalled)."""
        with self._cond:
            self._refused = None

    def history(self, channel: str) -> list[dict[str, Any]]:
        """The messages posted to ``channel``, oldest first."""
        with self._cond:
            return [dict(m) for m in self._history.get(channel, [])]

    def response_url(self, key: str = "r") -> str:
        """A URL whose POSTs are recorded as ``Call(method="response_url")`` with ``_key``."""
        return f"{self.root_url}/respond/{key}"

    # ---------------------------------------------------------------- HTTP plumbing
    def _record(
        self, method: str, params: dict[str, Any], request: web.Request, status: int
    ) -> None:
        call = Call(method, params, dict(request.headers), time.monotonic(), status)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    async def _injected(
        self, method: str, params: dict[str, Any] | None = None
    ) -> web.Response | None:
        """Apply a queued failure or the rate limits; return the response to send, if any."""
        with self._cond:
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
            bucket = self._buckets.get(method)
            limited = failure is None and bucket is not None and not bucket.take()
            per_channel = self._channel_buckets.get(method)
            if failure is None and not limited and per_channel is not None:
                key = (method, str((params or {}).get("channel", "")))
                if key not in self._channel_bucket:
                    rate, burst, retry = per_channel
                    self._channel_bucket[key] = _Bucket(rate, burst, retry, tokens=float(burst))
                if not self._channel_bucket[key].take():
                    return self._ratelimited(per_channel[2])
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
        response = await self._injected(method, params) or build()
        self._record(method, params, request, response.status)
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
                if self._refused is not None:
                    return web.json_response({"ok": False, "error": self._refused})
                body = self._handlers.get(method, lambda _p: {"ok": True})(params)
            return web.json_response(body)

        return await self._answer(method, params, request, build)

    async def _handle_respond(self, request: web.Request) -> web.Response:
        params = {**await self._params(request), "_key": request.match_info["key"]}
        return await self._answer(
            "response_url", params, request, lambda: web.json_response({"ok": True})
        )

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id, raw = request.match_info["file_id"], await request.read()
        try:
            content: str | bytes = raw.decode("utf-8")
        except UnicodeDecodeError:
            content = raw

        def build() -> web.Response:
            with self._cond:
                if file_id not in self._uploads:
                    return web.Response(status=404, text="unknown file_id")
                self._uploads[file_id]["content"] = content
            return web.Response(text=f"OK - {len(raw)}")

        params = {"file_id": file_id, "content": content}
        return await self._answer("file_upload", params, request, build)

    # ---------------------------------------------------------------- methods (lock held)
    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _ts(self) -> str:
        """A message ts as Slack makes them: the wall clock in microseconds, unique."""
        self._next()
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://cadence-test.slack.com/",
            "team": "Cadence Test",
            "user": "cadence",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0001",
            "is_enterprise_install": False,
        }

    def _user_object(self, user: dict[str, Any], include_locale: bool) -> dict[str, Any]:
        now = datetime.now(ZoneInfo(user["tz"]))
        offset = now.utcoffset()
        obj = {
            "id": user["id"],
            "team_id": self.team_id,
            "name": user["name"],
            "real_name": user["name"],
            "deleted": user["deleted"],
            "is_bot": user["is_bot"],
            "tz": user["tz"],
            "tz_label": now.tzname() or user["tz"],
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": {
                "email": user["email"],
                "real_name": user["name"],
                "display_name": user["name"],
            },
        }
        if include_locale:
            obj["locale"] = user["locale"]
        return obj

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._users.get(params.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_object(user, _truthy(params.get("include_locale")))}

    def _users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        for user in self._users.values():
            if email and (user["email"] or "").lower() == email:
                return {"ok": True, "user": self._user_object(user, False)}
        return {"ok": False, "error": "users_not_found"}

    def _users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        users = list(self._users.values())
        cursor = str(params.get("cursor") or "")
        if cursor and not cursor.isdigit():
            return {"ok": False, "error": "invalid_cursor"}
        start = int(cursor or 0)
        limit = int(params.get("limit") or 0) or len(users) or 1
        page = users[start : start + limit]
        more = start + limit < len(users)
        return {
            "ok": True,
            "members": [self._user_object(u, _truthy(params.get("include_locale"))) for u in page],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {"ok": True, "channel": {"id": params["channel"]}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        cid = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": cid}}

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        msg = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": "B0001",
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in params:
                msg[key] = params[key]
        return msg

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._ts()
        message = self._message(params, ts)
        self._history.setdefault(params["channel"], []).append(message)
        return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, between ``oldest`` and ``latest``, paged by ``cursor``; metadata
        only with ``include_all_metadata``."""
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or "inf")
        posted = self._history.get(channel, [])
        wanted = [m for m in reversed(posted) if oldest < float(m["ts"]) < latest]
        cursor = str(params.get("cursor") or "")
        start = int(cursor) if cursor.isdigit() else 0
        limit = min(int(params.get("limit") or 100), 999)
        page = wanted[start : start + limit]
        if not _truthy(params.get("include_all_metadata")):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(wanted)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {
            "ok": True,
            "channel": params["channel"],
            "ts": params["ts"],
            "text": params.get("text", ""),
            "message": self._message(params, params["ts"]),
        }

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._ts()}

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": params["channel"], "ts": params["ts"]}

    def _views(self, method: str) -> Handler:
        def handle(params: dict[str, Any]) -> dict[str, Any]:
            view = params.get("view")
            if not isinstance(view, dict):
                return {"ok": False, "error": "invalid_arguments"}
            if method in ("views.open", "views.push") and not params.get("trigger_id"):
                return {"ok": False, "error": "invalid_arguments"}
            if method == "views.publish" and not params.get("user_id"):
                return {"ok": False, "error": "invalid_arguments"}
            external = params.get("external_id") or view.get("external_id")
            if method == "views.update":
                if not params.get("view_id") and not external:
                    return {"ok": False, "error": "invalid_arguments"}
                vid = params.get("view_id") or self._external_views.get(external)
                if vid is None:
                    return {"ok": False, "error": "not_found"}
            else:
                vid = f"V{self._next():08d}"
                if external:
                    self._external_views[external] = vid
            default_type = "home" if method == "views.publish" else "modal"
            return {
                "ok": True,
                "view": {
                    **view,
                    "id": vid,
                    "team_id": self.team_id,
                    "app_id": "A0001",
                    "bot_id": "B0001",
                    "type": view.get("type", default_type),
                    "hash": f"{int(time.time())}.{self._next():08d}",
                    "state": {"values": {}},
                    "private_metadata": view.get("private_metadata", ""),
                    "callback_id": view.get("callback_id", ""),
                    "root_view_id": vid,
                    "previous_view_id": None,
                },
            }

        return handle

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{self._next():08d}"
        self._uploads[file_id] = {"filename": params["filename"], "content": None}
        return {"ok": True, "upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        out = []
        for item in files:
            upload = self._uploads.get(item.get("id", "")) if isinstance(item, dict) else None
            if upload is None:
                return {"ok": False, "error": "file_not_found"}
            out.append(
                {
                    "id": item["id"],
                    "title": item.get("title") or upload["filename"],
                    "name": upload["filename"],
                }
            )
        return {"ok": True, "files": out}
