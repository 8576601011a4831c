"""The workspace behind the Slack stand-in: its users, channels, messages, views and triggers,
and the Web API methods that read and change them, answering as Slack does.

Method pages followed: auth.test, users.info, users.list, users.lookupByEmail,
conversations.open, conversations.history, chat.postMessage, chat.update, chat.postEphemeral,
chat.delete, views.open, views.push, views.update, views.publish,
files.getUploadURLExternal, files.completeUploadExternal. Payload rules live in
``bot.dev.slack_rules``. Not thread-safe: the stand-in calls these with its lock held.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from bot.dev import slack_rules as rules

Handler = Callable[[dict[str, Any]], dict[str, Any]]
TRIGGER_TTL = 3.0  # seconds a trigger_id stays usable (views.open reference)
HISTORY_LIMIT, HISTORY_MAX = 100, 999
_TS = re.compile(r"\d+(\.\d+)?")
MODAL, HOME = frozenset({"modal"}), frozenset({"home"})


APP_ID = "A0CADENCE"  # the app this workspace has installed (auth.test, views, messages)


@dataclass
class Trigger:
    """A trigger_id Slack handed to the app with an interaction."""

    user_id: str
    issued: float
    used: bool = False


def truthy(value: Any) -> bool:
    """Slack's reading of a boolean argument ("1", "true", True)."""
    return value is True or str(value).lower() in {"1", "true", "yes"}


def _ts_key(ts: str) -> Decimal:
    return Decimal(ts)


def _dm_user(channel: str) -> str | None:
    """The user behind a DM channel id (``D<user>``) or a user id used as a channel."""
    if channel.startswith("DU") or channel.startswith("DW"):
        return channel[1:]
    if channel.startswith("U") or channel.startswith("W"):
        return channel
    return None


class Workspace:
    """One Slack workspace as the bot token sees it."""

    def __init__(self, *, team_id: str, bot_user_id: str, root_url: Callable[[], str]) -> None:
        self.team_id, self.bot_user_id, self._root_url = team_id, bot_user_id, root_url
        self.users: dict[str, dict[str, Any]] = {}
        self.unreachable: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.trigger_ttl = TRIGGER_TTL
        self.channels: set[str] = set()
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, str] = {}  # view id -> its current hash
        self.external_views: dict[str, str] = {}
        self.uploads: dict[str, dict[str, Any]] = {}
        self._counter = 0
        self._last_micros = 0
        self.handlers: dict[str, Handler] = {
            "auth.test": self.auth_test,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "users.list": self.users_list,
            "conversations.open": self.conversations_open,
            "conversations.history": self.conversations_history,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.delete": self.chat_delete,
            "views.open": self._views("views.open"),
            "views.push": self._views("views.push"),
            "views.update": self._views("views.update"),
            "views.publish": self._views("views.publish"),
            "files.getUploadURLExternal": self.files_get_upload_url,
            "files.completeUploadExternal": self.files_complete_upload,
        }

    # ---------------------------------------------------------------- helpers
    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def _ts(self) -> str:
        """A message ts as Slack makes them: the posting time (epoch seconds, microseconds),
        unique and increasing in the workspace. `conversations.history` filters on it."""
        self._next()
        micros = max(int(time.time() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger_id, shaped like Slack's, valid once for ``trigger_ttl`` seconds."""
        trigger_id = f"{10_000_000_000 + self._next()}.{738_474_920}.{secrets.token_hex(10)}"
        self.triggers[trigger_id] = Trigger(user_id, time.monotonic())
        return trigger_id

    def _trigger_error(self, trigger_id: Any) -> str | None:
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            return "invalid_trigger_id"
        if trigger.used:
            return "exchanged_trigger_id"
        if time.monotonic() - trigger.issued > self.trigger_ttl:
            return "expired_trigger_id"
        return None

    def channel_of(self, channel: str) -> str:
        """The channel a post to ``channel`` lands in (a user id means the bot's DM with them)."""
        user = _dm_user(channel)
        return f"D{user}" if user and channel == user else channel

    def recipient_error(self, channel: str) -> str | None:
        """The error marked for the person behind a DM channel, if any."""
        user = _dm_user(channel)
        return self.unreachable.get(user) if user else None

    # ---------------------------------------------------------------- auth and users
    def auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://cadence-test.slack.com/",
            "team": "Cadence Test",
            "user": "cadence",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": "B0001",
            "app_id": APP_ID,
            "app_name": "Cadence",
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

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(params.get("user", ""))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": self._user_object(user, truthy(params.get("include_locale")))}

    def users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        email = str(params.get("email", "")).lower()
        for user in self.users.values():
            if email and (user["email"] or "").lower() == email:
                return {"ok": True, "user": self._user_object(user, False)}
        return {"ok": False, "error": "users_not_found"}

    def users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        users = list(self.users.values())
        cursor = str(params.get("cursor") or "")
        if cursor and not cursor.isdigit():
            return {"ok": False, "error": "invalid_cursor"}
        start = int(cursor or 0)
        limit = int(params.get("limit") or 0) or len(users) or 1
        page = users[start : start + limit]
        more = start + limit < len(users)
        return {
            "ok": True,
            "members": [self._user_object(u, truthy(params.get("include_locale"))) for u in page],
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    # ---------------------------------------------------------------- conversations
    def conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {"ok": True, "channel": {"id": params["channel"]}}
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        for user in users:
            if user in self.unreachable:
                return {"ok": False, "error": self.unreachable[user]}
        cid = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))
        already = cid in self.channels
        self.channels.add(cid)
        return {"ok": True, "no_op": already, "already_open": already, "channel": {"id": cid}}

    def conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel") or "")
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        bounds: dict[str, Decimal] = {}
        for name, default in (("oldest", "0"), ("latest", None)):
            raw = params.get(name)
            if raw in (None, ""):
                if default is not None:
                    bounds[name] = Decimal(default)
                continue
            if not _TS.fullmatch(str(raw)):
                return {"ok": False, "error": f"invalid_ts_{name}"}
            bounds[name] = Decimal(str(raw))
        try:
            limit = int(params.get("limit") or HISTORY_LIMIT)
        except ValueError:
            return {"ok": False, "error": "invalid_limit"}
        limit = min(max(limit, 1), HISTORY_MAX)
        inclusive = truthy(params.get("inclusive"))

        def inside(ts: Decimal) -> bool:
            low, high = bounds["oldest"], bounds.get("latest")
            above = ts >= low if inclusive else ts > low
            below = high is None or (ts <= high if inclusive else ts < high)
            return above and below

        found = [m for m in reversed(self.messages.get(channel, [])) if inside(_ts_key(m["ts"]))]
        cursor = str(params.get("cursor") or "")
        if cursor:
            try:
                decoded = base64.b64decode(cursor, validate=True).decode()
                start_at = Decimal(decoded.removeprefix("next_ts:"))
            except (binascii.Error, UnicodeDecodeError, InvalidOperation):
                return {"ok": False, "error": "invalid_cursor"}
            found = [m for m in found if _ts_key(m["ts"]) <= start_at]
        page, rest = found[:limit], found[limit:]
        with_metadata = truthy(params.get("include_all_metadata"))
        shown = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        next_cursor = base64.b64encode(f"next_ts:{rest[0]['ts']}".encode()).decode() if rest else ""
        return {
            "ok": True,
            "messages": shown,
            "has_more": bool(rest),
            "pin_count": 0,
            "response_metadata": {"next_cursor": next_cursor},
        }

    # ---------------------------------------------------------------- chat
    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        msg = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": "B0001",
            "app_id": APP_ID,
            "team": self.team_id,
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if key in params:
                msg[key] = params[key]
        return msg

    def _stored(self, channel: str, ts: Any) -> dict[str, Any] | None:
        for message in self.messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    def human_message(self, channel: str, user_id: str, text: str) -> str:
        """Store a message a person wrote (no bot_id, no metadata); return its ts."""
        ts = self._ts()
        message = {"type": "message", "user": user_id, "text": text, "ts": ts, "team": self.team_id}
        self.channels.add(channel)
        self.messages.setdefault(channel, []).append(message)
        return ts

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        channel = self.channel_of(str(params["channel"]))
        gone = self.recipient_error(channel)
        if gone:
            return {"ok": False, "error": gone}
        refused = rules.message_refusal(params)
        if refused:
            return refused
        ts = self._ts()
        message = self._message(params, ts)
        self.channels.add(channel)
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        channel = self.channel_of(str(params["channel"]))
        refused = rules.message_refusal(params)
        if refused:
            return refused
        stored = self._stored(channel, params["ts"])
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        # Omitted blocks keep the old ones (an empty list removes them), per chat.update.
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                stored[key] = params[key]
        stored["edited"] = {"user": self.bot_user_id, "ts": self._ts()}
        return {
            "ok": True,
            "channel": channel,
            "ts": stored["ts"],
            "text": stored["text"],
            "message": dict(stored),
        }

    def chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        refused = rules.message_refusal(params)
        if refused:
            return refused
        return {"ok": True, "message_ts": self._ts()}  # ephemeral: never in history

    def chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        channel = self.channel_of(str(params["channel"]))
        stored = self._stored(channel, params.get("ts"))
        if stored is None:
            return {"ok": False, "error": "message_not_found"}
        self.messages[channel].remove(stored)
        return {"ok": True, "channel": channel, "ts": stored["ts"]}

    # ---------------------------------------------------------------- views
    def _views(self, method: str) -> Handler:
        kinds = {"views.publish": HOME, "views.update": MODAL | HOME}.get(method, MODAL)

        def handle(params: dict[str, Any]) -> dict[str, Any]:
            return self._view_method(method, kinds, params)

        return handle

    def _view_method(
        self, method: str, kinds: frozenset[str], params: dict[str, Any]
    ) -> dict[str, Any]:
        opens = method in ("views.open", "views.push")
        if opens and not params.get("trigger_id"):
            return rules.refusal(
                "invalid_arguments", ["[ERROR] missing required field: trigger_id"]
            )
        if method == "views.publish" and not params.get("user_id"):
            return rules.refusal("invalid_arguments", ["[ERROR] missing required field: user_id"])
        if "view" not in params:
            return rules.refusal("invalid_arguments", ["[ERROR] missing required field: view"])
        view = params["view"]
        errors = rules.view_errors(view, kinds)
        if errors:
            return rules.refusal("invalid_arguments", errors)
        if method == "views.publish" and rules.view_payload_bytes(view) > rules.VIEW_PAYLOAD_BYTES:
            return rules.refusal(
                "invalid_arguments",
                ["[ERROR] view must be smaller than 250 kB [json-pointer:/view]"],
            )
        external = params.get("external_id") or view.get("external_id")
        if opens:
            problem = self._trigger_error(params.get("trigger_id"))
            if problem:
                return {"ok": False, "error": problem}
            if external in self.external_views:
                return {"ok": False, "error": "duplicate_external_id"}
            self.triggers[params["trigger_id"]].used = True
        if method == "views.update":
            if not params.get("view_id") and not external:
                return rules.refusal("invalid_arguments", ["[ERROR] view_id or external_id"])
            vid = params.get("view_id") or self.external_views.get(external)
            if vid not in self.views:
                return {"ok": False, "error": "not_found"}
            # A stale hash means the view changed since the app saw it (views.update page).
            if params.get("hash") and params["hash"] != self.views[vid]:
                return {"ok": False, "error": "hash_conflict"}
        else:
            vid = f"V{self._next():08d}"
            if external:
                self.external_views[external] = vid
        view_hash = self.views[vid] = f"{int(time.time())}.{secrets.token_hex(6)}"
        return {
            "ok": True,
            "view": {
                **view,
                "id": vid,
                "team_id": self.team_id,
                "app_id": APP_ID,
                "bot_id": "B0001",
                "hash": view_hash,
                "state": {"values": {}},
                "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""),
                "root_view_id": vid,
                "previous_view_id": None,
            },
        }

    # ---------------------------------------------------------------- files
    def files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("filename") or not str(params.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{self._next():08d}"
        self.uploads[file_id] = {"filename": params["filename"], "content": None}
        return {
            "ok": True,
            "upload_url": f"{self._root_url()}/upload/{file_id}",
            "file_id": file_id,
        }

    def files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        out = []
        for item in files:
            upload = self.uploads.get(item.get("id", "")) if isinstance(item, dict) else None
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
