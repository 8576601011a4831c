"""`serve`: migrate, then answer Slack over HTTP (uvicorn) or Socket Mode, Teams on
`/api/messages`, or both, from one process."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from bot.clock import system_clock
from bot.engine.scheduler import build_scheduler
from bot.org.policy import Policy
from bot.process.assembly import assemble
from bot.process.config import Settings
from bot.process.web import create_web
from storage import migrate, sealing
from storage.db import make_engine

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn's server, except that a SIGINT/SIGTERM it has already shut down for gracefully
    is not raised again afterwards (that re-raise cancelled our cleanup and ended every
    Ctrl+C with a traceback, and made SIGTERM skip the cleanup altogether)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


async def serve(settings: Settings, policy: Policy, *, host: str = "0.0.0.0") -> None:
    """Run until interrupted. Socket Mode still serves /healthz on PORT."""
    engine = make_engine(settings.database_url)
    todo = await migrate.pending(engine)
    await migrate.upgrade(engine)
    if todo:
        log.info("applied migrations: %s", ", ".join(todo))
    try:
        await sealing.verify(engine, required=True, now=system_clock())
    except sealing.DataKeyError:
        await engine.dispose()
        raise
    platforms = assemble(settings, policy, engine=engine)
    scheduler = build_scheduler(platforms.engine)  # one engine, one pace per platform
    server = _Server(
        uvicorn.Config(
            create_web(engine, platforms.routes, metrics_token=settings.metrics_token),
            host=host,
            port=settings.port,
            lifespan="off",
        )
    )
    socket_mode = None
    if platforms.slack_app is not None and settings.socket_mode:
        from bot.slack.edge import GuardedSocketModeHandler

        socket_mode = GuardedSocketModeHandler(platforms.slack_app, settings.slack_app_token)
        await socket_mode.connect_async()
        log.info("connected to Slack in Socket Mode; /healthz on port %s", settings.port)
    elif platforms.slack_app is not None:
        log.info("listening for Slack on http://%s:%s/slack/events", host, settings.port)
    if platforms.teams is not None:
        log.info("listening for Teams on http://%s:%s/api/messages", host, settings.port)
    scheduler.start()
    try:
        await server.serve()
    finally:
        scheduler.shutdown(wait=False)
        await platforms.notifier.idle()
        if socket_mode is not None:
            await socket_mode.close_async()
        await engine.dispose()
