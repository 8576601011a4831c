"""The HTTP surface: each chat platform's routes (Slack's `POST /slack/events`), `GET /healthz`
for the platform the process runs on, and `GET /metrics` for Prometheus."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics
from bot.clock import Clock, system_clock
from bot.engine import delivery_pause, outbox
from bot.logs import describe
from storage.db import session_scope

log = logging.getLogger(__name__)


def create_web(
    engine: AsyncEngine,
    platform_routes: Sequence[BaseRoute],
    *,
    metrics_token: str | None = None,
    clock: Clock = system_clock,
) -> Starlette:
    """An ASGI app serving the chat platforms' requests (each checked at its own edge), the
    health check and the metrics (behind `Authorization: Bearer <metrics_token>` if given)."""

    async def healthz(request: Request) -> Response:
        status, body = await delivery_pause.health(engine)
        return JSONResponse(body, status_code=status)

    async def metrics_page(request: Request) -> Response:
        if metrics_token and not _bearer_is(request, metrics_token):
            return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await _read_database(engine, clock)
        body, content_type = metrics.exposition()
        return Response(body, headers={"Content-Type": content_type})

    return Starlette(
        routes=[
            *platform_routes,
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics_page, methods=["GET"]),
        ]
    )


def _bearer_is(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())


async def _read_database(engine: AsyncEngine, clock: Clock) -> None:
    """Set the gauges every replica reads alike from the database: the outbox's rows, how
    overdue its earliest pending row is, and the paused platforms."""
    try:
        async with session_scope(engine) as session:
            counts = await outbox.count_by_state_and_kind(session)
            first_due = await outbox.first_due(session)
        pauses = await delivery_pause.every_pause(engine)
    except Exception as exc:  # the page still answers: the process's own metrics stand
        log.error("/metrics could not read the database: %s", describe(exc))
        metrics.database_down()
        return
    overdue = (clock() - first_due).total_seconds() if first_due is not None else 0.0
    metrics.set_outbox(counts, overdue)
    metrics.set_paused(delivery_pause.platform_of(p.scope) for p in pauses)
