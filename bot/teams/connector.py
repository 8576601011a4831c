"""Calling Teams back: the Bot Connector REST API at a conversation's `serviceUrl`, through the
Agents SDK's `ConnectorClient`, with the bot's token. Every failure comes out as one
`ConnectorError` (status, Teams' error code, `Retry-After`), whatever the SDK raised, so the
sender and the listeners decide on a status, not on an SDK's exception class. The SDK retries
nothing: the dispatcher does (429, 412, 502, 504, with back-off and `Retry-After`)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core.connector.client import ConnectorClient

from bot.teams.auth import BotToken

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=15)
RETRYABLE = frozenset({412, 429, 502, 504})


@dataclass(frozen=True)
class ConversationReference:
    """Where Cadence reaches one person in Teams: their personal chat with the bot, as the
    activities they sent told us (stored serialised on their Teams identity)."""

    service_url: str
    conversation_id: str
    user_id: str  # the Bot Framework id of the user in this chat ("29:…")
    bot_id: str
    tenant_id: str | None = None

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, text: str | None) -> ConversationReference | None:
        """The stored reference, or None for nothing stored (or not one of ours)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None


class ConnectorError(Exception):
    """The Bot Connector refused or failed: `status` (0: no answer), Teams' `code`, and the
    seconds `Retry-After` asked for."""

    def __init__(self, status: int, code: str = "", retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} {code}".strip())
        self.status, self.code, self.retry_after = status, code, retry_after

    @property
    def retryable(self) -> bool:
        return self.status in RETRYABLE or self.status == 0

    @property
    def token_refused(self) -> bool:
        """The bot's own token or registration was refused, not anything about a person."""
        return self.status == 401


def _code(message: str) -> str:
    try:
        error = json.loads(message).get("error") or {}
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code") or "") if isinstance(error, dict) else ""


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


# Where Teams puts a file the user accepted: their OneDrive for Business, on SharePoint
# Online (Teams offers no bot file uploads in the sovereign clouds).
UPLOAD_HOST_SUFFIX = ".sharepoint.com"


def upload_allowed(url: str, extra_origins: tuple[str, ...] = ()) -> bool:
    """Whether Cadence may PUT a person's file to this upload URL: https on SharePoint
    Online, or an origin the test hooks name (the stand-in's)."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" in extra_origins:
        return True
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host.endswith(UPLOAD_HOST_SUFFIX)


class TeamsConnector:
    """The Bot Connector operations Cadence uses, each with a fresh token."""

    def __init__(self, token: BotToken, *, upload_origins: tuple[str, ...] = ()) -> None:
        self.token = token
        self.upload_origins = upload_origins

    @asynccontextmanager
    async def _client(self, service_url: str) -> AsyncIterator[ConnectorClient]:
        try:
            token = await self.token()
        except Exception as exc:  # MSAL raises its own kinds; none is about a person
            log.warning("no token for the Bot Connector (%s)", type(exc).__name__)
            raise ConnectorError(401, "NoBotToken") from None
        session = aiohttp.ClientSession(base_url=_base(service_url), timeout=TIMEOUT)
        # no token (anonymous, the Agents Playground): the SDK sends no Authorization header
        client = ConnectorClient(_base(service_url), token or "", session=session)
        try:
            yield client
        except aiohttp.ClientResponseError as exc:
            code, wait = _code(exc.message), _retry_after(exc.headers)
            raise ConnectorError(exc.status, code, wait) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectorError(0, type(exc).__name__) from None
        finally:
            await session.close()

    async def send(self, reference: ConversationReference, activity: dict[str, Any]) -> str:
        """Post an activity to the person's chat; the new activity's id."""
        async with self._client(reference.service_url) as client:
            sent = await client.conversations.send_to_conversation(
                reference.conversation_id, _activity(activity, reference)
            )
            return sent.id or ""

    async def update(
        self, reference: ConversationReference, activity_id: str, activity: dict[str, Any]
    ) -> None:
        """Replace a message the bot sent (after a click on it)."""
        async with self._client(reference.service_url) as client:
            body = _activity({**activity, "id": activity_id}, reference)
            await client.conversations.update_activity(reference.conversation_id, activity_id, body)

    async def member_emails(self, reference: ConversationReference) -> list[str]:
        """The addresses Teams knows for the user of a chat (`email`, `userPrincipalName`):
        how someone the org file names only by email is recognised."""
        async with self._client(reference.service_url) as client:
            member = await client.conversations.get_conversation_member(
                reference.conversation_id, reference.user_id
            )
        found = member.model_dump(by_alias=True, exclude_none=True)
        return [str(found[k]) for k in ("email", "userPrincipalName") if found.get(k)]

    async def upload(self, upload_url: str, content: bytes) -> None:
        """Put a file the user accepted into the upload session Teams gave (one PUT, no
        token: the URL is pre-authenticated); ConnectorError(400, "UploadNotAllowed") for a
        URL that is not the user's OneDrive."""
        if not upload_allowed(upload_url, self.upload_origins):
            raise ConnectorError(400, "UploadNotAllowed")
        headers = {"Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=TIMEOUT) as session,
                session.put(upload_url, data=content, headers=headers) as response,
            ):
                if response.status >= 400:
                    raise ConnectorError(response.status, "UploadFailed")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectorError(0, type(exc).__name__) from None


def _base(service_url: str) -> str:
    return service_url if service_url.endswith("/") else service_url + "/"


def _activity(activity: dict[str, Any], reference: ConversationReference) -> Activity:
    return Activity.model_validate(
        {
            "channelId": "msteams",
            "from": {"id": reference.bot_id},
            "recipient": {"id": reference.user_id},
            "conversation": {"id": reference.conversation_id},
            **activity,
        }
    )
