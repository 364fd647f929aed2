"""A small HTTP server on 127.0.0.1 for the offline demo and the test suite.

Routes map a path to a handler that returns a ``Reply``. Replies can be delayed, streamed in
timed chunks or cut off, which is how the tests imitate slow and broken outlets. The server runs in
a background thread; ``stop()`` releases any reply that is still waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""  # what a POST sent


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line is sent
    # When set, the body is sent as these chunks, ``chunk_delay`` seconds apart, after the headers.
    chunks: Iterable[bytes] | None = None
    chunk_delay: float = 0.0
    close_after: int | None = None  # drop the connection after this many body bytes


Handler = Callable[[Request], Reply]


def static(
    body: bytes | str,
    content_type: str = "application/xml; charset=utf-8",
    *,
    etag: str | None = None,
    last_modified: float | None = None,
    headers: dict[str, str] | None = None,
) -> Handler:
    """A fixed resource that answers conditional requests with 304 like a well-behaved server."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    lm = formatdate(last_modified, usegmt=True) if last_modified is not None else None

    def handle(request: Request) -> Reply:
        base = {"Content-Type": content_type, **(headers or {})}
        if etag:
            base["ETag"] = etag
        if lm:
            base["Last-Modified"] = lm
        if (etag and request.headers.get("if-none-match") == etag) or (
            lm and not etag and request.headers.get("if-modified-since") == lm
        ):
            return Reply(304, b"", {k: v for k, v in base.items() if k != "Content-Type"})
        return Reply(200, data, base)

    return handle


class LocalServer:
    """``with LocalServer() as server: server.route("/feed.xml", static(...))``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._routes: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.requests: list[Request] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "LocalServer/1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: tests and the demo report what matters themselves

            def do_GET(self) -> None:
                server._serve(self, "GET")

            def do_HEAD(self) -> None:
                server._serve(self, "HEAD")

            def do_POST(self) -> None:
                server._serve(self, "POST")

        self._httpd = ThreadingHTTPServer((host, port), _Handler)
        self._httpd.daemon_threads = True
        # A short poll keeps stop() quick; the suite starts and stops many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def route(self, path: str, handler: Handler) -> None:
        with self._lock:
            self._routes[path] = handler

    def hits(self, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; False when it is."""
        return not self._stopping.wait(seconds) if seconds > 0 else not self._stopping.is_set()

    def _serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        headers = {k.lower(): v for k, v in h.headers.items()}
        length = int(headers.get("content-length") or 0) if method == "POST" else 0
        body = h.rfile.read(length) if length > 0 else b""
        request = Request(method, parts.path, parts.query, headers, body)
        with self._lock:
            self.requests.append(request)
            handler = self._routes.get(parts.path)
        reply = (
            handler(request)
            if handler
            else Reply(404, b"not found", {"Content-Type": "text/plain"})
        )
        if not self._wait(reply.delay):
            return
        # The client may give up, as clients of slow servers should.
        with suppress(BrokenPipeError, ConnectionResetError):
            self._send(h, method, reply)

    def _send(self, h: BaseHTTPRequestHandler, method: str, reply: Reply) -> None:
        h.send_response(reply.status)
        names = {k.lower() for k in reply.headers}
        for name, value in reply.headers.items():
            h.send_header(name, value)
        chunks: Iterator[bytes] | None = iter(reply.chunks) if reply.chunks is not None else None
        if chunks is None and "content-length" not in names:
            h.send_header("Content-Length", str(len(reply.body)))
        if chunks is not None or reply.close_after is not None:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        if method == "HEAD" or reply.status in (204, 304):
            return
        if chunks is None:
            body = reply.body if reply.close_after is None else reply.body[: reply.close_after]
            h.wfile.write(body)
            return
        sent = 0
        for chunk in chunks:
            if reply.close_after is not None and sent + len(chunk) > reply.close_after:
                h.wfile.write(chunk[: reply.close_after - sent])
                return
            h.wfile.write(chunk)
            h.wfile.flush()
            sent += len(chunk)
            if not self._wait(reply.chunk_delay):
                return
