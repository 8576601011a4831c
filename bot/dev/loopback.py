"""An aiohttp application served on 127.0.0.1 in a thread of its own, for the chat
platforms' stand-ins: the code under test talks to it over real HTTP from its own loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class LoopbackServer:
    """Serves `make_app()` on a free port of 127.0.0.1 from `start()` to `stop()`."""

    def __init__(self, name: str, make_app: Callable[[], web.Application]) -> None:
        self.name, self.make_app = name, make_app
        self.root_url = ""  # http://127.0.0.1:<port>, once started
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> str:
        """Start the server thread; block until it accepts requests; the root URL."""
        if self._thread is not None:
            return self.root_url
        ready = threading.Event()
        errors: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, errors), name=self.name, daemon=True
        )
        self._thread.start()
        ready.wait()
        if errors:
            self._thread.join()
            self._thread = None
            raise RuntimeError(f"{self.name} failed to start") from errors[0]
        return self.root_url

    def _serve(self, ready: threading.Event, errors: list[BaseException]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=0.5)
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self.root_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
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
