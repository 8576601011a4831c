"""The HTTP surface: each chat platform's routes (Slack's `POST /slack/events`) and
`GET /healthz` for the platform the process runs on."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.engine import delivery_pause


def create_web(engine: AsyncEngine, platform_routes: Sequence[BaseRoute]) -> Starlette:
    """An ASGI app serving the chat platforms' requests (each checked at its own edge) and
    the health check."""

    async def healthz(request: Request) -> Response:
        status, body = await delivery_pause.health(engine)
        return JSONResponse(body, status_code=status)

    return Starlette(routes=[*platform_routes, Route("/healthz", healthz, methods=["GET"])])
