"""Fetch stage: one HTTP GET with the limits a long-running monitor needs.

``Fetcher.fetch`` sends a conditional GET, follows redirects itself, bounds concurrency per host,
bounds each attempt's total time, caps the body before and after decompression, and retries
temporary failures with back-off. Every failure is a ``FetchError`` with a stable code::

    fetch.bad_url  fetch.bad_scheme  fetch.bad_redirect  fetch.too_many_redirects
    fetch.timeout  fetch.dns  fetch.refused  fetch.tls  fetch.connect  fetch.network
    fetch.too_large  fetch.decode  fetch.http_<status>  fetch.private_address

A connection that fails says why where it can (``fetch.dns``: the name does not resolve,
``fetch.refused``, ``fetch.tls``: the certificate or handshake), ``fetch.connect`` otherwise: a
digest tells "this machine is offline" from "one site is down" by them.

Private, loopback and link-local addresses are refused unless the caller allows them
(``private_ok``: the source itself lives on such an address) or the policy does
(``allow_private``): a feed on the internet must not make the monitor request the machines of
the network it runs in.

No httpx object leaves this module: callers get a ``Fetched``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import NoReturn

import httpx

from monitor.codes import http_code
from monitor.content import FEED_ACCEPT
from monitor.errors import FetchError
from monitor.models import Fetched, Validators
from monitor.settings import FetchPolicy

__all__ = ["Fetcher"]

log = logging.getLogger(__name__)

# Only what _BodyReader decodes; left to itself httpx would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_STEP = 64 * 1024  # most output one zlib call may produce

HostKey = tuple[str, str, int]
KEEP_ALIVE = 20  # idle connections kept open for the next request to their host


class _Redirect(Exception):
    """Raised from the response hook so that httpx never builds a redirect request itself."""

    def __init__(self, target: httpx.URL) -> None:
        super().__init__(str(target))
        self.target = target


class _Temporary(Exception):
    """An attempt failed in a way that another attempt may not."""

    def __init__(self, error: FetchError, retry_after: float | None = None) -> None:
        super().__init__(error.code)
        self.error = error
        self.retry_after = retry_after


class Fetcher:
    """``async with Fetcher(policy) as fetcher: fetched = await fetcher.fetch(url, validators)``.

    ``transport`` replaces the network (``httpx.MockTransport`` in unit tests); ``sleep`` is how
    the fetcher waits between attempts, so tests can record waits instead of waiting.
    """

    def __init__(
        self,
        policy: FetchPolicy = FetchPolicy(),  # frozen, so one shared default is safe
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        resolve: Callable[[str], Awaitable[list[str]]] | None = None,
    ) -> None:
        self.policy = policy
        self._transport = transport
        self._sleep = sleep
        self._resolve = resolve or _resolve
        self._resolved: dict[str, list[str]] = {}
        self._client: httpx.AsyncClient | None = None
        self._host_slots: dict[HostKey, asyncio.Semaphore] = {}
        self._host_last: dict[HostKey, float] = {}  # loop time of each host's last request
        self._host_turn: dict[HostKey, float] = {}  # loop time of each host's next free turn
        self._in_flight = asyncio.Semaphore(policy.connections)

    async def __aenter__(self) -> Fetcher:
        p = self.policy
        self._client = httpx.AsyncClient(
            transport=self._transport,
            follow_redirects=False,
            # read/write/pool get the total as a backstop; asyncio.timeout enforces the total.
            timeout=httpx.Timeout(p.total_timeout, connect=p.connect_timeout),
            # httpcore checks every pooled connection on every request: keeping more than ~20
            # alive cost more CPU than the connections they saved (bench/README.md, finding B).
            limits=httpx.Limits(
                max_connections=p.connections, max_keepalive_connections=KEEP_ALIVE
            ),
            headers={"User-Agent": p.user_agent, "Accept-Encoding": ACCEPT_ENCODING},
            event_hooks={"response": [_stop_at_redirect]},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    async def fetch(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        accept: str = FEED_ACCEPT,
        private_ok: bool = False,
    ) -> Fetched:
        """GET ``url``; 2xx gives the body, 304 an empty body with the validators carried over.
        ``private_ok`` allows private, loopback and link-local addresses (see the module)."""
        if self._client is None:
            raise RuntimeError("use the Fetcher as 'async with Fetcher(...) as fetcher'")
        start = _check_url(url)
        private_ok = private_ok or self.policy.allow_private
        headers = {"Accept": accept}
        if validators is not None and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators is not None and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified

        attempt = 0
        while True:
            try:
                return await self._follow(self._client, url, start, headers, validators, private_ok)
            except _Temporary as temporary:
                error = temporary.error
                if attempt >= self.policy.retries:
                    if attempt:
                        raise FetchError(
                            error.code,
                            f"{error.message} (gave up after {attempt + 1} attempts)",
                            status=error.status,
                        ) from None
                    raise error from None
                wait = temporary.retry_after
                if wait is None:
                    wait = self.policy.backoff * 2**attempt
                elif wait > self.policy.max_retry_after:
                    raise FetchError(
                        error.code,
                        f"{error.message}; server asks to retry after {wait:.0f} s, more than "
                        f"the {self.policy.max_retry_after:.0f} s we wait",
                        status=error.status,
                    ) from None
                attempt += 1
                log.debug("%s: %s; retry %d in %.1f s", url, error.code, attempt, wait)
                await self._sleep(wait)

    async def _follow(
        self,
        client: httpx.AsyncClient,
        url: str,
        start: httpx.URL,
        headers: Mapping[str, str],
        validators: Validators | None,
        private_ok: bool,
    ) -> Fetched:
        """One attempt: the redirect chain from ``start`` to a final response."""
        current = start
        redirects = 0
        while True:
            if not private_ok and await self.is_private(current):
                raise FetchError(
                    "fetch.private_address",
                    f"{current}: {current.host} is a private, loopback or link-local address; "
                    "not followed from a source on the internet (fetch.private_networks: true "
                    "allows it)",
                )
            async with self._slot(current), self._turn(current):
                try:
                    # Waiting for a slot is not the server's fault, so the clock starts here.
                    async with asyncio.timeout(self.policy.total_timeout):
                        result = await self._exchange(client, current, headers)
                except TimeoutError:
                    raise _Temporary(
                        FetchError(
                            "fetch.timeout",
                            f"{current}: no complete response within "
                            f"{self.policy.total_timeout:g} s",
                        )
                    ) from None
            if isinstance(result, httpx.URL):
                redirects += 1
                if redirects > self.policy.max_redirects:
                    raise FetchError(
                        "fetch.too_many_redirects",
                        f"{url}: more than {self.policy.max_redirects} redirects "
                        f"(last to {result})",
                    )
                log.debug("%s: redirected to %s", current, result)
                current = result
                continue
            status, response_headers, body = result
            etag = response_headers.get("etag")
            last_modified = response_headers.get("last-modified")
            if status == 304 and validators is not None:
                # A 304 may omit the validators; the ones we sent still hold.
                etag = etag or validators.etag
                last_modified = last_modified or validators.last_modified
            return Fetched(
                url=url,
                final_url=str(current),
                status=status,
                headers=response_headers,
                body=body,
                etag=etag,
                last_modified=last_modified,
            )

    async def _exchange(
        self, client: httpx.AsyncClient, url: httpx.URL, headers: Mapping[str, str]
    ) -> httpx.URL | tuple[int, dict[str, str], bytes]:
        """One request: the redirect target, or (status, headers, body) of a 2xx/304 response."""
        try:
            request = client.build_request("GET", url, headers=headers)
            response = await client.send(request, stream=True)
            try:
                return await self._read(url, response)
            finally:
                await response.aclose()
        except _Redirect as redirect:
            return redirect.target
        except httpx.TimeoutException as exc:
            raise _Temporary(
                FetchError("fetch.timeout", f"{url}: timed out ({_describe(exc)})")
            ) from None
        except httpx.ConnectError as exc:
            code, what = _connect_failure(exc)
            raise _Temporary(FetchError(code, f"{url}: {what} ({_describe(exc)})")) from None
        except (httpx.NetworkError, httpx.ProtocolError) as exc:
            raise _Temporary(
                FetchError("fetch.network", f"{url}: connection failed ({_describe(exc)})")
            ) from None
        except httpx.InvalidURL as exc:
            raise FetchError("fetch.bad_url", f"{url}: {exc}") from None
        except httpx.HTTPError as exc:  # proxy and protocol oddities: still the network's fault
            raise FetchError("fetch.network", f"{url}: {_describe(exc)}") from None

    async def _read(
        self, url: httpx.URL, response: httpx.Response
    ) -> tuple[int, dict[str, str], bytes]:
        status = response.status_code
        headers = dict(response.headers.items())  # names already lower-cased, repeats joined
        if status == 304:
            return status, headers, b""
        if not 200 <= status < 300:
            error = FetchError(
                http_code(status),
                f"{url}: server answered {status} {response.reason_phrase}",
                status=status,
            )
            if status in _RETRY_STATUSES:
                raise _Temporary(error, _retry_after(headers.get("retry-after")))
            raise error

        limit = self.policy.max_body_bytes
        length = _digits(headers.get("content-length"))
        if length is not None and length > limit:
            raise FetchError(
                "fetch.too_large", f"{url}: body of {length} bytes is over the {limit} cap"
            )
        if response.is_stream_consumed:
            # Only a Response built in memory (MockTransport) arrives read and already decoded.
            body = response.content
            if len(body) > limit:
                raise FetchError("fetch.too_large", f"{url}: body is over the {limit}-byte cap")
        else:
            reader = _BodyReader(str(url), headers.get("content-encoding", ""), limit)
            async for chunk in response.aiter_raw():
                reader.feed(chunk)
            body = reader.finish()
        if headers.pop("content-encoding", None) is not None:
            headers.pop("content-length", None)  # they described the bytes on the wire
        return status, headers, body

    async def is_private(self, url: str | httpx.URL) -> bool:
        """Whether ``url``'s host is, or resolves to, a private, loopback, link-local or other
        non-public address. A name that does not resolve is not private: its fetch will fail
        on its own. (The address is checked before the request, not at connection time: a DNS
        answer that changes in between is not caught.)"""
        host = (url if isinstance(url, httpx.URL) else httpx.URL(url)).host
        addresses = [host] if _ip(host) else None
        if addresses is None:
            if host not in self._resolved:
                try:
                    self._resolved[host] = await self._resolve(host)
                except OSError:
                    self._resolved[host] = []
            addresses = self._resolved[host]
        return any(_not_public(a) for a in addresses)

    async def take_turn(self, url: str) -> None:
        """Wait until ``url``'s host may be asked again, before taking any scarce resource for
        the request (the pipeline's page slots): a request waiting for its host's turn while
        holding a slot keeps other hosts' pages waiting. Turns are handed out
        ``host_interval`` apart; the fetch itself still keeps the interval between actual
        starts."""
        interval = self.policy.host_interval
        if interval <= 0:
            return
        try:
            key = _host_key(httpx.URL(url))
        except (httpx.InvalidURL, TypeError, ValueError):
            return  # the fetch reports the bad URL
        now = asyncio.get_running_loop().time()
        turn = max(now, self._host_turn.get(key, now))
        self._host_turn[key] = turn + interval
        if turn > now:
            await asyncio.sleep(turn - now)

    @asynccontextmanager
    async def _turn(self, url: httpx.URL) -> AsyncIterator[None]:
        """Hold one of the ``connections`` in-flight places for a request whose host's turn has
        come. ``host_interval`` is kept between the starts of requests to one host (politeness
        towards small outlets, whatever the concurrency allows), measured from the last actual
        start after every wait, so that neither a stalled event loop nor a wait for a place
        can release two requests to one host at once. A request waiting for its host's turn
        holds no place: other hosts go first."""
        interval = self.policy.host_interval
        key = _host_key(url)
        loop = asyncio.get_running_loop()
        while True:
            last = self._host_last.get(key)
            if interval > 0 and last is not None and loop.time() - last < interval:
                await asyncio.sleep(last + interval - loop.time())
                continue
            await self._in_flight.acquire()
            last = self._host_last.get(key)
            now = loop.time()
            if interval <= 0 or last is None or now - last >= interval:
                break
            self._in_flight.release()  # another request to the host started meanwhile
        self._host_last[key] = now
        try:
            yield
        finally:
            self._in_flight.release()

    def _slot(self, url: httpx.URL) -> asyncio.Semaphore:
        key = _host_key(url)
        slot = self._host_slots.get(key)
        if slot is None:
            slot = self._host_slots[key] = asyncio.Semaphore(self.policy.per_host)
        return slot


class _BodyReader:
    """Collects a body, inflating gzip/deflate in bounded steps so a bomb stops at the cap."""

    def __init__(self, url: str, content_encoding: str, limit: int) -> None:
        self._url = url
        self._limit = limit
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(
                "fetch.decode", f"{url}: unsupported Content-Encoding {content_encoding!r}"
            )
        self._coding = "gzip" if codings and codings[0] == "x-gzip" else (codings or [""])[0]
        self._raw = 0
        self._body = bytearray()
        self._inflater: zlib._Decompress | None = None
        self._members = 0  # complete compressed streams seen
        self._pending = b""  # input not yet handed to an inflater
        self._trailer = False  # past the last member: ignore what follows

    def feed(self, data: bytes) -> None:
        self._raw += len(data)
        if self._raw > self._limit:
            self._too_large()
        if not self._coding:
            self._body += data
        elif not self._trailer:
            self._pending += data
            self._pump()

    def finish(self) -> bytes:
        if self._coding and (self._inflater is not None or (self._pending and not self._members)):
            raise FetchError("fetch.decode", f"{self._url}: {self._coding} body ends early")
        return bytes(self._body)

    def _pump(self) -> None:
        while self._pending:
            if self._inflater is None:
                if len(self._pending) < 2:
                    return  # both header bytes are needed to choose
                self._inflater = self._next_inflater(self._pending[:2])
                if self._inflater is None:
                    self._trailer = True
                    self._pending = b""
                    return
            data, self._pending = self._pending, b""
            self._inflate(data)

    def _next_inflater(self, head: bytes) -> zlib._Decompress | None:
        if self._coding == "gzip":
            # Concatenated gzip members are valid; anything else after the first is padding.
            if self._members and head != _GZIP_MAGIC:
                return None
            return zlib.decompressobj(wbits=47)
        if self._members:
            return None
        # "deflate" should be zlib-wrapped, but some servers send raw deflate.
        try:
            zlib.decompressobj(wbits=15).decompress(head)
        except zlib.error:
            return zlib.decompressobj(wbits=-15)
        return zlib.decompressobj(wbits=15)

    def _inflate(self, data: bytes) -> None:
        inflater = self._inflater
        assert inflater is not None
        while True:
            # max_length=0 would mean "no limit", so always ask for at least one byte.
            step = min(_INFLATE_STEP, self._limit - len(self._body) + 1)
            try:
                out = inflater.decompress(data, step)
            except zlib.error as exc:
                raise FetchError(
                    "fetch.decode", f"{self._url}: corrupt {self._coding} body ({exc})"
                ) from None
            self._body += out
            if len(self._body) > self._limit:
                self._too_large()
            if inflater.eof:
                self._members += 1
                self._inflater = None
                self._pending = inflater.unused_data
                return
            data = inflater.unconsumed_tail
            if not data and len(out) < step:
                return

    def _too_large(self) -> NoReturn:
        raise FetchError("fetch.too_large", f"{self._url}: body is over the {self._limit}-byte cap")


async def _resolve(host: str) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _not_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0].strip("[]"))
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _host_key(url: httpx.URL) -> HostKey:
    return (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))


def _check_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError("fetch.bad_url", f"{url!r} is not a valid URL ({exc})") from None
    if not parsed.scheme:
        raise FetchError("fetch.bad_url", f"{url!r} is not an absolute URL")
    if parsed.scheme not in ("http", "https"):
        raise FetchError("fetch.bad_scheme", f"{url!r}: only http and https can be fetched")
    problem = _address_problem(parsed)
    if problem:
        raise FetchError("fetch.bad_url", f"{url!r} {problem}")
    return parsed


def _address_problem(url: httpx.URL) -> str | None:
    """What httpx accepts but no connection can use."""
    if not url.host:
        return "has no host"
    if "%" in url.host:  # httpx percent-encodes spaces and the like instead of refusing them
        return "has an invalid host name"
    if url.port is not None and not 0 < url.port < 65536:
        return "has an invalid port"
    return None


async def _stop_at_redirect(response: httpx.Response) -> None:
    # Even with follow_redirects=False, httpx.AsyncClient.send builds the next request from
    # Location and raises InvalidURL or RemoteProtocolError on one it dislikes (javascript:,
    # "http:foo"), which would look like a network failure. Hooks run before that step.
    if response.status_code in _REDIRECTS:
        raise _Redirect(_redirect_target(response.request.url, response.headers.get("location")))


def _redirect_target(current: httpx.URL, location: str | None) -> httpx.URL:
    if not location or not location.strip():
        raise FetchError("fetch.bad_redirect", f"{current}: redirect without a Location")
    try:
        target = current.join(location.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError(
            "fetch.bad_redirect", f"{current}: redirect to invalid URL {location!r} ({exc})"
        ) from None
    if target.scheme not in ("http", "https"):
        raise FetchError(
            "fetch.bad_redirect", f"{current}: refusing redirect to {location!r} (not http/https)"
        )
    problem = _address_problem(target)
    if problem:
        raise FetchError("fetch.bad_redirect", f"{current}: redirect to {location!r} {problem}")
    return target


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), None if unusable."""
    if not value:
        return None
    seconds = _digits(value)
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP-dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def _digits(value: str | None) -> int | None:
    """A non-negative decimal header value (str.isdigit alone accepts "²", which int refuses)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def _connect_failure(exc: BaseException) -> tuple[str, str]:
    """The code and words for a failed connection, from the OS error under httpx's."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "fetch.dns", "the host name does not resolve"
        if isinstance(seen, ConnectionRefusedError):
            return "fetch.refused", "connection refused"
        if isinstance(seen, ssl.SSLError):
            return "fetch.tls", "TLS handshake failed"
        seen = seen.__cause__ or seen.__context__
    return "fetch.connect", "cannot connect"


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
