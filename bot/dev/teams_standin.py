"""A stand-in for Microsoft Teams' Bot Connector service (the `serviceUrl` of Teams
activities) on 127.0.0.1, for tests and the offline demo. It records every outbound call and
answers as the Bot Connector does, including what Teams refuses:

- a request without the bot's bearer token: 401 (unless anonymous, as the Agents Playground);
- a 1:1 conversation with someone who has not installed the app: 403
  `BotNotInConversationRoster` (Teams allows proactive messages only after installation);
- an unknown conversation or activity: 404 `ConversationNotFound` / `ActivityNotFound`;
- a body that is not JSON, an activity without a type, a message without text or
  attachments, an Adaptive Card that is not an object of `type: AdaptiveCard` with a `body`
  list, or of a version Teams does not render (it renders 1.0 to 1.5): 400 `BadArgument`;
- an activity over Teams' message size (about 28 KB): 413 `MessageSizeTooBig`;
- failures on demand (`fail_next`): 429 with `Retry-After`, 412, 502, 504.

Files in the personal chat, as Teams handles them: a file consent card (`name`, a whole
`sizeInBytes`) is shown; `accept_file` gives what Teams sends the bot when the user accepts,
an OneDrive upload session (`uploadUrl`) that takes the bytes in one PUT with a matching
`Content-Range` and no Authorization header (400/401 otherwise); a file info card must name
a file uploaded there (`contentUrl` and `uniqueId`), else 400.

It also stands for the token service that signs what Teams sends the bot: `token_for`
signs a Bot Framework-style JWT (RS256) with a key of its own, published at `jwks_url`, which
the app's validator is pointed at through `CADENCE_TEAMS_TEST_JWKS_URL`/`_ISSUER`.

Paths and bodies are the Bot Connector REST API's, as the Microsoft 365 Agents SDK's
`ConnectorClient` sends them (`v3/conversations`, `.../activities[/{id}]`, PUT to update).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.dev.loopback import LoopbackServer

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
FILE_CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"
CARD_VERSIONS = frozenset({"1.0", "1.1", "1.2", "1.3", "1.4", "1.5"})  # what Teams renders
MESSAGE_LIMIT = 28 * 1024  # bytes of an activity's JSON, as Teams counts a message
RETRYABLE = frozenset({412, 429, 502, 504})
# Each stand-in signs with a key of its own under an id of its own: the SDK's validator keeps
# key sets per URL for the whole process, and a later stand-in on a port an earlier one used
# must not be checked against that one's cached key (an unknown id makes it fetch again).
SIGNING_KEY_PREFIX = "cadence-standin-key-"


@dataclass
class ConnectorCall:
    """One request the stand-in answered."""

    operation: str  # create | send | reply | update | member
    conversation: str | None
    body: Any
    status: int
    at: float


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    times: int


@dataclass
class Conversation:
    """A 1:1 chat between the bot and one user, and the activities in it by id."""

    id: str
    user_id: str
    activities: dict[str, dict[str, Any]] = field(default_factory=dict)


def _error(status: int, code: str, message: str, **headers: str) -> web.Response:
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, headers=headers)


def file_card_problem(
    attachment: dict[str, Any], uploaded: dict[str, dict[str, Any]]
) -> str | None:
    """Why Teams would refuse a file consent or file info card, or None."""
    content = attachment.get("content")
    if not isinstance(content, dict) or not attachment.get("name"):
        return "a file card needs a name and a content object"
    if attachment["contentType"] == FILE_CONSENT:
        size = content.get("sizeInBytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            return "a file consent card needs a whole sizeInBytes"
        return None
    unique = str(content.get("uniqueId") or "")
    found = uploaded.get(unique)
    if found is None or found.get("content") is None:
        return "a file info card must name a file uploaded to the user's OneDrive"
    if attachment.get("contentUrl") != found["contentUrl"]:
        return "a file info card's contentUrl is not the uploaded file's"
    return None


def card_problem(activity: dict[str, Any]) -> str | None:
    """Why Teams would refuse this activity's content, or None."""
    if not isinstance(activity.get("type"), str) or not activity["type"]:
        return "the activity has no type"
    attachments = activity.get("attachments") or []
    if activity["type"] == "message" and not activity.get("text") and not attachments:
        return "a message needs text or attachments"
    if not isinstance(attachments, list):
        return "attachments must be a list"
    for attachment in attachments:
        if not isinstance(attachment, dict) or attachment.get("contentType") != ADAPTIVE_CARD:
            continue
        card = attachment.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            return "an Adaptive Card's content must be an object of type AdaptiveCard"
        if card.get("version") not in CARD_VERSIONS:
            return f"Adaptive Card version {card.get('version')!r} is not supported"
        if not isinstance(card.get("body", []), list):
            return "an Adaptive Card's body must be a list"
    return None


class TeamsStandIn:
    """Bot Connector stand-in; use as ``with TeamsStandIn() as teams: ...``."""

    def __init__(
        self,
        *,
        token: str = "teams-test-token",
        tenant_id: str = "00000000-0000-0000-0000-0000000000aa",
        anonymous: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token, self.tenant_id, self.anonymous, self.clock = token, tenant_id, anonymous, clock
        self.service_url = ""
        self._lock = threading.RLock()
        self._calls: list[ConnectorCall] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._installed: set[str] = set()
        self._directory: dict[str, dict[str, str]] = {}  # user id -> what Teams says of them
        self._conversations: dict[str, Conversation] = {}
        self._uploads: dict[str, dict[str, Any]] = {}  # OneDrive upload sessions, by unique id
        self._ids = itertools.count(1)
        self._server = LoopbackServer("teams-standin", self._app)
        self._signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.signing_key_id = SIGNING_KEY_PREFIX + secrets.token_hex(8)
        self.issuer = "https://api.botframework.test"

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> TeamsStandIn:
        """Start the server thread on a free port; block until it accepts requests."""
        if not self._server.running:
            self.service_url = f"{self._server.start()}/"
        return self

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._reply)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/keys", self._keys)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        app.router.add_put("/upload/{unique}", self._upload)
        return app

    def stop(self) -> None:
        """Shut the server down and join its thread (idempotent)."""
        self._server.stop()

    def __enter__(self) -> TeamsStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- the token service
    @property
    def jwks_url(self) -> str:
        return f"{self.service_url}keys"

    def token_for(
        self,
        audience: str,
        *,
        expires_in: float = 3600,
        issuer: str | None = None,
        service_url: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        """A signed token as the Bot Framework sends with each activity: `aud` the bot's
        client id, `iss`, `serviceurl`, expiring in `expires_in` seconds (negative: already
        expired). `key`: sign with another key (a forgery)."""
        now = int(time.time())
        claims = {
            "iss": issuer or self.issuer,
            "aud": audience,
            "serviceurl": service_url or self.service_url,
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + int(expires_in),
        }
        return jwt.encode(
            claims,
            key or self._signing_key,
            algorithm="RS256",
            headers={"kid": self.signing_key_id},
        )

    async def _keys(self, request: web.Request) -> web.StreamResponse:
        jwk = json.loads(RSAAlgorithm.to_jwk(self._signing_key.public_key()))
        jwk.update({"kid": self.signing_key_id, "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [jwk]})

    # ---------------------------------------------------------------- the tenant
    def install(self, user_id: str) -> str:
        """The app is installed for this user (their Entra object id or Bot Framework id):
        the bot may chat. Returns their personal chat's id, which Teams then names in every
        activity from that chat."""
        with self._lock:
            self._installed.add(user_id)
            return self._chat(user_id).id

    def add_member(self, user_id: str, *, name: str, email: str, aad_object_id: str) -> None:
        """Someone of the tenant, as the member look-up describes them."""
        with self._lock:
            self._directory[user_id] = {
                "id": user_id,
                "name": name,
                "aadObjectId": aad_object_id,
                "email": email,
                "userPrincipalName": email,
                "tenantId": self.tenant_id,
                "userRole": "user",
            }

    def uninstall(self, user_id: str) -> None:
        """The user removed the app: posts to their chat are refused (403) until it is
        installed again."""
        with self._lock:
            self._installed.discard(user_id)

    def _chat(self, user_id: str) -> Conversation:
        found = next((c for c in self._conversations.values() if c.user_id == user_id), None)
        if found is None:
            found = Conversation(f"a:{next(self._ids)}", user_id)
            self._conversations[found.id] = found
        return found

    def fail_next(
        self, operation: str, status: int, *, retry_after: float | None = None, times: int = 1
    ) -> None:
        """Answer the next `times` calls of `operation` (create, send, reply, update) with
        `status` (429 carries `Retry-After`, 1 s unless given)."""
        if status not in RETRYABLE:
            raise ValueError(f"the connector fails with {sorted(RETRYABLE)} on demand")
        if status == 429 and retry_after is None:
            retry_after = 1.0
        with self._lock:
            self._failures.setdefault(operation, deque()).append(
                _Failure(status, retry_after, times)
            )

    def calls_to(self, operation: str) -> list[ConnectorCall]:
        with self._lock:
            return [c for c in self._calls if c.operation == operation]

    def messages_with(self, user_id: str) -> list[dict[str, Any]]:
        """The activities the bot's 1:1 chat with this user holds now, oldest first."""
        with self._lock:
            return [
                dict(activity)
                for conversation in self._conversations.values()
                if conversation.user_id == user_id
                for activity in conversation.activities.values()
            ]

    def accept_file(self, consent: dict[str, Any]) -> dict[str, Any]:
        """What Teams sends the bot when the user accepts this file consent card (an
        attachment the bot sent): the `fileConsent/invoke` value, with an upload session."""
        unique = f"F{next(self._ids):08d}"
        name = str(consent["name"])
        info = {
            "name": name,
            "uploadUrl": f"{self.service_url}upload/{unique}",
            "contentUrl": f"https://contoso-my.sharepoint.test/personal/Documents/{unique}/{name}",
            "uniqueId": unique,
            "fileType": name.rsplit(".", 1)[-1],
            "etag": "1",
        }
        with self._lock:
            self._uploads[unique] = {**info, "content": None}
        context = consent["content"].get("acceptContext")
        return {"type": "fileUpload", "action": "accept", "context": context, "uploadInfo": info}

    def uploaded(self, unique_id: str) -> bytes | None:
        """The bytes uploaded to one upload session, if any."""
        with self._lock:
            found = self._uploads.get(unique_id)
            return found["content"] if found else None

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        unique = request.match_info["unique"]
        raw = await request.read()
        if "Authorization" in request.headers:  # OneDrive's upload URLs are pre-authenticated
            denied = _error(401, "unauthenticated", "Do not send a token to an upload URL.")
            return self._answer("upload", None, None, denied)
        expected = f"bytes 0-{len(raw) - 1}/{len(raw)}"
        with self._lock:
            found = self._uploads.get(unique)
            if found is None:
                return self._answer("upload", None, None, _error(404, "itemNotFound", "gone"))
            if not raw or request.headers.get("Content-Range") != expected:
                bad = _error(400, "invalidRange", f"Content-Range must be {expected}")
                return self._answer("upload", None, None, bad)
            found["content"] = raw
        created = {"id": unique, "name": found["name"], "size": len(raw)}
        return self._answer(
            "upload", None, {"size": len(raw)}, web.json_response(created, status=201)
        )

    # ---------------------------------------------------------------- the API
    async def _create(self, request: web.Request) -> web.StreamResponse:
        body, refused = await self._admit(request, "create")
        if refused is not None:
            return refused
        members = body.get("members") if isinstance(body, dict) else None
        if not isinstance(members, list) or len(members) != 1 or body.get("isGroup"):
            return self._answer("create", None, body, _error(400, "BadArgument", "one member"))
        user_id = str((members[0] or {}).get("id") or "")
        tenant = body.get("tenantId") or (body.get("channelData") or {}).get("tenant", {}).get("id")
        if tenant != self.tenant_id:
            return self._answer("create", None, body, _error(400, "BadArgument", "tenant"))
        with self._lock:
            if user_id not in self._installed:
                response = _error(
                    403, "BotNotInConversationRoster", "The bot is not part of the roster."
                )
                return self._answer("create", None, body, response)
            found = self._chat(user_id)
        answer = web.json_response({"id": found.id}, status=201)
        return self._answer("create", found.id, body, answer)

    async def _send(self, request: web.Request) -> web.StreamResponse:
        return await self._post(request, "send")

    async def _reply(self, request: web.Request) -> web.StreamResponse:
        return await self._post(request, "reply")

    async def _post(self, request: web.Request, operation: str) -> web.StreamResponse:
        conversation_id = request.match_info["conversation"]
        body, refused = await self._admit(request, operation, conversation_id)
        if refused is not None:
            return refused
        with self._lock:
            conversation = self._conversations.get(conversation_id)
            if conversation is None:
                missing = _error(404, "ConversationNotFound", "Conversation not found.")
                return self._answer(operation, conversation_id, body, missing)
            if conversation.user_id not in self._installed:
                removed = _error(
                    403, "BotNotInConversationRoster", "The bot is not part of the roster."
                )
                return self._answer(operation, conversation_id, body, removed)
            activity_id = f"1{next(self._ids):012d}"
            conversation.activities[activity_id] = {**body, "id": activity_id}
        return self._answer(
            operation, conversation_id, body, web.json_response({"id": activity_id}, status=201)
        )

    async def _member(self, request: web.Request) -> web.StreamResponse:
        conversation_id = request.match_info["conversation"]
        _body, refused = await self._admit(request, "member", conversation_id, read_body=False)
        if refused is not None:
            return refused
        with self._lock:
            chat = self._conversations.get(conversation_id)
            member = self._directory.get(request.match_info["member"])
            if chat is None or member is None or chat.user_id != member["id"]:
                missing = _error(404, "MemberNotFoundInConversation", "Member not found.")
                return self._answer("member", conversation_id, None, missing)
            found = dict(member)
        return self._answer("member", conversation_id, None, web.json_response(found))

    async def _update(self, request: web.Request) -> web.StreamResponse:
        conversation_id = request.match_info["conversation"]
        activity_id = request.match_info["activity"]
        body, refused = await self._admit(request, "update", conversation_id)
        if refused is not None:
            return refused
        with self._lock:
            conversation = self._conversations.get(conversation_id)
            if conversation is None or activity_id not in conversation.activities:
                missing = _error(404, "ActivityNotFound", "Activity not found.")
                return self._answer("update", conversation_id, body, missing)
            conversation.activities[activity_id] = {**body, "id": activity_id}
        return self._answer("update", conversation_id, body, web.json_response({"id": activity_id}))

    async def _admit(
        self,
        request: web.Request,
        operation: str,
        conversation: str | None = None,
        *,
        read_body: bool = True,
    ) -> tuple[Any, web.StreamResponse | None]:
        """The request's JSON body, or the answer refusing it (token, failure on demand,
        malformed, too large, a card Teams does not render)."""
        raw = await request.read()
        if not self.anonymous and request.headers.get("Authorization") != f"Bearer {self.token}":
            denied = web.json_response(
                {"message": "Authorization has been denied for this request."}, status=401
            )
            return None, self._answer(operation, conversation, None, denied)
        failure = self._failure(operation)
        if failure is not None:
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after else {}
            failed = _error(failure.status, "ServiceError", "Try again later.", **headers)
            return None, self._answer(operation, conversation, None, failed)
        if not read_body:
            return None, None
        try:
            body = json.loads(raw)
        except ValueError:
            bad = _error(400, "BadArgument", "The request body is not JSON.")
            return None, self._answer(operation, conversation, None, bad)
        if operation != "create":
            if not isinstance(body, dict):
                bad = _error(400, "BadArgument", "An activity must be an object.")
                return None, self._answer(operation, conversation, body, bad)
            if len(raw) > MESSAGE_LIMIT:
                big = _error(413, "MessageSizeTooBig", "Message size too big.")
                return None, self._answer(operation, conversation, body, big)
            problem = card_problem(body) or self._file_problem(body)
            if problem is not None:
                return None, self._answer(
                    operation, conversation, body, _error(400, "BadArgument", problem)
                )
        return body, None

    def _file_problem(self, activity: dict[str, Any]) -> str | None:
        attachments = activity.get("attachments") or []
        with self._lock:
            for attachment in attachments:
                if isinstance(attachment, dict) and attachment.get("contentType") in (
                    FILE_CONSENT,
                    FILE_INFO,
                ):
                    problem = file_card_problem(attachment, self._uploads)
                    if problem is not None:
                        return problem
        return None

    def _failure(self, operation: str) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(operation)
            if not queue:
                return None
            failure = queue[0]
            failure.times -= 1
            if failure.times <= 0:
                queue.popleft()
            return failure

    def _answer(
        self, operation: str, conversation: str | None, body: Any, response: web.Response
    ) -> web.Response:
        with self._lock:
            self._calls.append(
                ConnectorCall(operation, conversation, body, response.status, self.clock())
            )
        return response
