"""Tests of the fetch stage: unit tests on httpx.MockTransport, then a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from email.utils import formatdate
from urllib.parse import urlsplit

import httpx
import pytest

from monitor import __version__
from monitor.content import FEED_ACCEPT, PAGE_ACCEPT
from monitor.errors import FetchError
from monitor.fetch import Fetcher
from monitor.localserver import LocalServer, Reply, Request, static
from monitor.models import Fetched, Validators
from monitor.settings import FetchPolicy

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
URL = "http://feeds.test/feed.xml"

Handler = Callable[[httpx.Request], httpx.Response]


class Sleeps:
    """A fake ``sleep`` that records the waits instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


class Recorder:
    """Wraps a handler and keeps every request the fetcher sent."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.handler(request)


class Chunks(httpx.AsyncByteStream):
    """A response body that arrives in pieces and counts what was read of it."""

    def __init__(self, *chunks: bytes) -> None:
        self.chunks = chunks
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.read += len(chunk)
            yield chunk


def reply(status: int = 200, body: bytes = b"", **headers: str) -> httpx.Response:
    """A response whose body is streamed, as from the network (not pre-read and decoded)."""
    names = {k.replace("_", "-"): v for k, v in headers.items()}
    return httpx.Response(status, headers=names, stream=httpx.ByteStream(body))


def run_fetch(
    handler: Handler,
    url: str = URL,
    validators: Validators | None = None,
    policy: FetchPolicy | None = None,
    sleeps: Sleeps | None = None,
    accept: str = FEED_ACCEPT,
) -> Fetched:
    async def go() -> Fetched:
        fetcher = Fetcher(
            policy or FetchPolicy(),
            transport=httpx.MockTransport(handler),
            sleep=sleeps or Sleeps(),
            resolve=public_dns,
        )
        async with fetcher:
            return await fetcher.fetch(url, validators, accept=accept)

    return asyncio.run(go())


def fetch_error(
    handler: Handler,
    url: str = URL,
    policy: FetchPolicy | None = None,
    sleeps: Sleeps | None = None,
) -> FetchError:
    with pytest.raises(FetchError) as info:
        run_fetch(handler, url, policy=policy, sleeps=sleeps)
    return info.value


def always(status: int, body: bytes = b"", **headers: str) -> Recorder:
    return Recorder(lambda request: reply(status, body, **headers))


def sequence(*responses: Callable[[], httpx.Response]) -> Recorder:
    """Answers with each response in turn; the last one repeats."""
    it = iter(responses)
    last: list[Callable[[], httpx.Response]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        make = next(it, None)
        if make is not None:
            last[:] = [make]
        return last[0]()

    return Recorder(handle)


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped without ever holding them all."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + packer.flush()


# --- request headers -------------------------------------------------------------------------


def test_conditional_get_sends_validators_user_agent_and_encodings() -> None:
    rec = always(200, FEED)
    validators = Validators(etag='"abc"', last_modified="Tue, 09 Dec 2025 08:00:00 GMT")
    run_fetch(rec, validators=validators)
    headers = rec.requests[0].headers
    assert headers["if-none-match"] == '"abc"'
    assert headers["if-modified-since"] == "Tue, 09 Dec 2025 08:00:00 GMT"
    assert headers["user-agent"].startswith(f"film-coop-monitor/{__version__} ")
    assert headers["accept-encoding"] == "gzip, deflate"
    assert headers["accept"] == FEED_ACCEPT


def test_no_conditional_headers_without_validators_and_page_accept() -> None:
    rec = always(200, b"<html></html>")
    run_fetch(rec, accept=PAGE_ACCEPT)
    headers = rec.requests[0].headers
    assert "if-none-match" not in headers
    assert "if-modified-since" not in headers
    assert headers["accept"] == PAGE_ACCEPT


# --- responses -------------------------------------------------------------------------------


def test_200_returns_body_lower_cased_headers_and_validators() -> None:
    rec = always(
        200, FEED, Content_Type="application/rss+xml", ETag='"v2"', Last_Modified="Wed, 10 Dec"
    )
    got = run_fetch(rec)
    assert got.status == 200
    assert got.body == FEED
    assert got.url == got.final_url == URL
    assert got.headers["content-type"] == "application/rss+xml"
    assert got.etag == '"v2"'
    assert got.last_modified == "Wed, 10 Dec"
    assert not got.not_modified


def test_304_without_validators_carries_the_sent_ones_over() -> None:
    validators = Validators(etag='"abc"', last_modified="Tue, 09 Dec 2025 08:00:00 GMT")
    got = run_fetch(always(304), validators=validators)
    assert got.not_modified
    assert got.body == b""
    assert got.etag == '"abc"'
    assert got.last_modified == "Tue, 09 Dec 2025 08:00:00 GMT"


def test_304_with_new_etag_takes_the_new_one() -> None:
    got = run_fetch(always(304, ETag='"new"'), validators=Validators(etag='"old"'))
    assert got.status == 304
    assert got.etag == '"new"'


def test_response_built_in_memory_is_accepted() -> None:
    # Other stages' tests build responses with content=, which httpx reads at construction.
    got = run_fetch(lambda request: httpx.Response(200, content=FEED))
    assert got.body == FEED


@pytest.mark.parametrize(
    "bad",
    [
        {"per_host": 0},
        {"connections": 0},
        {"total_timeout": 0},
        {"max_body_bytes": 0},
        {"retries": -1},
    ],
)
def test_policy_refuses_values_that_cannot_work(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        FetchPolicy(**bad)  # type: ignore[arg-type]


def test_fetch_outside_context_is_a_programming_error() -> None:
    with pytest.raises(RuntimeError, match="async with"):
        asyncio.run(Fetcher().fetch(URL))


# --- retries ---------------------------------------------------------------------------------


def test_503_retried_after_retry_after_seconds() -> None:
    sleeps = Sleeps()
    rec = sequence(lambda: reply(503, Retry_After="7"), lambda: reply(200, FEED))
    got = run_fetch(rec, sleeps=sleeps)
    assert got.body == FEED
    assert sleeps.waits == [7.0]
    assert len(rec.requests) == 2


def test_503_retried_after_retry_after_http_date() -> None:
    sleeps = Sleeps()
    when = formatdate(time.time() + 60, usegmt=True)
    rec = sequence(lambda: reply(503, Retry_After=when), lambda: reply(200, FEED))
    run_fetch(rec, sleeps=sleeps)
    assert len(sleeps.waits) == 1
    assert 55 <= sleeps.waits[0] <= 61


def test_retry_after_in_the_past_means_now() -> None:
    sleeps = Sleeps()
    when = formatdate(time.time() - 3600, usegmt=True)
    run_fetch(sequence(lambda: reply(503, Retry_After=when), lambda: reply(200)), sleeps=sleeps)
    assert sleeps.waits == [0.0]


@pytest.mark.parametrize("value", [b"soon", b"\xb2", b"-5", b"Wed, 99 Foo 2025"])
def test_unreadable_retry_after_falls_back_to_backoff(value: bytes) -> None:
    sleeps = Sleeps()
    rec = sequence(
        lambda: httpx.Response(503, headers=[(b"Retry-After", value)]),
        lambda: reply(200, FEED),
    )
    run_fetch(rec, sleeps=sleeps, policy=FetchPolicy(backoff=0.25))
    assert sleeps.waits == [0.25]


def test_429_retried_with_backoff() -> None:
    sleeps = Sleeps()
    rec = sequence(lambda: reply(429), lambda: reply(200, FEED))
    assert run_fetch(rec, sleeps=sleeps).body == FEED
    assert sleeps.waits == [1.0]


def test_backoff_doubles_and_exhausted_retries_keep_the_status_code() -> None:
    sleeps = Sleeps()
    rec = always(502)
    err = fetch_error(rec, policy=FetchPolicy(retries=3, backoff=0.5), sleeps=sleeps)
    assert err.code == "fetch.http_502"
    assert URL in err.message
    assert "4 attempts" in err.message
    assert sleeps.waits == [0.5, 1.0, 2.0]
    assert len(rec.requests) == 4


@pytest.mark.parametrize("status", [500, 503, 504])
def test_server_errors_exhausted(status: int) -> None:
    rec = always(status)
    err = fetch_error(rec)
    assert err.code == f"fetch.http_{status}"
    assert len(rec.requests) == 3  # default: two retries


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 501])
def test_other_errors_fail_at_once(status: int) -> None:
    sleeps = Sleeps()
    rec = always(status)
    err = fetch_error(rec, sleeps=sleeps)
    assert err.code == f"fetch.http_{status}"
    assert len(rec.requests) == 1
    assert sleeps.waits == []


def test_retry_after_too_long_fails_at_once() -> None:
    sleeps = Sleeps()
    rec = always(503, Retry_After="3600")
    err = fetch_error(rec, policy=FetchPolicy(max_retry_after=120), sleeps=sleeps)
    assert err.code == "fetch.http_503"
    assert "3600" in err.message
    assert sleeps.waits == []
    assert len(rec.requests) == 1


def _caused(exc: Exception, cause: BaseException) -> Exception:
    """``exc`` as httpx raises it: from the OS error (a DNS or a refusal) underneath."""
    exc.__cause__ = cause
    return exc


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (httpx.ConnectError("refused"), "fetch.connect"),
        (_caused(httpx.ConnectError("no name"), socket.gaierror(-2, "unknown")), "fetch.dns"),
        (
            _caused(httpx.ConnectError("refused"), ConnectionRefusedError(111, "no")),
            "fetch.refused",
        ),
        (httpx.ConnectTimeout("slow"), "fetch.timeout"),
        (httpx.ReadTimeout("slow"), "fetch.timeout"),
        (httpx.ReadError("reset"), "fetch.network"),
        (httpx.RemoteProtocolError("cut"), "fetch.network"),
    ],
)
def test_transport_failures_are_retried_then_coded(exc: Exception, code: str) -> None:
    sleeps = Sleeps()

    def fail(request: httpx.Request) -> httpx.Response:
        raise exc

    rec = Recorder(fail)
    err = fetch_error(rec, sleeps=sleeps)
    assert err.code == code
    assert len(rec.requests) == 3
    assert sleeps.waits == [1.0, 2.0]


def test_transport_failure_then_success() -> None:
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        return reply(200, FEED)

    assert run_fetch(flaky).body == FEED


# --- redirects -------------------------------------------------------------------------------


def test_redirect_resolves_relative_location_and_reports_final_url() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old/feed":
            return reply(301, Location="../new/feed.xml")
        if request.url.path == "/new/feed.xml":
            return reply(307, Location="https://cdn.test/feed.xml")
        return reply(200, FEED)

    rec = Recorder(handle)
    got = run_fetch(rec, url="http://feeds.test/old/feed")
    assert got.url == "http://feeds.test/old/feed"
    assert got.final_url == "https://cdn.test/feed.xml"
    assert [str(r.url) for r in rec.requests] == [
        "http://feeds.test/old/feed",
        "http://feeds.test/new/feed.xml",
        "https://cdn.test/feed.xml",
    ]


def chain(length: int) -> Recorder:
    """/0 -> /1 -> ... -> /length, which answers 200."""

    def handle(request: httpx.Request) -> httpx.Response:
        step = int(request.url.path.strip("/"))
        if step < length:
            return reply(302, Location=f"/{step + 1}")
        return reply(200, FEED)

    return Recorder(handle)


def test_redirects_up_to_the_cap_are_followed() -> None:
    got = run_fetch(chain(3), url="http://feeds.test/0", policy=FetchPolicy(max_redirects=3))
    assert got.final_url == "http://feeds.test/3"


def test_redirects_over_the_cap_fail() -> None:
    rec = chain(4)
    err = fetch_error(rec, url="http://feeds.test/0", policy=FetchPolicy(max_redirects=3))
    assert err.code == "fetch.too_many_redirects"
    assert len(rec.requests) == 4


def test_redirect_loop_ends_at_the_cap() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        other = "/b" if request.url.path == "/a" else "/a"
        return reply(308, Location=other)

    rec = Recorder(handle)
    err = fetch_error(rec, url="http://feeds.test/a")
    assert err.code == "fetch.too_many_redirects"
    assert len(rec.requests) == FetchPolicy().max_redirects + 1


@pytest.mark.parametrize(
    "location", ["file:///etc/passwd", "ftp://feeds.test/feed.xml", "javascript:alert(1)"]
)
def test_redirect_to_other_scheme_refused(location: str) -> None:
    rec = always(302, Location=location)
    err = fetch_error(rec)
    assert err.code == "fetch.bad_redirect"
    assert len(rec.requests) == 1


def test_redirect_without_location_refused() -> None:
    assert fetch_error(always(301)).code == "fetch.bad_redirect"


@pytest.mark.parametrize("location", ["http://[::1", "http://feeds.test:99999/x", "https://"])
def test_redirect_to_malformed_url_refused_not_retried(location: str) -> None:
    rec = always(302, Location=location)
    err = fetch_error(rec)
    assert err.code == "fetch.bad_redirect"
    assert len(rec.requests) == 1


def test_redirect_with_scheme_but_relative_path_is_resolved() -> None:
    # httpx's own redirect builder raises InvalidURL on this; urljoin reads it as relative.
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/feed.xml":
            return reply(302, Location="http:moved.xml")
        return reply(200, FEED)

    assert run_fetch(handle).final_url == "http://feeds.test/moved.xml"


# --- URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["ftp://feeds.test/feed.xml", "file:///etc/passwd", "mailto:desk@feeds.test"]
)
def test_non_http_scheme_refused(url: str) -> None:
    rec = always(200)
    err = fetch_error(rec, url=url)
    assert err.code == "fetch.bad_scheme"
    assert rec.requests == []


@pytest.mark.parametrize(
    "url", ["http://", "not a url", "http://[::1", "http://feeds.test:99999/", "http://a b.test/"]
)
def test_malformed_url_refused(url: str) -> None:
    rec = always(200)
    err = fetch_error(rec, url=url)
    assert err.code == "fetch.bad_url"
    assert rec.requests == []


# --- body size and encodings -----------------------------------------------------------------


def test_content_length_over_cap_fails_without_reading() -> None:
    body = Chunks(b"x" * 100, b"y" * 100)

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": str(10**9)}, stream=body)

    err = fetch_error(handle, policy=FetchPolicy(max_body_bytes=1000))
    assert err.code == "fetch.too_large"
    assert body.read == 0


def test_odd_content_length_is_ignored_and_the_body_still_capped() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=[(b"Content-Length", b"\xb2")], stream=Chunks(FEED))

    assert run_fetch(handle).body == FEED


def test_streamed_body_over_cap_fails() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Chunks(*[b"x" * 400] * 10))

    err = fetch_error(handle, policy=FetchPolicy(max_body_bytes=1000))
    assert err.code == "fetch.too_large"


def test_gzip_bomb_fails_while_holding_about_the_cap() -> None:
    cap = 1024 * 1024
    bomb = gzip_bomb(100 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    rec = always(200, bomb, Content_Encoding="gzip", Content_Length=str(len(bomb)))
    tracemalloc.start()
    try:
        err = fetch_error(rec, policy=FetchPolicy(max_body_bytes=cap))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert err.code == "fetch.too_large"
    assert peak < 4 * cap


def test_decompressed_body_at_the_cap_is_fine() -> None:
    data = b"a" * 5000
    got = run_fetch(
        always(200, gzip.compress(data), Content_Encoding="gzip"),
        policy=FetchPolicy(max_body_bytes=5000),
    )
    assert got.body == data


@pytest.mark.parametrize(
    ("coding", "pack"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib wrapper
    ],
)
def test_compressed_bodies_decoded(coding: str, pack: Callable[[bytes], bytes]) -> None:
    data = FEED * 200
    got = run_fetch(always(200, pack(data), Content_Encoding=coding))
    assert got.body == data
    assert "content-encoding" not in got.headers


def test_gzip_in_one_byte_pieces_and_concatenated_members() -> None:
    packed = gzip.compress(b"first ") + gzip.compress(b"second")

    def handle(request: httpx.Request) -> httpx.Response:
        pieces = [packed[i : i + 1] for i in range(len(packed))]
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=Chunks(*pieces))

    assert run_fetch(handle).body == b"first second"


def test_identity_encoding_is_plain() -> None:
    assert run_fetch(always(200, FEED, Content_Encoding="identity")).body == FEED


def test_corrupt_gzip_is_a_decode_error() -> None:
    packed = bytearray(gzip.compress(FEED * 50))
    packed[20:40] = b"\xff" * 20
    err = fetch_error(always(200, bytes(packed), Content_Encoding="gzip"))
    assert err.code == "fetch.decode"
    assert "gzip" in err.message


def test_not_gzip_at_all_is_a_decode_error() -> None:
    assert fetch_error(always(200, FEED, Content_Encoding="gzip")).code == "fetch.decode"


def test_truncated_gzip_is_a_decode_error() -> None:
    packed = gzip.compress(FEED * 50)
    err = fetch_error(always(200, packed[: len(packed) // 2], Content_Encoding="gzip"))
    assert err.code == "fetch.decode"


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, br"])
def test_unknown_encoding_is_a_decode_error(coding: str) -> None:
    assert fetch_error(always(200, FEED, Content_Encoding=coding)).code == "fetch.decode"


# --- private, loopback and link-local addresses ---------------------------------------------

PRIVATE_NAMES = {"intranet.example": ["10.1.2.3"], "printer.example": ["fe80::1%eth0"]}


async def public_dns(host: str) -> list[str]:
    """Test names resolve to a public documentation address unless listed as private."""
    return PRIVATE_NAMES.get(host, ["93.184.216.34"])


def redirect_to(target: str) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "feeds.test":
            return httpx.Response(302, headers={"Location": target})
        return httpx.Response(200, content=FEED)

    return handle


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1/admin",
        "http://10.0.0.8/feed",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://intranet.example/feed",  # a name that resolves to a private address
        "http://printer.example/",
        "http://0.0.0.0/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused(target: str) -> None:
    err = fetch_error(redirect_to(target), url="http://feeds.test/rss")
    assert err.code == "fetch.private_address"
    assert "private_networks" in err.message


def test_private_addresses_allowed_for_a_private_source_or_by_policy() -> None:
    async def go(policy: FetchPolicy, private_ok: bool) -> Fetched:
        fetcher = Fetcher(
            policy, transport=httpx.MockTransport(redirect_to("http://10.0.0.8/feed")),
            resolve=public_dns,
        )  # fmt: skip
        async with fetcher:
            return await fetcher.fetch("http://feeds.test/rss", private_ok=private_ok)

    assert asyncio.run(go(FetchPolicy(), private_ok=True)).final_url == "http://10.0.0.8/feed"
    allowed = FetchPolicy(allow_private=True)
    assert asyncio.run(go(allowed, private_ok=False)).final_url == "http://10.0.0.8/feed"


def test_a_public_name_and_an_unresolvable_one_are_not_private() -> None:
    async def go() -> tuple[bool, bool, bool]:
        async def resolve(host: str) -> list[str]:
            if host == "nowhere.example":
                raise OSError("no such host")
            return await public_dns(host)

        async with Fetcher(resolve=resolve) as fetcher:
            return (
                await fetcher.is_private("https://news.example/rss"),
                await fetcher.is_private("https://nowhere.example/rss"),
                await fetcher.is_private("http://127.0.0.1:8080/rss"),
            )

    assert asyncio.run(go()) == (False, False, True)


# --- against a real server on 127.0.0.1 ------------------------------------------------------

QUICK = FetchPolicy(connect_timeout=1.0, total_timeout=1.0, retries=0, allow_private=True)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as local:
        yield local


def fetch_real(url: str, validators: Validators | None = None) -> Fetched:
    async def go() -> Fetched:
        async with Fetcher(QUICK) as fetcher:
            return await fetcher.fetch(url, validators)

    return asyncio.run(go())


def real_error(url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch_real(url)
    return info.value


def test_real_stalled_server_times_out(server: LocalServer) -> None:
    server.route("/stall", lambda request: Reply(delay=30))
    started = time.monotonic()
    err = real_error(server.url("/stall"))
    assert err.code == "fetch.timeout"
    assert time.monotonic() - started < 10  # not the server's 30 s


def test_real_dripping_server_times_out_on_the_total(server: LocalServer) -> None:
    # Each byte comes well within httpx's per-read timeout; only the total bound stops it.
    server.route("/drip", lambda request: Reply(chunks=[b"x"] * 100, chunk_delay=0.2))
    started = time.monotonic()
    err = real_error(server.url("/drip"))
    assert err.code == "fetch.timeout"
    assert "within 1 s" in err.message
    assert time.monotonic() - started < 10


def test_real_reset_mid_body_is_a_network_error_and_retried(server: LocalServer) -> None:
    server.route("/cut", lambda request: Reply(body=b"x" * 10_000, close_after=100))

    async def go() -> None:
        policy = FetchPolicy(total_timeout=2.0, retries=1, allow_private=True)
        async with Fetcher(policy, sleep=Sleeps()) as fetcher:
            await fetcher.fetch(server.url("/cut"))

    with pytest.raises(FetchError) as info:
        asyncio.run(go())
    assert info.value.code == "fetch.network"
    assert server.hits("/cut") == 2


def test_real_etag_round_trip(server: LocalServer) -> None:
    server.route("/feed.xml", static(FEED, etag='"v1"', last_modified=1_765_267_200))
    first = fetch_real(server.url("/feed.xml"))
    assert first.status == 200
    assert first.body == FEED
    assert first.etag == '"v1"'
    assert first.headers["content-type"] == "application/xml; charset=utf-8"
    assert first.last_modified == "Tue, 09 Dec 2025 08:00:00 GMT"

    validators = Validators(etag=first.etag, last_modified=first.last_modified)
    second = fetch_real(server.url("/feed.xml"), validators)
    assert second.status == 304
    assert second.body == b""
    assert second.etag == '"v1"'
    assert server.requests[-1].headers["if-none-match"] == '"v1"'


def test_real_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    err = real_error(f"http://127.0.0.1:{port}/feed.xml")
    assert err.code == "fetch.refused"
    assert str(port) in err.message and "connection refused" in err.message


def test_real_tls_handshake_with_a_plain_server(server: LocalServer) -> None:
    err = real_error(server.url("/feed.xml").replace("http://", "https://"))
    assert err.code == "fetch.tls"


def test_real_gzip_response_decoded(server: LocalServer) -> None:
    data = FEED * 300
    packed = gzip.compress(data)
    server.route(
        "/gz",
        lambda request: Reply(body=packed, headers={"Content-Encoding": "gzip"}),
    )
    got = fetch_real(server.url("/gz"))
    assert got.body == data
    assert "content-encoding" not in got.headers
    assert server.requests[-1].headers["accept-encoding"] == "gzip, deflate"


def test_real_redirect_followed(server: LocalServer) -> None:
    server.route("/old", lambda request: Reply(301, headers={"Location": "/new"}))
    server.route("/new", static(FEED))
    got = fetch_real(server.url("/old"))
    assert got.final_url == server.url("/new")
    assert got.body == FEED


class Concurrency:
    """A route handler that holds each request a while and records the most seen at once."""

    def __init__(self, hold: float = 0.3) -> None:
        self.hold = hold
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.done = threading.Event()  # never set: waiting on it is a bounded pause

    def __call__(self, request: Request) -> Reply:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.done.wait(self.hold)
        finally:
            with self.lock:
                self.active -= 1
        return Reply(body=FEED)


def gather_fetches(urls: list[str], policy: FetchPolicy) -> list[Fetched]:
    async def go() -> list[Fetched]:
        async with Fetcher(policy) as fetcher:
            return list(await asyncio.gather(*(fetcher.fetch(u) for u in urls)))

    return asyncio.run(go())


def test_real_per_host_bound(server: LocalServer) -> None:
    seen = Concurrency()
    server.route("/slow", seen)
    results = gather_fetches(
        [server.url("/slow")] * 6, FetchPolicy(per_host=2, retries=0, allow_private=True)
    )
    assert [r.body for r in results] == [FEED] * 6
    assert seen.peak == 2
    assert server.hits("/slow") == 6


def test_real_bound_is_per_host_and_port(server: LocalServer) -> None:
    seen = Concurrency()
    with LocalServer() as other:
        for s in (server, other):
            s.route("/slow", seen)
        urls = [server.url("/slow"), other.url("/slow")] * 2
        results = gather_fetches(urls, FetchPolicy(per_host=1, retries=0, allow_private=True))
    assert len(results) == 4
    assert seen.peak == 2  # one per port, both at once


def test_real_bound_over_all_hosts(server: LocalServer) -> None:
    seen = Concurrency()
    with LocalServer() as second, LocalServer() as third:
        for s in (server, second, third):
            s.route("/slow", seen)
        urls = [s.url("/slow") for s in (server, second, third)] * 2
        policy = FetchPolicy(per_host=2, connections=3, retries=0, allow_private=True)
        results = gather_fetches(urls, policy)
    assert [r.body for r in results] == [FEED] * 6
    assert seen.peak == 3  # six allowed by per_host, three by connections


def test_host_interval_holds_while_waiting_for_a_connection(server: LocalServer) -> None:
    starts: dict[str, list[float]] = {}

    def record(request: Request) -> Reply:
        starts.setdefault(request.headers["host"], []).append(time.monotonic())
        return Reply(body=FEED)

    with LocalServer() as other:
        for s in (server, other):
            s.route("/feed", record)
        urls = [server.url("/feed"), server.url("/feed"), other.url("/feed")]
        policy = FetchPolicy(connections=1, host_interval=0.4, retries=0, allow_private=True)
        gather_fetches(urls, policy)
    first, second = starts[urlsplit(server.url("/")).netloc]
    (alone,) = starts[urlsplit(other.url("/")).netloc]
    assert second - first >= 0.35  # the wait for the one connection did not shorten the gap
    assert alone < second  # the other host did not wait for this host's turn
