"""The edge between Teams and the app: what a request to `/api/messages` must be before a
listener sees it, in this order, each before any work is done for it:

1. a body over `MAX_BODY` is refused with 413 before it is read whole;
2. a request without a Bot Framework token the SDK accepts (signature, `aud` = the bot's
   client id, expiry; none needed only in anonymous mode) is refused with 401;
3. a body that is not an activity (not JSON, not an object, no type, no conversation) is
   refused with 400;
4. an activity whose `serviceUrl` is not the one its token names is refused with 401: the bot
   sends its own token to that address.

Nothing here logs a body or a token: refusals log their reason. What escapes a listener is
logged by its class and answered 500 with an empty body (the SDK's own turn-error handler
would post the exception's text into the chat, so its adapter is not used: the SDK validates
the token and models the activity, Cadence routes it)."""

from __future__ import annotations

import json
import logging

from microsoft_agents.activity import Activity
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.logs import describe
from bot.request_body import Refused, read_bounded
from bot.teams.app import TeamsBot

log = logging.getLogger(__name__)

MESSAGES_PATH = "/api/messages"


def _activity(body: bytes) -> Activity:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise Refused(400, "a body that is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "a body that is not a JSON object")
    try:
        activity = Activity.model_validate(data)
    except ValidationError:
        raise Refused(400, "a body that is not an activity") from None
    if not activity.type or activity.conversation is None or not activity.conversation.id:
        raise Refused(400, "an activity without a type or a conversation")
    return activity


def teams_routes(bot: TeamsBot) -> list[BaseRoute]:
    """`POST /api/messages`, checked as the module says, answered by the bot."""

    async def messages(request: Request) -> Response:
        try:
            body = await read_bounded(request)
            caller = await bot.auth.caller(request.headers.get("authorization"))
            if caller is None:
                raise Refused(401, "no valid Bot Framework token")
            activity = _activity(body)
            if not caller.allows_service_url(activity.service_url):
                raise Refused(401, "a serviceUrl the token was not issued for")
        except Refused as refused:
            log.warning("refused a Teams request: %s", refused.reason)
            return JSONResponse({"error": "refused"}, status_code=refused.status)
        try:
            answer = await bot.handle(activity)
        except Exception as exc:  # the edge answers for every listener's failure
            log.error("a Teams %s activity failed: %s", activity.type, describe(exc))
            return Response(status_code=500)
        if answer.body is None:
            return Response(status_code=answer.status)
        return JSONResponse(answer.body, status_code=answer.status)

    return [Route(MESSAGES_PATH, messages, methods=["POST"])]
