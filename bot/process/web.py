"""The HTTP surface: `POST /slack/events` for Slack, `GET /healthz` for the platform."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.engine import delivery_pause
from bot.slack.edge import SlackEdge


def create_web(app: AsyncApp, engine: AsyncEngine, *, signing_secret: str) -> Starlette:
    """An ASGI app serving Slack's requests (checked at the edge, then Bolt) and the health
    check."""
    slack = SlackEdge(app, signing_secret)

    async def slack_events(request: Request) -> Response:
        return await slack.handle(request)

    async def healthz(request: Request) -> Response:
        status, body = await delivery_pause.health(engine)
        return JSONResponse(body, status_code=status)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
