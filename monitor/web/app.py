"""``monitor web``: the press office's workspace in the browser, over the configured storage.

Server-rendered pages (Jinja, autoescaped; no script, no remote resource, no build step) and a
JSON API for scripts, in one FastAPI application. Pages need a signed-in user (a session
cookie, ``monitor.web.security``); the API needs ``Authorization: Bearer TOKEN`` (``monitor
users token``); ``/healthz`` needs nothing. Every form carries the session's CSRF token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Hashable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from anyio import to_thread
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import escape
from sqlalchemy.pool import QueuePool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.accounts import User, by_id
from monitor.config import Config
from monitor.digest import day_window, select_stories
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
DEFAULT_THREADS = 5
T = TypeVar("T")


class Views:
    """Views computed from the whole archive (the latest days, the trends, a day's groups of
    versions), kept until the archive changes (``Store.version``): every reader's visit need
    not group a week again. One request computes a missing view; others asking for it
    meanwhile wait for that one instead of computing it too."""

    def __init__(self, size: int = 128) -> None:
        self._size = size
        self._kept: dict[Hashable, tuple[Hashable, Any]] = {}
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    def _fresh(self, key: Hashable, version: Hashable) -> tuple[bool, Any]:
        with self._lock:
            kept = self._kept.pop(key, None)
            if kept is not None:
                self._kept[key] = kept  # the least recently used view is the one let go
        return (True, kept[1]) if kept is not None and kept[0] == version else (False, None)

    def get(self, key: Hashable, version: Hashable, compute: Callable[[], T]) -> T:
        found, kept = self._fresh(key, version)
        if found:
            return cast(T, kept)
        with self._lock:
            busy = self._computing.setdefault(key, threading.Lock())
        with busy:
            found, kept = self._fresh(key, version)  # computed while this one waited
            if found:
                return cast(T, kept)
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                self._kept.pop(key, None)
                while len(self._kept) >= self._size:
                    self._kept.pop(next(iter(self._kept)))
                self._kept[key] = (version, value)
                self._computing.pop(key, None)
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
    # Views most visits need (the latest stories), computed by ``serve`` as a process starts.
    openers: list[Callable[[], object]] = field(default_factory=list)

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
        day = story["dated_at"].astimezone(self.config.timezone).date()
        return self.kept(("versions", day), lambda: self._versions_on(day)).get(story["url"], ())

    def _versions_on(self, day: date) -> dict[str, tuple[AlsoIn, ...]]:
        """Per URL of a tagged story, its other versions: the stories of the day grouped with
        every tagged story close enough in time to be one of them. Grouping reads each text,
        so a day is grouped once for all its stories' pages."""
        start, end = day_window(day, self.config.timezone)
        around = self.store.tagged_between(start - WINDOW, end + WINDOW)
        versions: dict[str, tuple[AlsoIn, ...]] = {}
        for story in select_stories(around, self.config.timezone):
            group = [AlsoIn(story.url, story.source, story.language), *story.also]
            for member in group:
                versions[member.url] = tuple(other for other in group if other.url != member.url)
        return versions


class SecurityHeaders:
    """The response headers every answer carries (``HEADERS``, and no caching), added as the
    response starts: a plain ASGI layer, where an ``http`` middleware would pass every response
    through a stream of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] == "/api/docs"  # its page loads its own script and styles

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if not (docs and name == "Content-Security-Policy"):
                        headers.setdefault(name, value)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def _threads(store: Store) -> int:
    """How many requests a process works on at once: as many as the store keeps connections
    (two cores gain nothing from more threads contending for one interpreter lock)."""
    pool = store.engine.pool
    return max(2, pool.size()) if isinstance(pool, QueuePool) else DEFAULT_THREADS


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
    threads = _threads(store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Pages run in worker threads, each reading through a pooled connection: with more
        # threads than the pool keeps, connections are opened and closed under load, and a new
        # SQLite connection reads the schema again and starts with an empty page cache.
        to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="Film cooperation monitor",
        summary="The press office's archive of stories: search, read, judge.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.workspace = workspace

    app.add_middleware(SecurityHeaders)

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
        app = create_app(config, secure_cookies=secure_cookies)
        _warm(app)
        uvicorn.run(app, **common)
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
    app = create_app(config, secure_cookies=bool(os.environ.get(_SECURE_ENV)))
    _warm(app)
    return app


def _warm(app: FastAPI) -> None:
    """What the first story page and the latest stories would otherwise compute while a reader
    waits: the language packs the grouping uses (about half a second) are read before serving;
    the views most visits open (the latest week, grouped: seconds on a busy archive) are
    computed in the background, and a request for one meanwhile waits for that computation."""
    from monitor.tag.packs import builtin_packs

    builtin_packs()
    workspace: Workspace = app.state.workspace

    def compute() -> None:
        for opener in workspace.openers:
            try:
                opener()
            except Exception as exc:  # a page will say what is wrong when it is asked for
                log.warning("could not prepare a view: %s", exc)

    threading.Thread(target=compute, name="views", daemon=True).start()
