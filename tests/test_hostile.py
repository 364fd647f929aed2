"""The hostile web, end to end: ``monitor run --all`` once over outlets that misbehave on purpose,
beside two well-behaved ones, then the database, ``monitor sources status`` and the written digest
are checked.

The cycle runs as a subprocess (``python -m monitor``), not in-process through ``cli.main``:

- its peak memory is the monitor's own, not that of a pytest process that has run other tests
  before: the kernel's high-water mark (VmHWM) of the monitor process, read while it runs, and
  the resident sets of its whole tree, sampled. (Not ``ru_maxrss``: Linux carries the parent's
  high-water mark over the child's exec, so it reports pytest's size once pytest is bigger.)
- the servers below run in this process's threads while the monitor runs in its own interpreter,
  so a server that drips a byte a second really does, and no GIL is shared between them;
- it is the real entry point, exit status included.

``LocalServer`` plays the outlets that misbehave within HTTP (stalls, status codes, redirects,
bombs, bad feeds). ``RawServer`` below speaks just enough HTTP/1.1 on a bare socket for what
``http.server`` cannot do: drip the response a byte a second, reset the connection mid-body
(RST, not FIN), declare a 10 GB Content-Length, send broken chunked encoding.

Links to private addresses from a source *on the internet* cannot be set up through the CLI
(every local server is itself private, and the DNS resolver cannot be injected there), so that
refusal is tested one level down, on ``run_cycle`` with an injected resolver and a transport
that forwards every host to the local server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import gzip
import html
import json
import logging
import os
import re
import signal
import socket
import socketserver
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from monitor import cli, sources_cmd
from monitor.config import load_config
from monitor.extract import extract_page
from monitor.fetch import Fetcher
from monitor.grouping import anchors
from monitor.localserver import LocalServer, Reply, Request, static
from monitor.models import PageText, RunReport, Source
from monitor.models import Story as DigestStory
from monitor.pipeline import MAX_ITEMS_PER_CYCLE, CycleOptions, run_cycle
from monitor.robots import Robots
from monitor.settings import FetchPolicy
from monitor.store import Store
from tests.sites import Story, cached_tagger, page, rss
from tests.test_e2e import AZ_COOP, AZ_OTHER, EN_COOP, EN_OTHER, serve_outlet

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent

# Every kind of misbehaviour the hostile web serves; each is the name of one source in its
# sources.yaml (checked by test_every_fault_kind_is_configured_and_checked).
FAULT_KINDS = (
    "stall",  # no status line for 30 s
    "drip",  # the whole response a byte a second
    "reset_mid_body",  # RST after 1 KB of a 50 KB body
    "broken_chunking",  # Transfer-Encoding: chunked with a chunk size that is not hex
    "refused",  # nothing listens on the port
    "http_500",
    "http_503_retry_after_2",
    "http_503_retry_after_9999",
    "http_429",
    "http_404",
    "http_410",
    "redirect_loop",
    "redirect_to_file",
    "redirect_to_ftp",
    "huge_content_length",  # Content-Length: 10 GB, a few bytes sent
    "gzip_bomb",  # 1 MB on the wire, 1 GiB inflated
    "html_not_feed",
    "empty_200",
    "truncated_xml",
    "invalid_utf8",  # a UTF-8 feed with bytes cut out of two-byte characters
    "bom",  # UTF-8 byte-order mark before the XML declaration
    "billion_laughs",
    "xxe",  # <!ENTITY xxe SYSTEM "file:///etc/passwd">
    "items_20000",
    "title_1mb",
    "script_in_title",  # <script>, <img onerror> in item titles
    "script_in_link",  # "><script> in an item's link
    "javascript_link",  # javascript:, data: links
    "private_links",  # a feed on 127.0.0.1 linking to 127.0.0.1 (followed: the source lives there)
)

# The clean result or the stable error code each source must end with.
OK = "ok"
EXPECTED: dict[str, str] = {
    "stall": "fetch.timeout",
    "drip": "fetch.timeout",
    "reset_mid_body": "fetch.network",
    "broken_chunking": "fetch.network",
    "refused": "fetch.refused",
    "http_500": "fetch.http_500",
    "http_503_retry_after_2": "fetch.http_503",
    "http_503_retry_after_9999": "fetch.http_503",
    "http_429": "fetch.http_429",
    "http_404": "fetch.http_404",
    "http_410": "fetch.http_410",
    "redirect_loop": "fetch.too_many_redirects",
    "redirect_to_file": "fetch.bad_redirect",
    "redirect_to_ftp": "fetch.bad_redirect",
    "huge_content_length": "fetch.too_large",
    "gzip_bomb": "fetch.too_large",
    "html_not_feed": "parse.not_a_feed",
    "empty_200": "parse.empty",
    "truncated_xml": OK,
    "invalid_utf8": OK,
    "bom": OK,
    "billion_laughs": OK,
    "xxe": OK,
    "items_20000": OK,
    "title_1mb": OK,
    "script_in_title": OK,
    "script_in_link": OK,
    "javascript_link": OK,
    "private_links": OK,
}
GOOD = ("good_en", "good_az")

MAIN_RSS_BOUND_MB = 400  # the monitor process itself (its VmHWM), despite bomb, 10 GB, 20,000 items
# The monitor, its forkserver and one extraction worker per CPU (ProcessExtractor's default),
# sampled every 0.2 s.
TREE_RSS_BOUND_MB = MAIN_RSS_BOUND_MB + 100 + 150 * (os.cpu_count() or 1)
RUN_DEADLINE = 240.0  # seconds before the cycle is killed as hung

MAX_REDIRECTS = FetchPolicy().max_redirects
# Limits for the cycles run in-process below.
QUICK = dict(connect_timeout=2.0, total_timeout=3.0, retries=0, host_interval=0.0)
BULK_ITEMS = 20_000
ITEMS_PER_FEED_BOUND = 1000  # what a sitemap gives per cycle (monitor.listing.parse_sitemap)


# --- stories ------------------------------------------------------------------------------------


def coop(slug: str, title: str, a: str, b: str, city_a: str, city_b: str) -> Story:
    """A film-cooperation story between countries ``a`` and ``b``: tagged, and with countries of
    its own so that the digest's grouping never folds it into another outlet's story."""
    return Story(
        slug,
        title,
        (
            f"The national film agencies of {a} and {b} signed a co-production agreement in {city_a} on Monday.",
            "Under the agreement the two film agencies will co-finance feature films and documentaries and exchange students between their film schools.",
            f"Officials said the first joint film project would start shooting next spring in {city_a} and {city_b}.",
        ),
    )


GE_FR = coop(
    "ge-fr",
    "Georgia and France sign film co-production agreement",
    "Georgia",
    "France",
    "Tbilisi",
    "Lyon",
)
KZ_UZ = coop(
    "kz-uz",
    "Kazakhstan and Uzbekistan sign film co-production agreement",
    "Kazakhstan",
    "Uzbekistan",
    "Almaty",
    "Samarkand",
)
RS_HU = coop(
    "rs-hu",
    "Serbia and Hungary sign film co-production agreement",
    "Serbia",
    "Hungary",
    "Belgrade",
    "Budapest",
)
EG_MA = coop(
    "eg-ma",
    "Egypt and Morocco sign film co-production agreement",
    "Egypt",
    "Morocco",
    "Cairo",
    "Rabat",
)
MN_JP = coop(
    "mn-jp",
    "Mongolia and Japan sign film co-production agreement",
    "Mongolia",
    "Japan",
    "Ulaanbaatar",
    "Osaka",
)
PT_BR = coop(
    "pt-br",
    "Portugal and Brazil sign film co-production agreement",
    "Portugal",
    "Brazil",
    "Lisbon",
    "Recife",
)
NO_CL = coop(
    "no-cl",
    "Norway and Chile sign film co-production agreement",
    "Norway",
    "Chile",
    "Oslo",
    "Valparaiso",
)

SCRIPT = "<script>alert(1)</script>"
# Double-escaped in the XML: the title *text* is the markup, as a careless CMS produces it.
LITERAL_SCRIPT_TITLE = f"{SCRIPT} {GE_FR.title}"
BIG_TITLE = ("Breaking news from the region today " * 30_000)[: 1024 * 1024]
# The valid title of the feed whose "Bakı"s lost the second byte of their "ı" (what a CMS
# that cuts strings by bytes produces).
AZ_TITLE = "Azərbaycan və Türkiyə birgə film istehsalı haqqında saziş imzaladı"
PASSWD_MARKERS = ("root:", "/bin/", "nologin")


def xml_feed(items: str, *, prolog: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    return (
        f'{prolog}<rss version="2.0"><channel><title>hostile</title>'
        f"<link>http://hostile.example/</link><description>x</description>{items}</channel></rss>"
    )


def item(title_xml: str, link_xml: str | None, story: Story, extra: str = "") -> str:
    """One <item>; ``title_xml`` and ``link_xml`` go into the XML as given (already escaped)."""
    link = f"<link>{link_xml}</link>" if link_xml is not None else ""
    text = html.escape(" ".join(story.paragraphs))
    return f"<item><title>{title_xml}</title>{link}<description>{text}{extra}</description></item>"


def serve_page(server: LocalServer, path: str, story: Story) -> str:
    server.route(path, static(page(story.title, story.paragraphs), "text/html; charset=utf-8"))
    return server.url(path)


# --- a server that breaks HTTP itself -----------------------------------------------------------


class RawServer:
    """A TCP server on 127.0.0.1 answering each path with a function of the bare socket."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.hits: list[tuple[str, float]] = []
        self._lock = threading.Lock()
        self._routes: dict[str, Callable[[socket.socket], None]] = {}
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                outer._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = False
            block_on_close = True  # server_close() joins the handlers: no socket outlives a test

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def route(self, path: str, behaviour: Callable[[socket.socket], None]) -> None:
        self._routes[path] = behaviour

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for p, _ in self.hits if p == path)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _handle(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                chunk = sock.recv(4096)
                if not chunk:
                    return
                head += chunk
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) > 1 else "/"
            with self._lock:
                self.hits.append((path, time.monotonic()))
            behaviour = self._routes.get(path, not_found)
            behaviour(sock)
        except OSError:
            pass  # the client gave up, as it should

    # behaviours

    def drip(self, body: bytes) -> Callable[[socket.socket], None]:
        response = (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )

        def behave(sock: socket.socket) -> None:
            for byte in response:  # status line and headers included
                sock.sendall(bytes([byte]))
                if self.stopping.wait(1.0):
                    return

        return behave


def not_found(sock: socket.socket) -> None:
    sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


def reset_mid_body(sock: socket.socket) -> None:
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 50000\r\n\r\n"
        + b"<rss>" * 200
    )
    time.sleep(0.1)
    # Linger 0: close() sends RST instead of FIN, as a crashing proxy does.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def huge_content_length(sock: socket.socket) -> None:
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
        b"Content-Length: 10737418240\r\nConnection: close\r\n\r\n<rss version='2.0'>"
    )


def broken_chunking(sock: socket.socket) -> None:
    sock.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\nzz\r\n<rss version='2.0'>\r\n0\r\n\r\n"
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the hostile web ----------------------------------------------------------------------------


@dataclass
class Timed:
    """A route handler that records when each request came."""

    reply: Reply
    times: list[float] = field(default_factory=list)

    def __call__(self, request: Request) -> Reply:
        self.times.append(time.monotonic())
        return self.reply


def gzip_bomb() -> bytes:
    """1 GiB of zeros in about 1 MB: 64 concatenated gzip members of 16 MiB each (valid gzip)."""
    member = gzip.compress(b"\0" * (16 * 1024 * 1024), compresslevel=9)
    return member * 64


def build_hostile_web(
    server: LocalServer, raw: RawServer, quiet: LocalServer
) -> tuple[list[dict[str, str]], dict[str, Timed]]:
    """Route every outlet; return the sources and the handlers whose timing is checked.

    The outlet whose retry is timed to the second lives alone on ``quiet``: on ``server`` its
    retry would rightly wait for one of the host's ``per_host`` slots, held by the slow outlets
    and the big feed's pages."""
    s = server.url
    sources: list[dict[str, str]] = []

    def add(name: str, url: str, **extra: str) -> None:
        sources.append({"name": name, "url": url, **extra})

    add(
        "good_en",
        serve_outlet(server, "good-en", [EN_COOP, EN_OTHER], "en"),
        language="en",
        country="AZ",
    )
    add(
        "good_az",
        serve_outlet(server, "good-az", [AZ_COOP, AZ_OTHER], "az"),
        language="az",
        country="AZ",
    )

    # Pages of the 20,000-item feed are closed to robots: the cycle then measures the item
    # handling itself (a 404 per page instead would add 20,000 requests to the run).
    server.route("/robots.txt", static("User-agent: *\nDisallow: /bulk/\n", "text/plain"))

    server.route("/stall/rss.xml", lambda _r: Reply(200, b"<rss/>", delay=30))
    add("stall", s("/stall/rss.xml"))
    raw.route("/drip/rss.xml", raw.drip(rss("drip", raw.url("/drip"), [EN_OTHER]).encode()))
    add("drip", raw.url("/drip/rss.xml"))
    raw.route("/reset/rss.xml", reset_mid_body)
    add("reset_mid_body", raw.url("/reset/rss.xml"))
    raw.route("/chunked/rss.xml", broken_chunking)
    add("broken_chunking", raw.url("/chunked/rss.xml"))
    add("refused", f"http://127.0.0.1:{closed_port()}/rss.xml")

    timed = {
        "http_500": Timed(Reply(500, b"oops", {"Content-Type": "text/plain"})),
        "http_503_retry_after_2": Timed(Reply(503, b"busy", {"Retry-After": "2"})),
        "http_503_retry_after_9999": Timed(Reply(503, b"busy", {"Retry-After": "9999"})),
        "http_429": Timed(Reply(429, b"slow down", {"Content-Type": "text/plain"})),
        "http_404": Timed(Reply(404, b"missing", {"Content-Type": "text/plain"})),
        "http_410": Timed(Reply(410, b"gone", {"Content-Type": "text/plain"})),
    }
    for name, handler in timed.items():
        host = quiet if name == "http_503_retry_after_2" else server
        host.route(f"/{name}/rss.xml", handler)
        add(name, host.url(f"/{name}/rss.xml"))

    server.route("/loop/a.xml", lambda _r: Reply(302, headers={"Location": "/loop/b.xml"}))
    server.route("/loop/b.xml", lambda _r: Reply(301, headers={"Location": s("/loop/a.xml")}))
    add("redirect_loop", s("/loop/a.xml"))
    server.route("/file/rss.xml", lambda _r: Reply(302, headers={"Location": "file:///etc/passwd"}))
    add("redirect_to_file", s("/file/rss.xml"))
    server.route(
        "/ftp/rss.xml", lambda _r: Reply(301, headers={"Location": "ftp://127.0.0.1/pub/rss.xml"})
    )
    add("redirect_to_ftp", s("/ftp/rss.xml"))
    raw.route("/huge/rss.xml", huge_content_length)
    add("huge_content_length", raw.url("/huge/rss.xml"))
    bomb = gzip_bomb()
    server.route(
        "/bomb/rss.xml",
        static(bomb, "application/rss+xml", headers={"Content-Encoding": "gzip"}),
    )
    add("gzip_bomb", s("/bomb/rss.xml"))

    server.route("/html/rss.xml", static(page(EN_COOP.title, EN_COOP.paragraphs), "text/html"))
    add("html_not_feed", s("/html/rss.xml"))
    server.route("/empty/rss.xml", static(b"", "application/rss+xml"))
    add("empty_200", s("/empty/rss.xml"))

    # Cut in the middle of the second item: the first is complete.
    whole = xml_feed(
        item(html.escape(NO_CL.title), serve_page(server, "/cut/no-cl.html", NO_CL), NO_CL)
        + item(html.escape(EN_OTHER.title), s("/cut/other.html"), EN_OTHER)
    )
    cut = whole[: whole.index("<item>", whole.index("<item>") + 1) + 60]
    server.route("/cut/rss.xml", static(cut, "application/rss+xml"))
    add("truncated_xml", s("/cut/rss.xml"))

    az_story = Story("az-cut", AZ_TITLE, AZ_COOP.paragraphs)
    body = xml_feed(
        item(html.escape(AZ_TITLE), serve_page(server, "/utf/az.html", az_story), az_story)
        + item("Bakı", s("/utf/baku.html"), AZ_OTHER)
    ).encode("utf-8")
    body = body.replace("Bakı".encode(), "Bakı".encode()[:-1])  # 0xC4 alone, then "<"
    server.route("/utf/rss.xml", static(body, "application/rss+xml; charset=utf-8"))
    add("invalid_utf8", s("/utf/rss.xml"), language="az")

    bom_story = Story("bom", "Byte-order mark feed " + EN_OTHER.title, EN_OTHER.paragraphs)
    bom = b"\xef\xbb\xbf" + xml_feed(
        item(html.escape(bom_story.title), serve_page(server, "/bom/a.html", bom_story), bom_story)
    ).encode("utf-8")
    server.route("/bom/rss.xml", static(bom, "application/rss+xml; charset=utf-8"))
    add("bom", s("/bom/rss.xml"))

    laughs = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
        + "\n".join(
            f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
            for i in range(1, 10)
        )
        + "\n]>"
    )
    body = xml_feed(item("Laughs &lol9;", s("/laughs/a.html"), EN_OTHER, "&lol9;"), prolog=laughs)
    server.route("/laughs/rss.xml", static(body, "application/rss+xml"))
    add("billion_laughs", s("/laughs/rss.xml"))

    xxe = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE rss [\n'
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
        f'<!ENTITY remote SYSTEM "{s("/xxe/remote.dtd")}">\n]>'
    )
    body = xml_feed(
        item("Passwords &xxe; &remote;", s("/xxe/a.html"), EN_OTHER, "&xxe;&remote;"), prolog=xxe
    )
    server.route("/xxe/rss.xml", static(body, "application/rss+xml"))
    server.route("/xxe/remote.dtd", static("remote entity fetched", "text/plain"))
    add("xxe", s("/xxe/rss.xml"))

    bulk = "".join(
        f"<item><title>Bulk item {i}</title><link>{s(f'/bulk/{i}.html')}</link></item>"
        for i in range(BULK_ITEMS)
    )
    server.route("/bulk/rss.xml", static(xml_feed(bulk), "application/rss+xml"))
    add("items_20000", s("/bulk/rss.xml"))

    body = xml_feed(item(BIG_TITLE, serve_page(server, "/big/pt-br.html", PT_BR), PT_BR))
    server.route("/big/rss.xml", static(body, "application/rss+xml"))
    add("title_1mb", s("/big/rss.xml"))

    script_title = html.escape(html.escape(LITERAL_SCRIPT_TITLE))  # text that *is* markup
    cdata_title = f"<![CDATA[<script>alert(2)</script><img src=x onerror=alert(3)> {KZ_UZ.title}]]>"
    body = xml_feed(
        item(script_title, serve_page(server, "/xss/ge-fr.html", GE_FR), GE_FR)
        + item(
            cdata_title,
            serve_page(server, "/xss/kz-uz.html", KZ_UZ),
            KZ_UZ,
            html.escape('<a href="javascript:alert(4)">more</a><script>alert(5)</script>'),
        )
    )
    server.route("/xss/rss.xml", static(body, "application/rss+xml"))
    add("script_in_title", s("/xss/rss.xml"))

    serve_page(server, "/xlink/rs-hu.html", RS_HU)
    hostile_link = s('/xlink/rs-hu.html?q="><script>alert(6)</script>')
    body = xml_feed(item(html.escape(RS_HU.title), html.escape(hostile_link), RS_HU))
    server.route("/xlink/rss.xml", static(body, "application/rss+xml"))
    add("script_in_link", s("/xlink/rss.xml"))

    body = xml_feed(
        item(html.escape(EG_MA.title), "javascript:alert(7)", EG_MA)
        + item(html.escape(MN_JP.title), " &#106;ava&#x09;script:alert(8)", MN_JP)
        + item(
            "Data link",
            html.escape("data:text/html,<script>alert(9)</script>"),
            EN_OTHER,
        )
    )
    server.route("/js/rss.xml", static(body, "application/rss+xml"))
    add("javascript_link", s("/js/rss.xml"))

    body = xml_feed(item(html.escape(KZ_UZ.title + " (local)"), s("/local/kz-uz.html"), KZ_UZ))
    serve_page(server, "/local/kz-uz.html", KZ_UZ)
    server.route("/local/rss.xml", static(body, "application/rss+xml"))
    add("private_links", s("/local/rss.xml"))
    return sources, timed


def write_hostile_config(folder: Path, sources: list[dict[str, str]]) -> Path:
    lines = [
        "storage: storage/monitor.db",
        "reports: reports/",
        "timezone: UTC",
        "fetch:",
        "  timeout: 3s",
        "  connect_timeout: 2s",
        "  retries: 1",
        "  max_body_mb: 2",
        "  host_interval: 0s",
        "  per_host: 8",
        "sources:",
    ]
    for source in sources:
        lines.append(f"  - name: {source['name']}")
        for key, value in source.items():
            if key != "name":
                lines.append(f"    {key}: {json.dumps(value)}")  # JSON strings are YAML
    path = folder / "sources.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- running the monitor ------------------------------------------------------------------------


def _high_water(pid: int) -> int:
    """Peak resident bytes of ``pid`` so far (VmHWM; Linux); 0 once it has exited, or elsewhere."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants now (Linux /proc); 0 elsewhere."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    page_size = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page_size
    return total


@dataclass
class Run:
    status: int
    seconds: float
    max_rss_mb: float  # the monitor process's VmHWM, last read before it exited
    tree_rss_mb: float  # the monitor and its descendants, sampled
    log: str


def run_monitor(config: Path, *args: str, deadline: float = RUN_DEADLINE) -> Run:
    """``python -m monitor --config CONFIG ARGS`` in its own process; output to a file (a full
    pipe would block the monitor's logging)."""
    log_path = config.parent / f"monitor-{time.monotonic_ns()}.log"
    started = time.monotonic()
    with log_path.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=config.parent,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            start_new_session=True,
        )
    peak = high_water = 0
    try:
        while process.poll() is None:
            if time.monotonic() - started > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                break
            high_water = max(high_water, _high_water(process.pid))
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.1)
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    return Run(
        status=process.returncode,
        seconds=time.monotonic() - started,
        max_rss_mb=high_water / 2**20,
        tree_rss_mb=peak / 2**20,
        log=log_path.read_text(encoding="utf-8", errors="replace"),
    )


@dataclass
class HostileWeb:
    folder: Path
    config: Path
    sources: list[dict[str, str]]
    first: Run
    second: Run
    hits_before_second: dict[str, int]
    hits_after_second: dict[str, int]
    raw_hits: dict[str, int]
    timed: dict[str, Timed]

    def query(self, sql: str, *params: object) -> list[sqlite3.Row]:
        conn = sqlite3.connect(self.folder / "storage" / "monitor.db")
        try:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def row(self, name: str) -> sqlite3.Row:
        found = self.query(
            "SELECT s.*, rs.status AS run_status, rs.error_code AS run_error, "
            "rs.error_message AS run_message, rs.warnings AS run_warnings FROM sources s "
            "JOIN run_sources rs ON rs.source_id = s.id AND rs.run_id = 1 WHERE s.name = ?",
            name,
        )
        assert found, f"{name}: no outcome recorded in the first run"
        return found[0]

    def articles(self, name: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT a.* FROM articles a JOIN sources s ON s.id = a.source_id "
            "WHERE s.name = ? ORDER BY a.id",
            name,
        )

    def digest(self, suffix: str) -> str:
        files = sorted((self.folder / "reports").glob(f"????-??-??{suffix}"))
        assert files, f"no digest {suffix} written"
        return files[-1].read_text(encoding="utf-8")


def _path_hits(server: LocalServer) -> dict[str, int]:
    counts: dict[str, int] = {}
    for request in list(server.requests):
        counts[request.path] = counts.get(request.path, 0) + 1
    return counts


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileWeb]:
    folder = tmp_path_factory.mktemp("hostile")
    with LocalServer() as server, RawServer() as raw, LocalServer() as quiet:
        sources, timed = build_hostile_web(server, raw, quiet)
        config = write_hostile_config(folder, sources)
        first = run_monitor(config, "run", "--all")
        before = _path_hits(server)
        second = run_monitor(config, "run", "--no-digest")  # what cron runs next: only what is due
        after = _path_hits(server)
        raw_hits = {path: raw.count(path) for path, _ in list(raw.hits)}
    yield HostileWeb(folder, config, sources, first, second, before, after, raw_hits, timed)


# --- the run as a whole -------------------------------------------------------------------------


def test_the_run_finishes_with_status_0_in_bounded_memory(web: HostileWeb) -> None:
    first = web.first
    print(
        f"\nhostile run: {first.seconds:.1f} s, monitor peak RSS {first.max_rss_mb:.0f} MB, "
        f"process tree sampled peak {first.tree_rss_mb:.0f} MB; second run {web.second.seconds:.1f} s"
    )
    cycle = re.search(r"tagged; ([\d.]+) s", first.log)
    if cycle:  # the rest is start-up (about the second run's time) and the digest
        rest = first.seconds - float(cycle.group(1)) - web.second.seconds
        print(f"cycle {cycle.group(1)} s; digest after it about {rest:.0f} s")
    late = web.query(
        "SELECT s.name, (julianday(s.last_attempt_at) - julianday(r.started_at)) * 86400 "
        "FROM sources s, runs r WHERE r.id = 1 AND s.name IN ('stall', 'drip', 'items_20000')"
    )
    # stall and drip fail in about 7 s (3 s, 1 s back-off, 3 s) when the event loop is free
    print("outcome recorded after: " + ", ".join(f"{n} {t:.0f} s" for n, t in late))
    assert first.status == 0, first.log[-3000:]
    assert "Traceback" not in first.log, first.log[-3000:]
    assert "internal.error" not in first.log
    assert first.max_rss_mb < MAIN_RSS_BOUND_MB
    assert first.tree_rss_mb < TREE_RSS_BOUND_MB
    summary = re.search(r"(\d+) sources: (\d+) ok, \d+ unchanged, (\d+) failed", first.log)
    assert summary, first.log[-3000:]
    failing = sum(1 for code in EXPECTED.values() if code != OK)
    assert summary.groups() == (
        str(len(FAULT_KINDS) + len(GOOD)),
        str(len(FAULT_KINDS) + len(GOOD) - failing),
        str(failing),
    )


def test_database_is_intact_and_every_source_has_an_outcome(web: HostileWeb) -> None:
    assert [tuple(r) for r in web.query("PRAGMA integrity_check")] == [("ok",)]
    recorded = web.query("SELECT count(*) FROM run_sources WHERE run_id = 1")[0][0]
    assert recorded == len(FAULT_KINDS) + len(GOOD)
    runs = [tuple(r) for r in web.query("SELECT id, status FROM runs ORDER BY id")]
    assert runs == [(1, "ok"), (2, "idle")]  # the second found nothing due


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_ends_in_its_code_or_a_clean_result(web: HostileWeb, kind: str) -> None:
    row = web.row(kind)
    expected = EXPECTED[kind]
    if expected == OK:
        assert (row["run_status"], row["run_error"]) == ("ok", None), row["run_message"]
        assert row["last_error_code"] is None
        assert row["consecutive_failures"] == 0
        assert web.articles(kind), f"{kind}: nothing stored"
    else:
        assert row["run_status"] == "error"
        assert row["run_error"] == row["last_error_code"] == expected, row["run_message"]
        assert row["run_message"]  # a message for the operator, not just the code
        assert row["consecutive_failures"] == 1
        assert web.articles(kind) == []


def test_the_good_outlets_lose_no_story(web: HostileWeb) -> None:
    for name, stories in (("good_en", (EN_COOP, EN_OTHER)), ("good_az", (AZ_COOP, AZ_OTHER))):
        rows = web.articles(name)
        assert {r["title"] for r in rows} == {s.title for s in stories}
        assert {r["text_origin"] for r in rows} == {"page"}, [r["extract_error"] for r in rows]
    tagged = {
        r["title"]
        for r in web.query(
            "SELECT a.title FROM articles a JOIN tags t ON t.article_id = a.id "
            "WHERE t.topic = 'film_cooperation'"
        )
    }
    assert {EN_COOP.title, AZ_COOP.title} <= tagged
    assert EN_OTHER.title not in tagged and AZ_OTHER.title not in tagged
    digest = json.loads(web.digest(".json"))
    titles = {s["title"] for s in digest["stories"]}
    assert {EN_COOP.title, AZ_COOP.title} <= titles


def test_sources_status_shows_each_failure(
    web: HostileWeb, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        assert cli.main(["--config", str(web.config), "sources", "status"]) == 0
    finally:  # cli.main points the root logger at this test's captured stderr
        root.handlers[:], root.level = handlers, level
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    for kind in FAULT_KINDS:
        code = EXPECTED[kind]
        if code == OK:
            assert " ok " in lines[kind] or " silent " in lines[kind], lines[kind]
        else:
            assert code in lines[kind], lines[kind]
            assert "failing (" in lines[kind]
    assert "failing (hard)" in lines["http_404"] and "failing (hard)" in lines["http_410"]
    assert "failing (temporary)" in lines["http_503_retry_after_2"]


# --- timing, retries and back-off ---------------------------------------------------------------


def test_retries_follow_retry_after_and_the_policy(web: HostileWeb) -> None:
    timed = web.timed
    # retries: 1 -> two attempts for what may pass; one for what will not.
    assert len(timed["http_500"].times) == 2
    assert len(timed["http_429"].times) == 2
    first, second = timed["http_503_retry_after_2"].times
    # Waited the server's 2 s, not the policy's 1 s back-off. The upper bound is loose: this
    # retry falls in the busiest second of a hostile cycle on a small machine, when the event
    # loop wakes late (tests/test_fetch.py times Retry-After exactly, on a fake clock).
    assert 1.9 <= second - first < 6.0
    assert len(timed["http_503_retry_after_9999"].times) == 1  # failed at once, no 2.7 h wait
    assert "9999 s" in web.row("http_503_retry_after_9999")["run_message"]
    assert len(timed["http_404"].times) == 1
    assert len(timed["http_410"].times) == 1
    assert web.hits_before_second["/stall/rss.xml"] == 2
    assert web.raw_hits["/reset/rss.xml"] == 2
    assert web.raw_hits["/chunked/rss.xml"] == 2
    assert web.raw_hits["/drip/rss.xml"] == 2
    assert web.raw_hits["/huge/rss.xml"] == 1  # too large is not retried
    # A redirect loop stops at the cap: the first request and MAX_REDIRECTS redirects.
    loop = web.hits_before_second.get("/loop/a.xml", 0) + web.hits_before_second["/loop/b.xml"]
    assert loop == MAX_REDIRECTS + 1  # and not retried: a loop stays a loop
    assert "gave up after 2 attempts" in web.row("stall")["run_message"]


def test_gone_and_missing_sources_back_off_hard_and_are_not_fetched_again(web: HostileWeb) -> None:
    interval = timedelta(hours=1)  # the configured default
    for name in ("http_404", "http_410"):
        row = web.row(name)
        attempted = datetime.fromisoformat(row["last_attempt_at"])
        due = datetime.fromisoformat(row["next_due_at"])
        # hard class: interval x 4 after one failure (+-10% jitter), never the plain interval
        assert due - attempted > interval * 3, (name, due - attempted)
    assert web.second.status == 0, web.second.log[-2000:]
    for path in ("/http_404/rss.xml", "/http_410/rss.xml"):
        assert web.hits_after_second[path] == web.hits_before_second[path] == 1
    # Nothing was due a moment later: the second run fetched no feed at all.
    assert web.hits_after_second == web.hits_before_second
    assert "0 ok, 0 unchanged, 0 failed" in web.second.log


def test_redirects_to_other_schemes_name_the_target(web: HostileWeb) -> None:
    assert "file:///etc/passwd" in web.row("redirect_to_file")["run_message"]
    assert "ftp://" in web.row("redirect_to_ftp")["run_message"]
    assert "10737418240" in web.row("huge_content_length")["run_message"]


# --- feeds that are odd but usable --------------------------------------------------------------


def test_truncated_feed_keeps_its_complete_items_and_says_so(web: HostileWeb) -> None:
    row = web.row("truncated_xml")
    assert "not well-formed" in row["run_warnings"]
    titles = [a["title"] for a in web.articles("truncated_xml")]
    assert NO_CL.title in titles


def test_byte_order_mark_is_read_cleanly(web: HostileWeb) -> None:
    row = web.row("bom")
    assert json.loads(row["run_warnings"]) == []
    assert [a["title"] for a in web.articles("bom")] == ["Byte-order mark feed " + EN_OTHER.title]


def test_invalid_utf8_feed_is_read_with_a_warning(web: HostileWeb) -> None:
    row = web.row("invalid_utf8")
    assert "invalid UTF-8 replaced" in row["run_warnings"]
    assert len(web.articles("invalid_utf8")) == 2


def test_invalid_utf8_feed_keeps_its_valid_text(web: HostileWeb) -> None:
    titles = [a["title"] for a in web.articles("invalid_utf8")]
    assert AZ_TITLE in titles


def test_entities_are_never_expanded(web: HostileWeb) -> None:
    for name in ("billion_laughs", "xxe"):
        for article in web.articles(name):
            stored = " ".join(str(article[k] or "") for k in ("title", "summary", "text"))
            assert "lollol" not in stored
            assert len(stored) < 10_000
            assert not any(marker in stored for marker in PASSWD_MARKERS)
            assert "remote entity fetched" not in stored
    assert web.hits_before_second.get("/xxe/remote.dtd", 0) == 0  # no external entity fetched


def test_twenty_thousand_items_do_not_break_the_run(web: HostileWeb) -> None:
    articles = web.articles("items_20000")
    assert articles, "the big feed gave nothing"
    assert {a["extract_error"] for a in articles} == {"fetch.robots_disallowed"}
    assert not any(p.startswith("/bulk/") and p != "/bulk/rss.xml" for p in web.hits_before_second)


def test_twenty_thousand_items_are_bounded(web: HostileWeb) -> None:
    assert len(web.articles("items_20000")) <= ITEMS_PER_FEED_BOUND


STALL_ITEMS = 1500
MAX_LOOP_STALL = 0.5  # seconds; every fetch in flight meanwhile runs down its timeout


def test_a_big_feed_does_not_stall_the_event_loop(server: LocalServer, tmp_path: Path) -> None:
    items = "".join(
        f"<item><title>Bulk item {i}</title><link>{server.url(f'/bulk/{i}.html')}</link></item>"
        for i in range(STALL_ITEMS)
    )
    server.route("/bulk/rss.xml", static(xml_feed(items), "application/rss+xml"))
    server.route("/robots.txt", static("User-agent: *\nDisallow: /bulk/\n", "text/plain"))
    gaps: list[float] = []
    Store(f"sqlite:///{tmp_path / 'stall.db'}").close()  # created before the clock: not the cycle's

    async def go() -> None:
        done = asyncio.Event()

        async def heartbeat() -> None:
            last = time.monotonic()
            while not done.is_set():
                await asyncio.sleep(0.02)
                now = time.monotonic()
                gaps.append(now - last - 0.02)
                last = now

        policy = FetchPolicy(**QUICK, allow_private=True)
        async with Fetcher(policy) as fetcher:
            beat = asyncio.create_task(heartbeat())
            report = await cycle_in_process(
                [Source("Bulk", server.url("/bulk/rss.xml"))], fetcher, tmp_path / "stall.db"
            )
            done.set()
            await beat
        assert report.outcomes[0].new_items == min(STALL_ITEMS, MAX_ITEMS_PER_CYCLE)

    # The objects earlier tests left in this process are not the cycle's: a full collection
    # walking them all would be timed as the cycle's stall.
    gc.collect()
    gc.freeze()
    try:
        asyncio.run(go())
    finally:
        gc.unfreeze()
    print(f"\nlongest event-loop stall: {max(gaps):.3f} s")
    assert max(gaps) < MAX_LOOP_STALL, f"event loop stalled for {max(gaps):.1f} s"


# --- what reaches the digest --------------------------------------------------------------------


def test_hostile_titles_and_links_are_stored_as_text(web: HostileWeb) -> None:
    xss = {a["url"]: a for a in web.articles("script_in_title")}
    literal = next(a for a in xss.values() if a["url"].endswith("/xss/ge-fr.html"))
    assert literal["title"] == LITERAL_SCRIPT_TITLE  # the text, kept as text
    cdata = next(a for a in xss.values() if a["url"].endswith("/xss/kz-uz.html"))
    assert "<script" not in cdata["title"] and "onerror" not in cdata["title"]
    assert "javascript:" not in cdata["summary"] and "alert(5)" not in cdata["summary"]
    js = web.articles("javascript_link")
    assert len(js) == 3
    assert [(a["url"], a["extract_error"]) for a in js] == [(None, "extract.no_link")] * 3
    (big,) = web.articles("title_1mb")
    assert big["text_origin"] == "page"
    (link,) = web.articles("script_in_link")
    assert "/xlink/rs-hu.html" in link["url"]
    local = web.articles("private_links")
    assert [a["text_origin"] for a in local] == ["page"]  # 127.0.0.1 -> 127.0.0.1: followed


def test_the_html_digest_is_safe(web: HostileWeb) -> None:
    page_html = web.digest(".html")
    assert not re.search(r"<\s*(script|img|iframe)", page_html, re.IGNORECASE)
    assert not re.search(r"""href\s*=\s*["']?\s*(javascript|data|vbscript):""", page_html, re.I)
    # The hostile titles and link did reach the page, escaped.
    assert str(escape(LITERAL_SCRIPT_TITLE)) in page_html
    assert str(escape('"><script>alert(6)</script>')) in page_html  # in an href attribute
    feed = (web.folder / "reports" / "feed.xml").read_text(encoding="utf-8")
    assert "<script" not in feed.lower()


def test_the_markdown_digest_is_safe(web: HostileWeb) -> None:
    markdown = web.digest(".md")
    assert not re.search(r"(?<!\\)<\s*script", markdown, re.IGNORECASE)
    assert not re.search(r"\]\(\s*<?\s*(javascript|data|vbscript):", markdown, re.IGNORECASE)
    assert "\\<script\\>alert(1)\\</script\\>" in markdown  # there, escaped


def test_a_one_megabyte_title_is_stored_and_shown_safely(web: HostileWeb) -> None:
    (big,) = web.articles("title_1mb")
    assert len(big["title"]) <= len(BIG_TITLE)
    assert big["url"].endswith("/big/pt-br.html")
    digest = json.loads(web.digest(".json"))
    shown = [s for s in digest["stories"] if s["url"] == big["url"]]
    assert shown, "the 1 MB-title story did not reach the digest"
    assert "Portugal and Brazil" in shown[0]["summary"]


def test_a_one_megabyte_title_is_clipped(web: HostileWeb) -> None:
    (big,) = web.articles("title_1mb")
    assert len(big["title"]) <= 1000
    assert len(web.digest(".html")) < 256 * 1024


def test_grouping_reads_a_long_title_in_linear_time() -> None:
    copied: list[int] = []

    class Watched(str):
        """Records how many characters each slice of it copies."""

        def __getitem__(self, key: object) -> str:
            piece = str.__getitem__(self, key)  # type: ignore[index]
            if isinstance(key, slice):
                copied.append(len(piece))
            return piece

    title = Watched(BIG_TITLE[: 64 * 1024])
    story = DigestStory(
        url="http://news.example/1",
        title=title,
        source="Hostile",
        language="en",
        published=datetime.now(UTC),
        topics=("film_cooperation",),
        score=1.0,
        aspects=(),
        countries=("PT", "BR"),
        evidence=(),
        summary=PT_BR.paragraphs[0],
    )
    anchors(story)
    # Looking back a few characters per word is linear; copying the prefix is not
    # (11,000 words x 32 KB on average: some 350 million characters for a 64 KB title).
    assert sum(copied) <= 20 * len(title)


# --- private addresses from a source on the internet --------------------------------------------

PUBLIC_HOST = "public-news.test"
RESOLVER = {PUBLIC_HOST: ["93.184.216.34"], "intranet.test": ["10.1.2.3"]}


class ForwardingTransport(httpx.AsyncBaseTransport):
    """Sends every request to the local server as ``/<original host><path>``; records the
    original URLs. The monitor's own private-address check runs before, on the original host."""

    def __init__(self, server: LocalServer) -> None:
        self._server = httpx.URL(server.base_url)
        self._inner = httpx.AsyncHTTPTransport()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(str(request.url))
        target = request.url.copy_with(
            scheme="http",
            host=self._server.host,
            port=self._server.port,
            path=f"/{request.url.host}{request.url.path}",
        )
        forwarded = httpx.Request(
            request.method,
            target,
            headers=request.headers,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(forwarded)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _resolve(host: str) -> list[str]:
    if host in RESOLVER:
        return RESOLVER[host]
    raise OSError(f"{host}: no such host")


async def _extract(body: bytes, url: str, content_type: str | None) -> PageText:
    return extract_page(body, url, content_type)


async def cycle_in_process(sources: list[Source], fetcher: Fetcher, db: Path) -> RunReport:
    """One forced cycle over ``sources`` in this process (pages extracted here too), reading
    robots.txt, stored in a new database at ``db``."""
    with Store(f"sqlite:///{db}") as store:
        return await run_cycle(
            sources,
            store=store,
            fetcher=fetcher,
            tagger=cached_tagger(()),
            extract=_extract,
            timezone=UTC,
            clock=lambda: datetime.now(UTC),
            options=CycleOptions(force=True),
            robots=Robots(fetcher),
        )


@dataclass(frozen=True)
class Link:
    name: str
    url: str
    served_at: str  # the forwarded path on the local server


def private_targets(server: LocalServer) -> list[Link]:
    port = httpx.URL(server.base_url).port
    return [
        Link(
            "loopback", f"http://127.0.0.1:{port}/private/loop.html", "/127.0.0.1/private/loop.html"
        ),
        Link("rfc1918", "http://10.0.0.1/private/internal.html", "/10.0.0.1/private/internal.html"),
        Link(
            "metadata",
            "http://169.254.169.254/latest/meta-data/",
            "/169.254.169.254/latest/meta-data/",
        ),
        Link("ipv6-loopback", "http://[::1]/private/v6.html", "/::1/private/v6.html"),
        Link(
            "mapped",
            "http://[::ffff:10.0.0.7]/private/mapped.html",
            "/::ffff:10.0.0.7/private/mapped.html",
        ),
        Link("name", "http://intranet.test/private/wiki.html", "/intranet.test/private/wiki.html"),
        Link("redirect", f"http://{PUBLIC_HOST}/go/metadata", f"/{PUBLIC_HOST}/go/metadata"),
    ]


def serve_public_source(server: LocalServer) -> list[Link]:
    """A source on ``public-news.test`` whose items link to private addresses, and one public
    page; each item's story has countries of its own."""
    links = private_targets(server)
    stories = {}
    for i, link in enumerate(links):
        story = Story(
            f"p{i}", f"Private link {link.name}", (f"Feed text of the {link.name} item. " * 5,)
        )
        stories[link.name] = story
        if link.name != "redirect":
            server.route(link.served_at, static(page(story.title, GE_FR.paragraphs), "text/html"))
    server.route(
        f"/{PUBLIC_HOST}/go/metadata",
        lambda _r: Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/iam"}),
    )
    server.route(
        "/169.254.169.254/latest/meta-data/iam", static(page("iam", GE_FR.paragraphs), "text/html")
    )
    public = Link(
        "public", f"http://{PUBLIC_HOST}/articles/ok.html", f"/{PUBLIC_HOST}/articles/ok.html"
    )
    server.route(public.served_at, static(page(GE_FR.title, GE_FR.paragraphs), "text/html"))
    items = [
        Story(s.slug, s.title, s.paragraphs, link=link.url)
        for link, s in zip(links, stories.values(), strict=True)
    ] + [Story("ok", GE_FR.title, GE_FR.paragraphs, link=public.url)]
    server.route(
        f"/{PUBLIC_HOST}/rss.xml",
        static(rss("public", f"http://{PUBLIC_HOST}", items), "application/rss+xml"),
    )
    return [*links, public]


def run_private_cycle(
    tmp_path: Path, server: LocalServer, policy: FetchPolicy, *, robots: bool
) -> tuple[dict[str, tuple[str | None, str, str]], list[str]]:
    """One cycle over the public source; {link name: (extract_error, text_origin, text)} and
    the URLs that went out."""
    links = serve_public_source(server)
    source = Source("Public", f"http://{PUBLIC_HOST}/rss.xml", language="en", robots=robots)
    transport = ForwardingTransport(server)

    async def go() -> None:
        async with Fetcher(policy, transport=transport, resolve=_resolve) as fetcher:
            report = await cycle_in_process([source], fetcher, tmp_path / "private.db")
        assert [o.status.value for o in report.outcomes] == ["ok"]

    asyncio.run(go())
    with sqlite3.connect(tmp_path / "private.db") as conn:
        rows = conn.execute("SELECT url, extract_error, text_origin, text FROM articles").fetchall()
    conn.close()
    by_url = {url: (error, origin, text) for url, error, origin, text in rows}
    return {link.name: by_url[str(httpx.URL(link.url))] for link in links}, transport.seen


def test_private_links_from_a_public_source_are_not_followed(
    server: LocalServer, tmp_path: Path
) -> None:
    outcome, seen = run_private_cycle(tmp_path, server, FetchPolicy(**QUICK), robots=False)
    for link in private_targets(server):
        error, origin, text = outcome[link.name]
        assert error == "fetch.private_address", link
        assert origin == "feed_summary" and f"Feed text of the {link.name} item." in text
    assert outcome["public"][:2] == (None, "page")
    # Only the public host was asked for anything; the redirect was not followed.
    assert {httpx.URL(u).host for u in seen} == {PUBLIC_HOST}


def test_with_robots_on_no_request_reaches_a_private_address(
    server: LocalServer, tmp_path: Path
) -> None:
    outcome, seen = run_private_cycle(tmp_path, server, FetchPolicy(**QUICK), robots=True)
    assert {httpx.URL(u).host for u in seen} == {PUBLIC_HOST}  # not even robots.txt
    for link in private_targets(server):
        assert outcome[link.name][1] == "feed_summary"


def test_with_robots_on_a_private_link_is_recorded_as_private(
    server: LocalServer, tmp_path: Path
) -> None:
    outcome, _ = run_private_cycle(tmp_path, server, FetchPolicy(**QUICK), robots=True)
    assert outcome["rfc1918"][0] == "fetch.private_address"


def test_sources_test_reports_a_private_link_as_the_cycle_does(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`monitor sources test` takes the cycle's per-item path: a private link from a public
    source is `fetch.private_address` there too, even with robots.txt consulted."""
    links = {link.url: link.name for link in serve_public_source(server)}
    transport = ForwardingTransport(server)
    monkeypatch.setattr(
        sources_cmd,
        "Fetcher",
        lambda policy: Fetcher(policy, transport=transport, resolve=_resolve),
    )
    config = tmp_path / "sources.yaml"
    config.write_text(
        "fetch:\n  timeout: 3s\n  retries: 0\n  host_interval: 0s\n"
        f"sources:\n  - name: Public\n    url: http://{PUBLIC_HOST}/rss.xml\n",
        encoding="utf-8",
    )
    loaded = load_config(config)
    _, tried = asyncio.run(
        sources_cmd._try(loaded, loaded.sources[0], cached_tagger(()), len(links))
    )
    errors = {links[t.item.url]: t.page_error for t in tried}
    assert errors.pop("public") is None
    assert set(errors.values()) == {"fetch.private_address"}, errors
    assert {httpx.URL(u).host for u in transport.seen} == {PUBLIC_HOST}


def test_private_networks_in_the_configuration_allows_them(
    server: LocalServer, tmp_path: Path
) -> None:
    config = tmp_path / "sources.yaml"
    config.write_text(
        "fetch:\n  private_networks: true\n  timeout: 3s\n  retries: 0\n  host_interval: 0s\n"
        f"sources:\n  - name: Public\n    url: http://{PUBLIC_HOST}/rss.xml\n",
        encoding="utf-8",
    )
    policy = load_config(config).fetch
    assert policy.allow_private
    outcome, seen = run_private_cycle(tmp_path, server, policy, robots=True)
    for link in private_targets(server):
        assert outcome[link.name][:2] == (None, "page"), link
    hosts = {httpx.URL(u).host for u in seen}
    assert {"127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "intranet.test"} <= hosts


# --- the count is real --------------------------------------------------------------------------


def test_every_fault_kind_is_configured_and_checked(web: HostileWeb) -> None:
    configured = [s["name"] for s in web.sources]
    assert len(set(FAULT_KINDS)) == len(FAULT_KINDS) == 29
    assert set(FAULT_KINDS) | set(GOOD) == set(configured)
    assert set(EXPECTED) == set(FAULT_KINDS)
    text = web.config.read_text(encoding="utf-8")
    for kind in FAULT_KINDS:
        assert f"- name: {kind}\n" in text
    print(f"\n{len(FAULT_KINDS)} fault kinds in one sources.yaml with {len(GOOD)} good outlets")
