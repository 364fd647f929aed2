"""``monitor web``: the press office's workspace in the browser, over the configured storage.

Server-rendered pages (Jinja, autoescaped; no script, no remote resource, no build step) and a
JSON API for scripts, in one FastAPI application. Pages need a signed-in user (a session
cookie, ``monitor.web.security``); the API needs ``Authorization: Bearer TOKEN`` (``monitor
users token``); ``/healthz`` needs nothing. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import escape

from monitor.accounts import User, by_id
from monitor.config import Config
from monitor.digest import versions_of
from monitor.errors import StorageError
from monitor.grouping import WINDOW
from monitor.models import AlsoIn
from monitor.store import Store
from monitor.web.security import (
    HEADERS,
    SESSION_COOKIE,
    Session,
    Sessions,
    StoredFailures,
    Throttle,
    load_secret,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class Views:
    """Views computed from the whole archive (the latest days, the trends), kept until the
    archive changes (``Store.version``): every reader's visit need not group a week again."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._kept: dict[Hashable, tuple[Hashable, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None and kept[0] == version:
            return cast(T, kept[1])
        value = compute()
        with self._lock:
            if len(self._kept) >= self._size:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = (version, value)
        return value


@dataclass(frozen=True)
class Workspace:
    """What every route works with."""

    config: Config
    store: Store
    sessions: Sessions
    throttle: Throttle
    secure_cookies: bool
    clock: Callable[[], datetime]
    views: Views = field(default_factory=Views)

    def kept(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, or its value from an earlier request while the archive is unchanged."""
        return self.views.get(key, self.store.version(), compute)

    def session(self, request: Request) -> tuple[Session, User] | None:
        """The signed-in user of a request, while their account exists."""
        session = self.sessions.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        user = by_id(self.store, session.user_id)
        if user is None or session.void_after(user.signed_out_at):
            return None  # removed, or signed out since (in this browser or another)
        return (session, user)

    def versions(self, story: Mapping[str, Any]) -> tuple[AlsoIn, ...]:
        """The other versions of a stored story, grouped as in the digest."""
        if not story.get("url") or not story.get("tags"):
            return ()
        dated: datetime = story["dated_at"]
        around = self.store.tagged_between(dated - WINDOW, dated + WINDOW)
        return versions_of(story["url"], around, self.config.timezone)


def secret_folder(config: Config) -> Path:
    return config.sqlite_path.parent if config.sqlite_path else config.reports_dir


def create_app(
    config: Config,
    *,
    store: Store | None = None,
    throttle: Throttle | None = None,
    secure_cookies: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    from monitor.web import api, pages

    store = store or Store(config.storage_url)
    workspace = Workspace(
        config=config,
        store=store,
        sessions=Sessions(load_secret(secret_folder(config))),
        throttle=throttle or Throttle(failures=StoredFailures(store, Throttle.window)),
        secure_cookies=secure_cookies,
        clock=clock or (lambda: datetime.now(UTC)),
    )
    app = FastAPI(
        title="Film cooperation monitor",
        summary="The press office's archive of stories: search, read, judge.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.workspace = workspace

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            if name == "Content-Security-Policy" and request.url.path == "/api/docs":
                continue  # the API's documentation page loads its own script and styles
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(StorageError)
    async def storage_failed(request: Request, exc: StorageError) -> Response:
        # The database is down, locked for too long, or lacks what a page needs: say so
        # (503: try again later), never a bare 500 with a stack trace.
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        message = f"the archive cannot be read now: {exc}"
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": message}, status_code=503)
        return HTMLResponse(
            f"<!DOCTYPE html><title>503</title><p>{escape(message)}</p>", status_code=503
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(api.router(workspace))
    app.include_router(pages.router(workspace))
    return app


_CONFIG_ENV = "MONITOR_WEB_CONFIG"  # how worker processes find the configuration
_SECURE_ENV = "MONITOR_WEB_SECURE_COOKIES"


def serve(
    config: Config, host: str, port: int, *, secure_cookies: bool = False, workers: int = 1
) -> int:
    """Run the workspace until SIGTERM or Ctrl-C, in ``workers`` processes sharing the port
    (sessions are signed with one secret, so any process serves any user)."""
    import os

    import uvicorn

    log.info("workspace on http://%s:%d/ (storage %s)", host, port, config.storage_url)
    common: dict[str, Any] = {
        "host": host, "port": port, "log_level": "warning", "proxy_headers": True,
    }  # fmt: skip
    if workers <= 1:
        uvicorn.run(create_app(config, secure_cookies=secure_cookies), **common)
        return 0
    load_secret(secret_folder(config))  # made once, before the workers race to make it
    os.environ[_CONFIG_ENV] = str(config.path)
    os.environ[_SECURE_ENV] = "1" if secure_cookies else ""
    uvicorn.run("monitor.web.app:from_environment", factory=True, workers=workers, **common)
    return 0


def from_environment() -> FastAPI:
    """The application in a worker process started by ``serve``."""
    import os

    from monitor.config import load_config

    config = load_config(Path(os.environ[_CONFIG_ENV]))
    return create_app(config, secure_cookies=bool(os.environ.get(_SECURE_ENV)))
